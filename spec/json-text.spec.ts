// Stages that take and give JSON text (`json: true`): the text is parsed
// where the function runs and the result is stringified there, so records
// cross the thread boundary as strings.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { StageError, createPipeline, stage } from 'async-task-pipeline';
import { Collector, rejectionOf, runThrough } from './helpers.js';

describe('json: true', () => {
  it('hands the function the parsed value and passes its result on as JSON text', async () => {
    const out = await runThrough(stage((r: { n: number }) => ({ n: r.n * 2, type: typeof r }), { json: true }), ['{"n":1}', '{"n":2}']);
    expect(out).to.deep.equal(['{"n":2,"type":"object"}', '{"n":4,"type":"object"}']);
  });

  it('drops JSON null and gives each value a generator yields as its own line of text', async () => {
    const s = stage(function* (r: { n: number }) { yield r.n; yield [r.n, 'x']; }, { json: true });
    expect(await runThrough(s, ['{"n":1}', 'null', '{"n":2}'])).to.deep.equal(['1', '[1,"x"]', '2', '[2,"x"]']);
    expect(s.stats.counts().received).to.equal(3);
  });

  it('fails an item that is not valid JSON with FUNCTION_FAILED, its cause a JsonInputError with code ERR_INVALID_JSON', async () => {
    const error = await rejectionOf(runThrough(stage((r: unknown) => r, { json: true, name: 'parse' }), ['{"n":1}', '{"n":']));
    expect(error).to.be.instanceOf(StageError);
    const stageError = error as StageError;
    expect(stageError.code).to.equal('FUNCTION_FAILED');
    expect(stageError.stage).to.equal('parse');
    expect(stageError.seq).to.equal(1);
    expect(stageError.cause).to.include({ name: 'JsonInputError', code: 'ERR_INVALID_JSON' });
  });

  it('skips an item that is not a string of JSON under onError: skip, and counts it', async () => {
    const s = stage((r: unknown) => r, { json: true, onError: 'skip' });
    expect(await runThrough(s, ['{"a":1}', 7, 'nope', '{"b":2}'])).to.deep.equal(['{"a":1}', '{"b":2}']);
    expect(s.stats.counts()).to.include({ received: 4, emitted: 2, skipped: 2 });
  });

  it('fails a result that JSON cannot hold with a JsonOutputError, code ERR_JSON_RESULT', async () => {
    const error = await rejectionOf(runThrough(stage(() => ({ big: 10n }), { json: true }), ['{}']));
    expect(error).to.be.instanceOf(StageError);
    expect((error as StageError).cause).to.include({ name: 'JsonOutputError', code: 'ERR_JSON_RESULT' });
  });

  it('runs on the main thread the same way with thread: false', async () => {
    const s = stage((r: { n: number }) => (r.n > 1 ? { n: r.n } : null), { json: true, thread: false, onError: 'emit' });
    const out = await runThrough(s, ['{"n":1}', '{"n":2}', '{']);
    expect(out.slice(0, 1)).to.deep.equal(['{"n":2}']);
    expect(out[1]).to.be.instanceOf(StageError);
    expect((out[1] as StageError).cause).to.include({ code: 'ERR_INVALID_JSON' });
  });

  it('fuses adjacent json stages in createPipeline, whose later steps get values, not text', async () => {
    const p = createPipeline([
      stage((r: { n: number }) => ({ n: r.n + 1 }), { json: true, name: 'inc' }),
      stage((r: { n: number }) => ({ n: r.n, seen: typeof r }), { json: true, name: 'look' }),
    ]);
    const sink = new Collector();
    await pipeline(Readable.from(['{"n":1}', '{"n":5}']), p, sink);
    expect(sink.chunks).to.deep.equal(['{"n":2,"seen":"object"}', '{"n":6,"seen":"object"}']);
    expect(p.fusedGroups).to.deep.equal([['inc', 'look']]);
  });

  it('does not fuse a json stage with one that takes values', () => {
    const p = createPipeline([stage((r: unknown) => r, { json: true, name: 'text' }), stage((r: unknown) => r, { name: 'values' })]);
    expect(p.fusedGroups).to.deep.equal([]);
    p.destroy();
  });

  it('refuses a json option that is not a boolean, naming options.json', () => {
    expect(() => stage((r: unknown) => r, { json: 'yes' as unknown as boolean })).to.throw(TypeError, /options\.json/);
  });
});
