// What each scenario hands back: rows of throughput per runner, checks of a
// figure against its target from issue 4, and free-form notes. The table
// printer, the JSON writer and the chart all read this one shape.

export interface Row {
  runner: string;
  /** Items each run moved. */
  items: number;
  itemsPerSecond: number;
  medianMs?: number;
  samplesMs?: number[];
  /** A figure quoted from elsewhere (the Python original), not run here. */
  reference?: boolean;
  /** Drawn in the chart; false for variants of a runner that would crowd it. */
  chart?: boolean;
  note?: string;
}

/** A figure and, when the issue sets one, its target. The bench reports a miss; it never fails on one. */
export interface Check {
  label: string;
  value: number;
  unit: string;
  target?: { atLeast?: number; atMost?: number };
  pass?: boolean;
  /** Set for the targets of issue 10, which the bench prints together at the end. */
  issue?: number;
  /** How the figure was taken (runs, spread), printed beside it. */
  detail?: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  checks: Check[];
  notes: string[];
  /** Other figures worth keeping (latencies, memory). */
  figures?: Record<string, number | string | boolean>;
}

export function ratio(label: string, ours: number, anchor: number, atLeast?: number): Check {
  return check(label, ours / anchor, 'x', atLeast === undefined ? undefined : { atLeast });
}

export function check(label: string, value: number, unit: string, target?: { atLeast?: number; atMost?: number }): Check {
  if (target === undefined) return { label, value, unit };
  const pass = (target.atLeast === undefined || value >= target.atLeast) && (target.atMost === undefined || value <= target.atMost);
  return { label, value, unit, target, pass };
}

export function rowOf(runner: string, items: number, measured: { itemsPerSecond: number; medianMs?: number; samplesMs?: number[] }, extra: Partial<Row> = {}): Row {
  return { runner, items, itemsPerSecond: measured.itemsPerSecond, medianMs: measured.medianMs, samplesMs: measured.samplesMs, ...extra };
}

/** A target of issue 10 (close to the crossing ceiling): printed with the others at the end of the run. */
export function issueTarget(label: string, value: number, unit: string, target: { atLeast?: number; atMost?: number } | undefined, detail?: string): Check {
  const made = check(label, value, unit, target);
  made.issue = 10;
  if (detail !== undefined) made.detail = detail;
  return made;
}

/** "min-max" of a row's runs, in ms, for a target's detail. */
export function spreadOf(row: Row): string {
  const samples = row.samplesMs ?? [];
  if (samples.length === 0) return '-';
  return `${Math.min(...samples).toFixed(0)}-${Math.max(...samples).toFixed(0)} ms over ${samples.length} runs`;
}
