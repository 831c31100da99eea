import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';

import { ConfigError } from '@ml/core';

import type { History, Logs } from './history.js';

/** Options of {@link plotHistory}. */
export interface PlotHistoryOptions {
  /** Panels left to right: 'loss' and metric names (default: loss, then every metric in the history). */
  panels?: string[];
  /** Width of one panel in pixels (default 480). */
  panelWidth?: number;
  /** Height in pixels (default 340). */
  height?: number;
  /** Title above the panels (default none). */
  title?: string;
  /** Train series colour (default '#e4007f'). */
  trainColor?: string;
  /** Validation series colour, drawn dashed (default '#f19ec2'). */
  valColor?: string;
}

/** Defaults of {@link PlotHistoryOptions}. */
export const DEFAULT_PLOT_HISTORY_OPTIONS = {
  panelWidth: 480,
  height: 340,
  trainColor: '#e4007f',
  valColor: '#f19ec2',
} as const;

/** One plotted line: its log key, legend label and (step, value) points. */
export interface CurveSeries {
  key: string;
  label: string;
  points: [number, number][];
  dashed: boolean;
}

const NOT_METRICS = new Set(['epoch', 'step', 'batch', 'lr', 'seconds', 'size', 'loss']);
// The top margin holds the panel title and, below it, the legend: outside the plot area, so it never
// covers data whichever way the curves run.
const MARGIN = { top: 50, right: 16, bottom: 46, left: 60 };
const LEGEND_SWATCH = 24;
/** Rough width of one character of the 12 px sans-serif legend text, to lay the entries out. */
const CHAR_WIDTH = 6.6;

function pointsOf(records: readonly Logs[], key: string): [number, number][] {
  return records
    .filter((r) => typeof r[key] === 'number' && Number.isFinite(r[key]) && typeof r.step === 'number')
    .map((r) => [r.step as number, r[key] as number]);
}

/** The metric names in a history (train keys and `val_` keys without the prefix), in first-seen order. */
export function historyMetrics(history: History): string[] {
  const out: string[] = [];
  for (const r of [...history.epochs, ...history.validations]) {
    for (const k of Object.keys(r)) {
      const name = k.startsWith('val_') ? k.slice(4) : k;
      if (!NOT_METRICS.has(name) && !out.includes(name)) out.push(name);
    }
  }
  return out;
}

/**
 * The series of one panel, against optimizer steps: the train value of every `logEvery` record (the
 * window's mean loss, the epoch's running metric) — or of every epoch when the step records lack it —
 * and the value after each validation (or epoch).
 */
export function historySeries(history: History, panel: string): CurveSeries[] {
  const fromSteps = pointsOf(history.steps, panel);
  const train = fromSteps.length > 0 ? fromSteps : pointsOf(history.epochs, panel);
  const val = pointsOf(history.validations.length > 0 ? history.validations : history.epochs, `val_${panel}`);
  const out: CurveSeries[] = [];
  if (train.length > 0) out.push({ key: panel, label: `Train ${panel}`, points: train, dashed: false });
  if (val.length > 0) out.push({ key: `val_${panel}`, label: `Dev ${panel}`, points: val, dashed: true });
  return out;
}

