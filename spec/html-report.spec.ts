// The HTML run report (issue 18), looked at as a person would: opened in
// headless Chromium, a screenshot taken and checked for content (not blank,
// the bottleneck's box at the top), the page's console silent, the stage
// names and the bottleneck in what the browser rendered. Without Chromium the
// browser specs skip loudly; ATP_REQUIRE_CHROMIUM (set by .ci/run) makes that
// a failure. The report's size is checked against the run's length, not timed.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { expect } from 'chai';
import { AsyncTaskPipeline, createPipeline, stage } from 'async-task-pipeline';
import type { Stage } from 'async-task-pipeline';
import { MAX_BUCKETS, RunSampler } from '../lib/pipeline/run-sampler.js';
import { openInChromium, requireChromium } from './chromium-helpers.js';
import { colourFigures, decodePng, pixelsOf } from './png.js';
import { fixture, makeTempDir, range, runThrough } from './helpers.js';

function spin(name: string, ms: number): Stage {
  return stage({ module: fixture('busy.js'), export: 'spin' }, { name, context: { ms } });
}

async function heavyRunReport(): Promise<string> {
  const p = createPipeline([spin('parse', 1), spin('score', 5), spin('format', 1)], { fuse: false });
  await runThrough(p, range(150));
  return p.getHtmlReport({ title: 'spec run <heavy>' });
}

async function slowSinkReport(): Promise<string> {
  const p = createPipeline([spin('parse', 0.05), spin('format', 0.05)], { fuse: false });
  const sink = new Writable({ objectMode: true, highWaterMark: 1, write: (_x, _e, callback) => { setTimeout(callback, 4); } });
  await pipeline(Readable.from(range(120)), p, sink);
  return p.getHtmlReport();
}

async function tinyRunSize(items: number): Promise<string> {
  const p = createPipeline([stage((x: number) => x + 1, { name: 'a' }), stage((x: number) => x * 2, { name: 'b' })]);
  await runThrough(p, range(items));
  return p.getHtmlReport();
}

/** Points of every polyline in a report. */
function polylinePoints(html: string): number[] {
  return [...html.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(' ').length);
}

