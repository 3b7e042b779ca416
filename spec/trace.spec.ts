import { availableParallelism } from 'node:os';
import { expect } from 'chai';
import { AsyncTaskPipeline, createPipeline, stage } from 'async-task-pipeline';
import type { ChromeTrace, Pipeline, TraceEvent } from 'async-task-pipeline';
import { fixture, range, runThrough } from './helpers.js';

const METADATA = ['process_name', 'thread_name', 'thread_sort_index'];
const CATEGORIES = ['computation', 'queueWait', 'transmission'];

/** Checks one event against the Trace Event Format: the fields its phase needs, of the right types, and no others. */
function expectValidEvent(event: TraceEvent): void {
  const where = JSON.stringify(event);
  expect(event.name, where).to.be.a('string').and.not.equal('');
  expect(Number.isInteger(event.pid) && event.pid > 0, `pid of ${where}`).to.equal(true);
  expect(Number.isInteger(event.tid) && event.tid >= 0, `tid of ${where}`).to.equal(true);
  if (event.ph === 'X') {
    expect(Object.keys(event).sort(), where).to.deep.equal(['args', 'cat', 'dur', 'name', 'ph', 'pid', 'tid', 'ts']);
    expect(Number.isFinite(event.ts) && event.ts! >= 0, `ts of ${where}`).to.equal(true);
    expect(Number.isFinite(event.dur) && event.dur! >= 0, `dur of ${where}`).to.equal(true);
    expect(CATEGORIES, where).to.include(event.cat);
    expect(Number.isInteger(event.args!.seq), where).to.equal(true);
  } else {
    expect(event.ph, where).to.equal('M');
    expect(Object.keys(event).sort(), where).to.deep.equal(['args', 'name', 'ph', 'pid', 'tid']);
    expect(METADATA, where).to.include(event.name);
    if (event.name === 'thread_sort_index') expect(Number.isInteger(event.args!.sort_index), where).to.equal(true);
    else expect(event.args!.name, where).to.be.a('string').and.not.equal('');
  }
}

/** The trace written as JSON and read back, every event checked. */
function validTrace(trace: ChromeTrace): ChromeTrace {
  const parsed = JSON.parse(JSON.stringify(trace)) as ChromeTrace;
  expect(parsed).to.deep.equal(trace);
  expect(parsed.displayTimeUnit).to.equal('ms');
  for (const event of parsed.traceEvents) expectValidEvent(event);
  return parsed;
}

function completeEvents(trace: ChromeTrace, cat: string, name: string): TraceEvent[] {
  return trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === cat && e.name === name);
}

function sumSeconds(events: TraceEvent[]): number {
  return events.reduce((sum, e) => sum + e.dur!, 0) / 1e6;
}

/** Per stage, the events add up to the stage's own figures (every item is in the trace's window). */
function expectSumsMatchStats(trace: ChromeTrace, p: Pipeline): void {
  const summary = p.getLatencySummary();
  for (const s of p.stages) {
    const computation = completeEvents(trace, 'computation', s.name);
    const queueWait = completeEvents(trace, 'queueWait', `${s.name} queue wait`);
    const transmission = completeEvents(trace, 'transmission', `${s.name} transmission`);
    const n = summary.stageStatistics[s.name]!.processedCount;
    expect(computation, s.name).to.have.length(n);
    expect(queueWait, s.name).to.have.length(n);
    expect(transmission, s.name).to.have.length(n);
    expect(sumSeconds(computation), s.name).to.be.closeTo(s.stats.computationTime, 1e-6);
    expect(sumSeconds(queueWait), s.name).to.be.closeTo(s.stats.queueWaitTime, 1e-6);
    expect(sumSeconds(transmission), s.name).to.be.closeTo(s.stats.transmissionTime, 1e-6);
    expect(sumSeconds([...computation, ...queueWait, ...transmission]), s.name).to.be.closeTo(s.stats.latency.sum, 1e-6);
  }
}

