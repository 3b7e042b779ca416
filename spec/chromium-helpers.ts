// Helpers of the specs that look at the HTML report as a person would: in
// headless Chromium (Debian's `chromium`, installed by .ci/run). Each launch
// gets a fresh profile directory, no sandbox (CI runs as root), no GPU, no
// background networking, and a host resolver that resolves nothing: a page
// that tried to fetch anything would log a failed load. Console messages
// reach standard error through --enable-logging=stderr, one line each:
//   [pid:tid:time:INFO:CONSOLE:1] "Uncaught Error: boom", source: file:///… (1)
// Kept apart from helpers.ts: only the report specs need them.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { skipLoudlyUnlessRequired } from './helpers.js';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The Chromium binary to use: $CHROMIUM, or the first of CANDIDATES on PATH; undefined when none. */
export function chromiumBinary(): string | undefined {
  const given = process.env['CHROMIUM'];
  for (const name of given === undefined || given === '' ? CANDIDATES : [given]) {
    const probe = spawnSync(name, ['--version'], { stdio: 'ignore' });
    if (probe.error === undefined && probe.status === 0) return name;
  }
  return undefined;
}

/**
 * In a `before` hook: skips the suite, loudly, when Chromium is missing,
 * unless ATP_REQUIRE_CHROMIUM is set (as in CI), which makes it a failure.
 */
export function requireChromium(context: Mocha.Context): string {
  const binary = chromiumBinary();
  if (binary !== undefined) return binary;
  return skipLoudlyUnlessRequired(context, 'ATP_REQUIRE_CHROMIUM', 'ATP_REQUIRE_CHROMIUM is set but chromium is not on PATH (apt-get install chromium)', [
    'SKIPPED: the HTML report specs in a browser. chromium is',
    'not on PATH. Install it (apt-get install chromium), point',
    'CHROMIUM at one, or set ATP_REQUIRE_CHROMIUM=1 to make its',
    'absence a failure.',
  ]);
}

export interface BrowserRun {
  /** What Chromium printed on standard output (the DOM, with --dump-dom). */
  stdout: string;
  /** The page's console messages. */
  console: string[];
  code: number | null;
}

/** Opens `htmlFile` in headless Chromium with `args` added (--screenshot=…, --dump-dom) and waits for it to exit. */
export async function openInChromium(binary: string, htmlFile: string, args: string[], timeoutMs = 60_000): Promise<BrowserRun> {
  const profile = mkdtempSync(join(tmpdir(), 'atp-chromium-'));
  try {
    const child = spawn(binary, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-extensions', '--no-first-run',
      `--user-data-dir=${profile}`, '--host-resolver-rules=MAP * ~NOTFOUND', '--enable-logging=stderr', '--v=0',
      '--hide-scrollbars', ...args, pathToFileURL(htmlFile).href,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    }).finally(() => clearTimeout(timer));
    const consoleLines = stderr.split('\n').filter((line) => /:CONSOLE[:(]/.test(line));
    return { stdout, console: consoleLines, code };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