describe('the HTML run report', function () {
  this.timeout(90_000);
  const temp = makeTempDir('html-report');
  let heavy: string;

  before(async () => {
    heavy = await heavyRunReport();
  });

  after(() => temp.remove());

  describe('as a document', () => {
    it('is one self-contained page: no script, nothing fetched, no external reference', () => {
      expect(heavy).to.match(/^<!DOCTYPE html>\n<html lang="en">/);
      expect(heavy).to.not.match(/<script|<link|<img|<iframe|@import|url\(|https?:\/\//i);
      expect(heavy.trimEnd()).to.match(/<\/html>$/);
    });

    it('puts the bottleneck and its advice first, before any chart', () => {
      const verdict = heavy.indexOf('Bottleneck: score');
      expect(verdict).to.be.above(0);
      expect(verdict).to.be.below(heavy.indexOf('<svg'));
      expect(heavy).to.include('&#34;score&#34; limits the run');
    });

    it('escapes what it is given: the title cannot open a tag', () => {
      expect(heavy).to.include('<title>spec run &#60;heavy&#62;</title>');
    });

    it('has a chart over time, a task stream with worker rows, a histogram per stage and a row of figures per stage', () => {
      expect(heavy).to.include('Items per second out of each stage').and.include('Items held by each stage');
      expect(heavy).to.match(/>worker \d+</);
      for (const name of ['parse', 'score', 'format']) {
        expect(heavy).to.include(`${name}: time in the stage per item`);
        expect(heavy).to.match(new RegExp(`<tr[^>]*><td>${name}</td><td>150</td><td>150</td>`));
      }
      expect(heavy).to.match(/<tr class="bottleneck"><td>score<\/td>/);
    });

    it('says the sink limits when the sink is slower than every stage', async () => {
      const html = await slowSinkReport();
      expect(html).to.include('No stage limits the run: the sink is slower than every stage');
      expect(html).to.not.include('Bottleneck:');
    });

    it('comes from AsyncTaskPipeline too, empty before start()', async () => {
      const p = new AsyncTaskPipeline({ enableTiming: true }).addStage('only', { module: fixture('busy.js'), export: 'spin' }, { context: { ms: 0 } });
      expect(p.getHtmlReport()).to.include('>only<').and.include('Nothing has run yet');
      await p.start();
      await p.processInputStream(range(20));
      for await (const x of p.generateOutputStream()) void x;
      await p.stop();
      expect(p.getHtmlReport()).to.include('20 items in, 20 out');
    });
  });

  describe('its size', () => {
    it('stays bounded: 100,000 items make a report no more than 64 KB larger than 1,000 items do', async () => {
      const small = await tinyRunSize(1_000);
      const large = await tinyRunSize(100_000);
      expect(large.length - small.length, `${small.length} vs ${large.length} bytes`).to.be.below(64 * 1024);
      expect(large.length).to.be.below(256 * 1024);
    });

    it('draws at most MAX_BUCKETS points per line, however long the run', () => {
      const links = [{ writableLength: 0, readableLength: 0, stats: { itemsHeld: 3 } }];
      const stages = [{ stats: { emitted: 0 } }];
      const sampler = new RunSampler(links, stages, { writableLength: 0, writableEnded: false, readableLength: 0 });
      const record = (sampler as unknown as { record(at: number): void }).record.bind(sampler);
      // A day of samples, five a bucket as the timer takes them.
      for (let at = 0; at < 86_400; at += 0.01 * 2 ** Math.floor(Math.log2(1 + at / 6))) {
        stages[0]!.stats.emitted += 10;
        record(at);
      }
      const series = sampler.series();
      expect(series.buckets.length).to.be.at.most(MAX_BUCKETS).and.above(MAX_BUCKETS / 2 - 1);
      expect(series.bucketSeconds * MAX_BUCKETS).to.be.at.least(86_400);
      expect(series.buckets.every((b) => b.itemsHeld[0] === 3 || Number.isNaN(b.itemsHeld[0]))).to.equal(true);
    });

    it('shows at most MAX_BUCKETS points in each line of a real report', () => {
      const points = polylinePoints(heavy);
      expect(points.length).to.be.above(0);
      for (const n of points) expect(n).to.be.at.most(MAX_BUCKETS);
    });
  });

  describe('in headless Chromium', () => {
    let chromium: string;
    let file: string;

    before(function () {
      chromium = requireChromium(this);
      file = join(temp.dir, 'report.html');
      writeFileSync(file, heavy);
    });

    it('renders a screenshot that is not blank, with the bottleneck box at the top', async () => {
      const png = join(temp.dir, 'report.png');
      const run = await openInChromium(chromium, file, [`--screenshot=${png}`, '--window-size=1200,900']);
      expect(run.code, run.console.join('\n')).to.equal(0);
      const image = decodePng(readFileSync(png));
      expect([image.width, image.height]).to.deep.equal([1200, 900]);
      const whole = colourFigures(image);
      expect(whole.distinct, 'distinct colours').to.be.above(32);
      expect(whole.notBackground, 'share of pixels that are not background').to.be.above(0.05);
      // The verdict box (#fdf1f1, its border #e15759) is what a reader sees first: in the top third.
      expect(pixelsOf(image, 0xfdf1f1, 0, 300), 'verdict box pixels').to.be.above(20_000);
      expect(pixelsOf(image, 0xe15759, 0, 300), 'verdict border pixels').to.be.above(300);
    });

    it('logs nothing to the console, and shows the stage names and the bottleneck', async () => {
      const run = await openInChromium(chromium, file, ['--dump-dom']);
      expect(run.console, 'console messages').to.deep.equal([]);
      expect(run.stdout).to.include('Bottleneck: score');
      for (const name of ['parse', 'score', 'format']) expect(run.stdout).to.include(`<td>${name}</td>`);
    });

    it('hears a page that throws: the console check can fail', async () => {
      const bad = join(temp.dir, 'bad.html');
      writeFileSync(bad, '<!DOCTYPE html><p>x</p><script>throw new Error("boom from the page")</script>');
      const run = await openInChromium(chromium, bad, ['--dump-dom']);
      expect(run.console.join('\n')).to.include('boom from the page');
    });

    it('sees a blank page as blank: the screenshot check can fail', async () => {
      const blank = join(temp.dir, 'blank.html');
      writeFileSync(blank, '<!DOCTYPE html><html><body></body></html>');
      const png = join(temp.dir, 'blank.png');
      await openInChromium(chromium, blank, [`--screenshot=${png}`, '--window-size=400,300']);
      expect(colourFigures(decodePng(readFileSync(png))).notBackground).to.equal(0);
    });
  });
});