/** The complete events of each track (pid, tid) follow one another without overlapping, as viewers need. */
function expectTracksNest(trace: ChromeTrace): void {
  const tracks = new Map<number, TraceEvent[]>();
  for (const e of trace.traceEvents) if (e.ph === 'X') tracks.set(e.tid, [...(tracks.get(e.tid) ?? []), e]);
  for (const [tid, events] of tracks) {
    events.sort((a, b) => a.ts! - b.ts!);
    for (let i = 1; i < events.length; i++) {
      expect(events[i]!.ts!, `track ${tid}`).to.be.at.least(events[i - 1]!.ts! + events[i - 1]!.dur! - 1e-3);
    }
  }
}

function threadName(trace: ChromeTrace, tid: number): unknown {
  return trace.traceEvents.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === tid)?.args?.name;
}

function spinStage(name: string, concurrency = 1) {
  return stage({ module: fixture('busy.js'), export: 'spin' }, { name, concurrency, context: { ms: 0.2 } });
}

describe('getTrace(): Chrome Trace Event Format', () => {
  it('parses as JSON, and every event has the fields of its phase', async () => {
    const p = createPipeline([spinStage('first'), spinStage('second', 2)], { fuse: false });
    await runThrough(p, range(40));
    validTrace(p.getTrace());
  });

  it('has one computation event per item per stage, named by the stage, on the worker thread that ran it', async () => {
    const p = createPipeline([spinStage('first'), spinStage('second', 2)], { fuse: false });
    await runThrough(p, range(40));
    const trace = validTrace(p.getTrace());
    for (const name of ['first', 'second']) {
      const events = completeEvents(trace, 'computation', name);
      expect(events.map((e) => e.args!.seq).sort((a, b) => Number(a) - Number(b))).to.deep.equal(range(40));
      for (const e of events) {
        expect(e.pid).to.equal(process.pid);
        expect(e.tid).to.be.above(0);
        // Threads are the pool's: a thread's name lists every stage it ran.
        expect(threadName(trace, e.tid)).to.match(new RegExp(`^worker ${e.tid} \\((\\w+, )*${name}(, \\w+)*\\)$`));
      }
    }
    const firstThreads = new Set(completeEvents(trace, 'computation', 'first').map((e) => e.tid));
    const secondThreads = new Set(completeEvents(trace, 'computation', 'second').map((e) => e.tid));
    expect(firstThreads.size, 'concurrency 1: one thread at a time, the same one while it stays busy').to.be.within(1, 2);
    expect(secondThreads.size).to.be.within(1, 2);
    expect(new Set([...firstThreads, ...secondThreads]).size, 'no more threads than the default pool has').to.be.at.most(availableParallelism());
  });

  it('adds up, per stage, to the computation, queue wait and transmission of the summary', async () => {
    const p = createPipeline([spinStage('first'), spinStage('second', 2)], { fuse: false });
    await runThrough(p, range(60));
    expectSumsMatchStats(validTrace(p.getTrace()), p);
  });

  it('lays each queue track out in lanes whose events never overlap', async () => {
    const p = createPipeline([spinStage('first'), spinStage('second', 2)], { fuse: false });
    await runThrough(p, range(60));
    const trace = validTrace(p.getTrace());
    expectTracksNest(trace);
    const lanes = trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && String(e.args!.name).startsWith('first queue'));
    expect(lanes.length).to.be.at.least(1);
    expect(lanes[0]!.args!.name).to.equal('first queue');
  });

  it('puts the stages of a fused chain on the one worker that ran them, and still adds up', async () => {
    const p = createPipeline([spinStage('first'), spinStage('second')]);
    await runThrough(p, range(40));
    expect(p.fusedGroups).to.deep.equal([['first', 'second']]);
    const trace = validTrace(p.getTrace());
    // Each item's two stages ran on one thread; the chain may use more than one.
    const computations = trace.traceEvents.filter((e) => e.cat === 'computation');
    const tidOf = (name: string, seq: unknown): number | undefined => computations.find((e) => e.name === name && e.args!.seq === seq)?.tid;
    const seqs = [...new Set(computations.map((e) => e.args!.seq))];
    expect(seqs).to.have.length(40);
    for (const seq of seqs) expect(tidOf('first', seq), `item ${String(seq)}`).to.equal(tidOf('second', seq)).and.to.not.equal(undefined);
    for (const tid of new Set(computations.map((e) => e.tid))) expect(threadName(trace, tid)).to.equal(`worker ${tid} (first, second)`);
    expectSumsMatchStats(trace, p);
  });

  it('shows a fused chain\'s member before a fan-out once per item, not once per output', async () => {
    const p = createPipeline([
      stage(function* twice(x: number) { yield x; yield x + 0.5; }, { name: 'twice' }),
      stage((x: number) => x * 2, { name: 'double' }),
    ]);
    await runThrough(p, range(20));
    expect(p.fusedGroups).to.deep.equal([['twice', 'double']]);
    const trace = validTrace(p.getTrace());
    expect(completeEvents(trace, 'computation', 'twice')).to.have.length(20);
    expect(completeEvents(trace, 'computation', 'double')).to.have.length(40);
    expectSumsMatchStats(trace, p);
  });

  it('puts a main-thread stage (thread: false) on thread 0', async () => {
    const p = createPipeline([stage((x: number) => x + 1, { name: 'inline', thread: false })]);
    await runThrough(p, range(10));
    const trace = validTrace(p.getTrace());
    const events = completeEvents(trace, 'computation', 'inline');
    expect(events).to.have.length(10);
    for (const e of events) expect(e.tid).to.equal(0);
    expect(threadName(trace, 0)).to.equal('main thread (inline)');
  });

  it('shows each stage of a fan-out once per item that went through it', async () => {
    const p = createPipeline([
      stage(function* twice(x: number) { yield x; yield x + 0.5; }, { name: 'twice' }),
      stage((x: number) => x * 2, { name: 'double' }),
    ], { fuse: false });
    await runThrough(p, range(20));
    const trace = validTrace(p.getTrace());
    expect(completeEvents(trace, 'computation', 'twice')).to.have.length(20);
    expect(completeEvents(trace, 'computation', 'double')).to.have.length(40);
    expectSumsMatchStats(trace, p);
  });

  it('is bounded by reportItems, like getReport()', async () => {
    const p = createPipeline([spinStage('first')], { reportItems: 25 });
    await runThrough(p, range(200));
    const trace = validTrace(p.getTrace());
    expect(trace.otherData.items).to.equal(25);
    const seqs = completeEvents(trace, 'computation', 'first').map((e) => e.args!.seq);
    expect(seqs.sort((a, b) => Number(a) - Number(b))).to.deep.equal(range(25).map((n) => n + 175));
  });

  it('has no timed events when the pipeline does not time its items', async () => {
    const p = createPipeline([spinStage('first')], { timing: false });
    await runThrough(p, range(10));
    const trace = validTrace(p.getTrace());
    expect(trace.traceEvents.filter((e) => e.ph === 'X')).to.deep.equal([]);
  });

  it('is given by AsyncTaskPipeline with enableTiming, and is empty before start()', async () => {
    const p = new AsyncTaskPipeline({ enableTiming: true });
    p.addStage('double', (x: number) => x * 2);
    expect(validTrace(p.getTrace()).traceEvents.filter((e) => e.ph === 'X')).to.deep.equal([]);
    await p.start();
    await p.processInputStream(range(10));
    const out: unknown[] = [];
    for await (const x of p.generateOutputStream()) out.push(x);
    await p.stop();
    const trace = validTrace(p.getTrace());
    expect(completeEvents(trace, 'computation', 'double')).to.have.length(10);
    expect(completeEvents(trace, 'queueWait', 'double queue wait')).to.have.length(10);
  });
});