function escapeXml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function fmt(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/**
 * Draws loss and metric curves as a standalone SVG document, one panel per entry of `panels`: train
 * solid, dev dashed, steps on x, each panel's legend in a row between its title and its plot area.
 * Scales and path geometry come from d3-scale and d3-shape. Each line is a `<path class="series"
 * data-series="<key>" data-points="<n>">`.
 */
export function plotHistory(history: History, options: PlotHistoryOptions = {}): string {
  const d = DEFAULT_PLOT_HISTORY_OPTIONS;
  const panelWidth = options.panelWidth ?? d.panelWidth;
  const height = options.height ?? d.height;
  for (const [name, v] of [
    ['panelWidth', panelWidth],
    ['height', height],
  ] as const) {
    if (!Number.isFinite(v) || v < 120)
      throw new ConfigError(`plotHistory: ${name} must be a number ≥ 120, got ${v}`);
  }
  const panels = options.panels ?? ['loss', ...historyMetrics(history)];
  if (!Array.isArray(panels) || panels.length === 0)
    throw new ConfigError(
      `plotHistory: panels must be a non-empty array of log keys, got ${JSON.stringify(panels)}`,
    );
  const colors = { train: options.trainColor ?? d.trainColor, val: options.valColor ?? d.valColor };
  const titleSpace = options.title !== undefined ? 24 : 0;
  const width = panelWidth * panels.length;
  const total = height + titleSpace;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${total}" fill="white"/>`,
  ];
  if (options.title !== undefined)
    parts.push(
      `<text x="${width / 2}" y="18" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`,
    );
  panels.forEach((panel, i) => {
    parts.push(
      `<g class="panel" data-panel="${escapeXml(panel)}" transform="translate(${i * panelWidth},${titleSpace})">`,
    );
    parts.push(drawPanel(panel, historySeries(history, panel), panelWidth, height, colors));
    parts.push('</g>');
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function drawPanel(
  panel: string,
  series: CurveSeries[],
  w: number,
  h: number,
  colors: { train: string; val: string },
): string {
  const x0 = MARGIN.left;
  const x1 = w - MARGIN.right;
  const y0 = h - MARGIN.bottom;
  const y1 = MARGIN.top;
  const all = series.flatMap((s) => s.points);
  const out: string[] = [];
  out.push(
    `<text x="${(x0 + x1) / 2}" y="${y1 - 30}" text-anchor="middle" font-size="13">${escapeXml(panel)}</text>`,
  );
  out.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#333"/>`);
  if (all.length === 0) {
    out.push(
      `<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" fill="#888">no data</text>`,
    );
    return out.join('\n');
  }
  let [xMin, xMax] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [yMin, yMax] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  if (yMin === yMax) {
    const pad = Math.abs(yMin) * 0.1 || 0.5;
    [yMin, yMax] = [yMin - pad, yMax + pad];
  }
  const x = scaleLinear().domain([xMin, xMax]).nice().range([x0, x1]);
  const y = scaleLinear().domain([yMin, yMax]).nice().range([y0, y1]);
  const xFormat = x.tickFormat(6);
  const yFormat = y.tickFormat(5);
  for (const t of x.ticks(6)) {
    const px = fmt(x(t));
    out.push(
      `<line x1="${px}" x2="${px}" y1="${y0}" y2="${y1}" stroke="#eee"/><line x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + 4}" stroke="#333"/>`,
    );
    out.push(`<text x="${px}" y="${y0 + 16}" text-anchor="middle">${xFormat(t)}</text>`);
  }
  for (const t of y.ticks(5)) {
    const py = fmt(y(t));
    out.push(
      `<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="#eee"/><line x1="${x0 - 4}" x2="${x0}" y1="${py}" y2="${py}" stroke="#333"/>`,
    );
    out.push(
      `<text x="${x0 - 7}" y="${py}" text-anchor="end" dominant-baseline="middle">${yFormat(t)}</text>`,
    );
  }
  out.push(`<text x="${(x0 + x1) / 2}" y="${h - 10}" text-anchor="middle">step</text>`);
  out.push(
    `<text transform="translate(14,${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel)}</text>`,
  );
  const path = line<[number, number]>()
    .x((p) => x(p[0]))
    .y((p) => y(p[1]))
    .digits(2);
  // Legend: one row of entries centred above the plot area (in the top margin, below the title).
  const legendY = y1 - 12;
  const widths = series.map((s) => LEGEND_SWATCH + 6 + s.label.length * CHAR_WIDTH);
  const gap = 18;
  let legendX = (x0 + x1) / 2 - (widths.reduce((a, b) => a + b, 0) + gap * (series.length - 1)) / 2;
  const paths: string[] = [];
  const legend: string[] = [`<g class="legend">`];
  series.forEach((s, k) => {
    const color = s.dashed ? colors.val : colors.train;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    paths.push(
      `<path class="series" data-series="${escapeXml(s.key)}" data-points="${s.points.length}" d="${path(s.points) ?? ''}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    if (s.points.length <= 40)
      for (const p of s.points)
        paths.push(`<circle cx="${fmt(x(p[0]))}" cy="${fmt(y(p[1]))}" r="2.5" fill="${color}"/>`);
    const lx = fmt(legendX);
    legend.push(
      `<line x1="${lx}" x2="${fmt(legendX + LEGEND_SWATCH)}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${fmt(legendX + LEGEND_SWATCH + 6)}" y="${legendY}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    );
    legendX += (widths[k] ?? 0) + gap;
  });
  legend.push('</g>');
  return [...out, ...paths, ...legend].join('\n');
}
