// Which stage holds the rest back, how sure we are, and what would help
// (issue 18). Three signals, per link (a stage, or a fused chain as one):
// - busy share: seconds in its function over the seconds its threads had
//   (the run's length times the threads it may use). A stage that limits a
//   pipeline of CPU work keeps its threads busy; on a shared pool it is the
//   stage that takes most of the threads.
// - writer waited (run-sampler.ts): how often the one writing to it was kept
//   waiting. Backpressure reaches upstream from the slowest part, so every
//   link before the bottleneck shows it too...
// - reader waited: how often the one reading from it had nothing to do.
//   ...and starvation reaches downstream, so the bottleneck is the front:
//   the link whose writer waits while what follows it flows (see pressureOf).
// A link's score is the larger of its busy share (of the threads the other
// links on its pool left it) and that pressure; the link with the highest
// score limits the pipeline when that score is at least LIMIT_SCORE. When
// none does, the source (the first link often had nothing to do) or the sink
// (the output held what its reader had not taken) is the slower part, and
// the verdict says which.

/** The figures of one link, as the pipeline gathers them. */
export interface LinkFigures {
  /** Its stages' names, in order (one unless fused). */
  names: string[];
  /** Per member: seconds in the function, summed over timed items. */
  computationSeconds: number[];
  /** Per member: mean seconds in the function per item (0 before any). */
  avgComputationSeconds: number[];
  /** The threads (or concurrent calls) it may use at once; 0 when unknown. */
  threads: number;
  /** Threads its pool has (for a pool stage), else the same as `threads`. */
  poolThreads: number;
  /** Where its function runs. */
  runsOn: 'pool' | 'main' | 'remote';
  /** The pool it shares with other links (identity only), undefined off the pool. */
  pool: object | undefined;
  writerWaited: number;
  readerWaited: number;
}

/** The ends of the run. */
export interface RunFigures {
  elapsedSeconds: number;
  itemsOut: number;
  samples: number;
  sinkBehind: number;
  sourceIdle: number;
}

/**
 * The stage that limits the pipeline's throughput, and how sure that is:
 * `getLatencySummary().bottleneck` (null when no stage limits it; then
 * `throughput.limitedBy` says which end does).
 *
 * @example
 * ```js
 * const { bottleneck, throughput } = p.getLatencySummary();
 * if (bottleneck !== null) console.log(`${bottleneck.stage}: busy ${Math.round(bottleneck.busyShare * 100)}%. ${bottleneck.advice}`);
 * else console.log(`limited by the ${throughput.limitedBy}: ${throughput.advice}`);
 * ```
 */
export interface Bottleneck {
  /** The stage named; in a fused chain, the member that spent most time in its function. */
  stage: string;
  /** The stages it ran fused with (its own name included), or null when it ran alone. */
  fusedWith: string[] | null;
  /** Share of the time its threads (all `threads` of them) spent in its function, 0 to 1. */
  busyShare: number;
  /** Threads (or concurrent calls) it may use at once. */
  threads: number;
  /** Share of the run its writer (the stage or source before it) waited for it to take an item, 0 to 1. */
  writerWaitShare: number;
  /** Share of the run its reader (the stage after it, or whatever reads the pipeline) had nothing to do, 0 to 1. */
  readerWaitShare: number;
  /**
   * The score it won by, 0 to 1: the larger of its busy share of what the
   * other stages on its pool left it and how often its writer waited while
   * what follows it did not (the pressure front).
   */
  confidence: number;
  /** One sentence of advice drawn from the figures. */
  advice: string;
}

/** What limits the run's throughput: a stage, the source, the sink, or not known (too few figures). */
export type ThroughputLimit = 'stage' | 'source' | 'sink' | 'unknown';

/** The run as a whole: how fast, what limits it, and the advice. */
export interface ThroughputSummary {
  /** Which part limits the run. */
  limitedBy: ThroughputLimit;
  /** Items out per second, from the first write to the last output (or now). */
  itemsPerSecond: number;
  /** Seconds from the first write to the last output (or now). */
  elapsedSeconds: number;
  /** Share of the run the pipeline's output held items its reader had not taken, 0 to 1. */
  sinkWaitShare: number;
  /** Share of the run (while input came) the first stage had nothing to do, 0 to 1. */
  sourceIdleShare: number;
  /** One sentence: the bottleneck's advice, or what limits the run instead. */
  advice: string;
}

/** Per link, what the verdict read of it. */
export interface LinkVerdict {
  busyShare: number;
  /** Busy share of what the other links on its pool left it. */
  busyOfAvailable: number;
  score: number;
}

