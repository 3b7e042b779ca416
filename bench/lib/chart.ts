// A grouped bar chart of items/s per scenario as a standalone SVG, drawn by
// hand: one group per scenario, one bar per runner, a log-scale axis because
// the figures span from thousands to millions of items/s.

import type { Row, ScenarioResult } from './report.js';
import { formatRate } from './table.js';

const BAR = 26;
const BAR_GAP = 6;
const GROUP_GAP = 48;
const PLOT_TOP = 50;
const PLOT_HEIGHT = 360;
const LEFT = 70;
const LABEL_SPACE = 170;

function colorOf(runner: string): string {
  if (runner.startsWith('ours')) return runner.includes('createPipeline') ? '#2f6fd6' : '#1b4fa0';
  if (runner.startsWith('inline')) return '#8a8a8a';
  if (runner.startsWith('node-map')) return '#e08a1e';
  if (runner.startsWith('raw-workers')) return '#2e9d4f';
  return '#8b4fb3';
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function renderChart(scenarios: readonly ScenarioResult[], subtitle: string): string {
  const groups = scenarios
    .map((scenario) => ({ scenario, rows: scenario.rows.filter((row) => row.chart !== false && row.itemsPerSecond > 0) }))
    .filter((group) => group.rows.length > 0);
  const rates = groups.flatMap((group) => group.rows.map((row) => row.itemsPerSecond));
  const low = Math.floor(Math.log10(Math.min(...rates, 1e3)));
  const high = Math.ceil(Math.log10(Math.max(...rates, 1e4)));
  const y = (rate: number): number => PLOT_TOP + PLOT_HEIGHT * (1 - (Math.log10(rate) - low) / (high - low));
  const plotWidth = groups.reduce((sum, group) => sum + group.rows.length * (BAR + BAR_GAP) + GROUP_GAP, GROUP_GAP);
  const width = LEFT + plotWidth + 20;
  const height = PLOT_TOP + PLOT_HEIGHT + LABEL_SPACE;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  parts.push(`<text x="${LEFT}" y="20" font-size="15" font-weight="bold">async-task-pipeline: items per second (log scale, higher is better)</text>`);
  parts.push(`<text x="${LEFT}" y="38" fill="#555">${escapeXml(subtitle)}</text>`);
  for (let power = low; power <= high; power++) {
    const at = y(10 ** power);
    parts.push(`<line x1="${LEFT}" y1="${at}" x2="${LEFT + plotWidth}" y2="${at}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${at + 4}" text-anchor="end" fill="#555">${formatRate(10 ** power)}</text>`);
  }
  let x = LEFT + GROUP_GAP;
  for (const group of groups) {
    const groupWidth = group.rows.length * (BAR + BAR_GAP) - BAR_GAP;
    parts.push(`<text x="${x + groupWidth / 2}" y="${PLOT_TOP + PLOT_HEIGHT + LABEL_SPACE - 8}" text-anchor="middle" font-weight="bold">${escapeXml(`${group.scenario.id}. ${shortTitle(group.scenario.title)}`)}</text>`);
    for (const row of group.rows) {
      parts.push(bar(row, x, y(row.itemsPerSecond), y(10 ** low)));
      x += BAR + BAR_GAP;
    }
    x += GROUP_GAP - BAR_GAP;
  }
  parts.push(`<line x1="${LEFT}" y1="${PLOT_TOP}" x2="${LEFT}" y2="${PLOT_TOP + PLOT_HEIGHT}" stroke="#333"/>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function bar(row: Row, x: number, top: number, bottom: number): string {
  const fill = colorOf(row.runner);
  const dash = row.reference === true ? ' stroke-dasharray="3 2" fill-opacity="0.35"' : '';
  const labelX = x + BAR / 2;
  const labelY = bottom + 8;
  return [
    `<rect x="${x}" y="${top.toFixed(1)}" width="${BAR}" height="${(bottom - top).toFixed(1)}" fill="${fill}" stroke="${fill}"${dash}><title>${escapeXml(`${row.runner}: ${formatRate(row.itemsPerSecond)} items/s`)}</title></rect>`,
    `<text x="${labelX}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="9">${formatRate(row.itemsPerSecond)}</text>`,
    `<text transform="translate(${labelX + 3},${labelY}) rotate(60)" font-size="10">${escapeXml(row.runner)}</text>`,
  ].join('\n');
}

function shortTitle(title: string): string {
  return title.split(':')[0]!;
}
