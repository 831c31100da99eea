// Prediction-vs-truth plots as standalone SVG (d3 computes the scales and paths).
import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';

/** What {@link plotForecast} draws. */
export interface ForecastPlot {
  title: string;
  /** Time index of each point (x axis). */
  time: ArrayLike<number>;
  truth: ArrayLike<number>;
  prediction: ArrayLike<number>;
  /** Label of the y axis (units). */
  yLabel: string;
}

const W = 900;
const H = 420;
const M = { top: 40, right: 20, bottom: 110, left: 64 };
const ERR_H = 70;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Truth (black) and prediction (magenta, dashed) over the test period, with the error
 * prediction − truth in a strip below; returns the SVG text.
 */
export function plotForecast(p: ForecastPlot): string {
  const n = p.time.length;
  const t = Array.from(p.time);
  const ys = [...Array.from(p.truth), ...Array.from(p.prediction)];
  const err = Array.from({ length: n }, (_, i) => (p.prediction[i] as number) - (p.truth[i] as number));
  const x = scaleLinear()
    .domain([t[0] as number, t[n - 1] as number])
    .range([M.left, W - M.right]);
  const y = scaleLinear()
    .domain([Math.min(...ys), Math.max(...ys)])
    .nice()
    .range([H - M.bottom, M.top]);
  const eMax = Math.max(1e-12, ...err.map(Math.abs));
  const e = scaleLinear()
    .domain([-eMax, eMax])
    .range([H - 10, H - 10 - ERR_H + 20]);
  const path = (vals: number[], sy: (v: number) => number): string =>
    line<number>()
      .x((_, i) => x(t[i] as number))
      .y((v) => sy(v))(vals) ?? '';
  const yTicks = y.ticks(6);
  const xTicks = x.ticks(8);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(p.title)}</text>
${yTicks.map((v) => `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join('\n')}
${xTicks.map((v) => `<text x="${x(v)}" y="${H - M.bottom + 16}" text-anchor="middle">${v}</text>`).join('\n')}
<text x="16" y="${(M.top + H - M.bottom) / 2}" transform="rotate(-90 16 ${(M.top + H - M.bottom) / 2})" text-anchor="middle">${esc(p.yLabel)}</text>
<path d="${path(Array.from(p.truth), y)}" fill="none" stroke="black" stroke-width="1.5" data-series="truth"/>
<path d="${path(Array.from(p.prediction), y)}" fill="none" stroke="#e4007f" stroke-width="1.5" stroke-dasharray="5 3" data-series="prediction"/>
<g transform="translate(${W - M.right - 190}, ${M.top + 4})"><line x1="0" x2="24" y1="0" y2="0" stroke="black" stroke-width="1.5"/><text x="30" y="4">truth</text><line x1="80" x2="104" y1="0" y2="0" stroke="#e4007f" stroke-width="1.5" stroke-dasharray="5 3"/><text x="110" y="4">prediction</text></g>
<line x1="${M.left}" x2="${W - M.right}" y1="${e(0)}" y2="${e(0)}" stroke="#bbb"/>
<path d="${path(err, e)}" fill="none" stroke="#555" stroke-width="1" data-series="error"/>
<text x="${M.left - 6}" y="${e(0) + 4}" text-anchor="end">error</text>
<text x="${W - M.right}" y="${H - ERR_H + 6}" text-anchor="end" fill="#555">prediction − truth, ±${eMax.toPrecision(2)} full scale; time step on the x axis</text>
</svg>
`;
}
