// Writes bench/results/latest.json (every figure, the machine and the date)
// and bench/results/latest.svg (the chart).

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderChart } from './chart.js';
import type { ScenarioResult } from './report.js';

export interface MachineInfo {
  node: string;
  platform: string;
  arch: string;
  cpu: string;
  availableParallelism: number;
  totalMemoryMb: number;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  return {
    node: process.version,
    platform: os.platform(),
    arch: os.arch(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    availableParallelism: os.availableParallelism(),
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
  };
}

export interface BenchResults {
  date: string;
  mode: 'quick' | 'full';
  machine: MachineInfo;
  /** Load average when the run ended: other work on the machine makes figures noisy. */
  loadAverageAtEnd: number[];
  durationSeconds: number;
  scenarios: ScenarioResult[];
  micro: MicroResult[];
}

export interface MicroResult {
  name: string;
  /** Microseconds per item. */
  usPerItem: number;
  /** Relative margin of error of the benchmark's mean, percent. */
  rmePercent: number;
  samples: number;
}

const RESULTS_DIR = new URL('../../../bench/results/', import.meta.url);

export async function writeResults(results: BenchResults): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = new URL('latest.json', RESULTS_DIR);
  const svg = new URL('latest.svg', RESULTS_DIR);
  const subtitle = `${results.mode} run, ${results.date.slice(0, 10)}, Node ${results.machine.node}, ${results.machine.availableParallelism} cores (${results.machine.cpu}), load ${results.machine.loadAverage.join(' ')}`;
  await writeFile(json, JSON.stringify(results, null, 2) + '\n');
  await writeFile(svg, renderChart(results.scenarios, subtitle));
  return [fileURLToPath(json), fileURLToPath(svg)];
}
