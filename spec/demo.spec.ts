// `npm start` runs the demo: it must finish by itself and print its report.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url);

describe('the demo', function () {
  this.timeout(60_000);

  it('processes its generated documents and prints results and a latency report', async () => {
    const demo = new URL('dist/examples/demo.js', root).pathname;
    const { stdout } = await run(process.execPath, [demo], { cwd: root.pathname, env: { ...process.env, DEMO_DOCS: '300' }, timeout: 50_000 });
    const kept = /kept (\d+) of (\d+)/.exec(stdout);
    expect(kept, stdout).to.not.equal(null);
    expect(Number(kept![2])).to.equal(300);
    expect(Number(kept![1])).to.be.within(1, 299);
    expect(stdout).to.match(/latency per item: avg [\d.]+ ms, p50/);
    for (const name of ['countWords', 'fingerprint', 'keepHighScores']) expect(stdout).to.include(name);
  });
});