/** A score at least this names the link: it kept its threads busy, or held its writer while the rest flowed, half the run. */
export const LIMIT_SCORE = 0.5;
/** A sink this far behind limits the run unless a stage is busier than BUSY_DESPITE_SINK. */
const SINK_SHARE = 0.5;
const BUSY_DESPITE_SINK = 0.8;
const SOURCE_SHARE = 0.3;
/** About one crossing to a worker thread and back for a small item (fusion.ts; bench scenario 2). */
const CROSSING_SECONDS = 50e-6;
const MIN_SAMPLES = 3;
/** Named by pressure but busy less than this: the threads are not what it lacks. */
const IDLE_BELOW = 0.7;

export function busyShareOf(link: LinkFigures, elapsedSeconds: number): number {
  if (link.threads === 0 || elapsedSeconds <= 0) return 0;
  const busy = link.computationSeconds.reduce((sum, s) => sum + s, 0);
  return Math.min(1, busy / (elapsedSeconds * link.threads));
}

/**
 * On a shared pool, the time a link could have had is what its threads had
 * less what the other links on the pool took of the pool's threads: a stage
 * with five times the others' work on a full pool of two gets about 70% of
 * both threads, not 100%, and is still the one holding the rest back.
 */
function availableShare(link: LinkFigures, links: readonly LinkFigures[], elapsed: number): number {
  if (link.pool === undefined || link.threads === 0 || elapsed <= 0) return busyShareOf(link, elapsed);
  let others = 0;
  for (const other of links) if (other !== link && other.pool === link.pool) others += other.computationSeconds.reduce((sum, s) => sum + s, 0);
  const own = elapsed * link.threads;
  const available = Math.max(own * 0.1, Math.min(own, elapsed * link.poolThreads - others));
  return Math.min(1, link.computationSeconds.reduce((sum, s) => sum + s, 0) / available);
}

/**
 * The pressure front: how often a link's writer waited while what follows it
 * did not (the next link's writer, or for the last link the pipeline's
 * reader, was not kept waiting). Before the bottleneck both wait; after it,
 * neither; at it, only its own writer. Its reader starving is the same front
 * seen from downstream, unless the next link's items wait for threads the
 * bottleneck holds (a shared pool): then it is not idle, yet not blocked.
 */
function pressureOf(links: readonly LinkFigures[], at: number, run: RunFigures): number {
  const link = links[at]!;
  const blockedAfter = at + 1 < links.length ? links[at + 1]!.writerWaited : run.sinkBehind;
  return link.writerWaited * Math.max(link.readerWaited, 1 - blockedAfter);
}

export function scoreLinks(links: readonly LinkFigures[], run: RunFigures): LinkVerdict[] {
  return links.map((link, at) => {
    const busyShare = busyShareOf(link, run.elapsedSeconds);
    const busyOfAvailable = availableShare(link, links, run.elapsedSeconds);
    return { busyShare, busyOfAvailable, score: Math.max(busyOfAvailable, pressureOf(links, at, run)) };
  });
}

export function findBottleneck(links: readonly LinkFigures[], run: RunFigures): { bottleneck: Bottleneck | null; throughput: ThroughputSummary } {
  const verdicts = scoreLinks(links, run);
  const base = {
    itemsPerSecond: run.elapsedSeconds > 0 ? run.itemsOut / run.elapsedSeconds : 0,
    elapsedSeconds: run.elapsedSeconds,
    sinkWaitShare: run.sinkBehind,
    sourceIdleShare: run.sourceIdle,
  };
  let best = -1;
  verdicts.forEach((v, i) => {
    const b = verdicts[best];
    if (b === undefined || v.score > b.score || (v.score === b.score && v.busyShare > b.busyShare)) best = i;
  });
  const winner = verdicts[best];
  const sinkLimits = run.sinkBehind >= SINK_SHARE && (winner === undefined || winner.busyShare < BUSY_DESPITE_SINK);
  if (winner !== undefined && winner.score >= LIMIT_SCORE && !sinkLimits) {
    const bottleneck = name(links, best, winner, verdicts);
    return { bottleneck, throughput: { ...base, limitedBy: 'stage', advice: bottleneck.advice } };
  }
  if (run.samples < MIN_SAMPLES && !sinkLimits) {
    return { bottleneck: null, throughput: { ...base, limitedBy: 'unknown', advice: 'The run was too short to tell what limits it.' } };
  }
  if (sinkLimits || (run.sinkBehind >= run.sourceIdle && run.sinkBehind >= SOURCE_SHARE)) {
    return {
      bottleneck: null,
      throughput: {
        ...base, limitedBy: 'sink',
        advice: `The sink limits the run: whatever reads the pipeline was behind ${pct(run.sinkBehind)} of the time, and no stage was busy ` +
          `more than ${pct(winner?.busyShare ?? 0)}; a faster consumer (or one that takes items in batches) would raise throughput, more threads would not.`,
      },
    };
  }
  if (run.sourceIdle >= SOURCE_SHARE) {
    return {
      bottleneck: null,
      throughput: {
        ...base, limitedBy: 'source',
        advice: `The source limits the run: the first stage had nothing to do ${pct(run.sourceIdle)} of the time, and no stage was busy ` +
          `more than ${pct(winner?.busyShare ?? 0)}; the stages could take items faster than they came.`,
      },
    };
  }
  return {
    bottleneck: null,
    throughput: {
      ...base, limitedBy: 'unknown',
      advice: `Nothing stands out: no stage was busy more than ${pct(winner?.busyShare ?? 0)} of its threads' time, the source and the sink kept up; ` +
        'the cost is in the crossings between threads and stages (fewer, larger items per call, or fusion, would cut it).',
    },
  };
}

