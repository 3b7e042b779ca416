// Plain-text tables for the terminal.

import type { Check, ScenarioResult } from './report.js';

export function printTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): void {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function printScenario(result: ScenarioResult): void {
  console.log(`\n== ${result.id}. ${result.title}`);
  if (result.rows.length > 0) {
    printTable(
      ['runner', 'items', 'items/s', 'median ms', 'runs ms'],
      result.rows.map((row) => [
        row.reference === true ? `${row.runner} (reference, not run)` : row.runner,
        row.items.toLocaleString('en-US'),
        formatRate(row.itemsPerSecond),
        row.medianMs === undefined ? '-' : row.medianMs.toFixed(1),
        row.samplesMs === undefined ? '-' : row.samplesMs.map((ms) => ms.toFixed(0)).join(' '),
      ]),
    );
  }
  if (result.checks.length > 0) {
    console.log('');
    printTable(['figure', 'value', 'target', 'result'], result.checks.map(checkCells));
  }
  for (const note of result.notes) console.log(`note: ${note}`);
}

function checkCells(item: Check): string[] {
  const value = `${formatNumber(item.value)}${item.unit === 'x' ? 'x' : ` ${item.unit}`}`;
  const target = item.target === undefined ? '-' : targetText(item);
  const verdict = item.pass === undefined ? '' : item.pass ? 'PASS' : 'MISS';
  return [item.label, value, target, verdict];
}

function targetText(item: Check): string {
  const unit = item.unit === 'x' ? 'x' : ` ${item.unit}`;
  const parts: string[] = [];
  if (item.target?.atLeast !== undefined) parts.push(`>= ${formatNumber(item.target.atLeast)}${unit}`);
  if (item.target?.atMost !== undefined) parts.push(`<= ${formatNumber(item.target.atMost)}${unit}`);
  return parts.join(', ');
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return String(perSecond);
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k`;
  return perSecond.toFixed(0);
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** The targets of issues 10 and 17 from every scenario, one line each: figure, value, target, PASS/MISS, how it was taken. */
export function printIssueTargets(checks: readonly Check[]): void {
  if (checks.length === 0) return;
  console.log('\n== targets of issues 10 and 17 (ratios from the same run, alternating runs, medians)');
  printTable(['target', 'value', 'goal', 'result', 'how'], checks.map((c) => [...checkCells(c), c.detail ?? '']));
}