function name(links: readonly LinkFigures[], at: number, verdict: LinkVerdict, verdicts: readonly LinkVerdict[]): Bottleneck {
  const link = links[at]!;
  let heaviest = 0;
  link.computationSeconds.forEach((s, i) => { if (s > link.computationSeconds[heaviest]!) heaviest = i; });
  const stage = link.names[heaviest]!;
  const fused = link.names.length > 1;
  const busiestOther = Math.max(0, ...verdicts.filter((_, i) => i !== at).map((v) => v.busyShare));
  return {
    stage,
    fusedWith: fused ? [...link.names] : null,
    busyShare: verdict.busyShare,
    threads: link.threads,
    writerWaitShare: link.writerWaited,
    readerWaitShare: link.readerWaited,
    confidence: verdict.score,
    advice: adviceFor(stage, link, link.avgComputationSeconds[heaviest]!, verdict, busiestOther, links.length > 1),
  };
}

/** One sentence from the figures: the first rule that fits, most specific first. */
function adviceFor(stage: string, link: LinkFigures, perItem: number, verdict: LinkVerdict, busiestOther: number, several: boolean): string {
  const fused = link.names.length > 1;
  const busy = verdict.busyShare;
  const head = `"${stage}" limits the run` + (fused ? ` (fused with ${link.names.filter((n) => n !== stage).map((n) => `"${n}"`).join(', ')})` : '') +
    `: its ${link.threads === 1 ? 'thread was' : `${link.threads} threads were`} busy ${pct(busy)} of the time`;
  if (perItem > 0 && perItem < CROSSING_SECONDS && link.runsOn === 'pool') {
    const fusion = fused || !several ? '' : ', fuse it with its neighbours (same concurrency, ordering and limits),';
    return `${head}, yet an item takes only ${micros(perItem)} in its function, less than a crossing to a worker and back: ` +
      `\`thread: false\` would run it on the main thread${fusion} or a heavier item per call (an array of items) would amortise the crossing.`;
  }
  if (verdict.busyOfAvailable < IDLE_BELOW && link.runsOn === 'pool') {
    return `${head}, yet its writer waited on it ${pct(link.writerWaited)} of the run: with its threads idle the rest, the time goes in ` +
      `crossings and the main thread's work around them (${micros(perItem)} per item in the function), so fewer, larger items per call ` +
      `(an array of items)${fused || !several ? '' : ' or fusion with its neighbours'} would raise throughput more than threads would.`;
  }
  if (link.runsOn === 'remote') {
    return `${head} (${micros(perItem)} per item); more worker processes (or \`--concurrency\` on those serving it) would raise throughput.`;
  }
  if (link.threads < link.poolThreads) {
    return `${head}, at its \`concurrency\` of ${link.threads} while the pool has ${link.poolThreads}: a higher \`concurrency\` would raise throughput.`;
  }
  if (fused) {
    return `${head}, with "${stage}" the heaviest in the chain (${micros(perItem)} per item): \`fuse: false\` (or a different \`concurrency\`) ` +
      `would let it run apart on threads of its own, and lighter work in it would raise throughput.`;
  }
  if (link.runsOn === 'main') {
    return `${head} on the main thread (${micros(perItem)} per item): without \`thread: false\` it would run on worker threads, in parallel.`;
  }
  const others = busiestOther > 0 ? ` (the next busiest stage: ${pct(busiestOther)})` : '';
  return `${head}${others}, ${micros(perItem)} per item, on all the threads it may use: more threads (a larger pool on more cores) ` +
    'or less work per item in it would raise throughput; more `concurrency` would not.';
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function micros(seconds: number): string {
  if (seconds >= 0.1) return `${seconds.toFixed(2)} s`;
  if (seconds >= 1e-3) return `${(seconds * 1e3).toFixed(seconds >= 0.01 ? 1 : 2)} ms`;
  return `${(seconds * 1e6).toFixed(seconds >= 1e-5 ? 0 : 1)} µs`;
}
