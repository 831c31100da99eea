// Charts with uPlot: live training curves (raw and smoothed, one point per step) and the forecast
// of the held-out series against the truth.
import uPlot from 'uplot';

/** Weight of the newest value in the smoothed line (an exponential moving average). */
export const SMOOTHING = 0.1;

/** Title, series label, colour and optional fixed y-range of a {@link LiveChart}. */
export interface LiveChartOptions {
  title: string;
  label: string;
  color: string;
  range?: [number, number];
}

function width(target: HTMLElement): number {
  return Math.max(280, target.clientWidth || 440);
}

/** One live chart: a value against the step, its raw points and their moving average. */
export class LiveChart {
  readonly #target: HTMLElement;
  #plot: uPlot | null = null;
  readonly #steps: number[] = [];
  readonly #raw: number[] = [];
  readonly #smooth: number[] = [];
  #dirty = false;

  constructor(target: HTMLElement, options: LiveChartOptions) {
    this.#target = target;
    this.reset(options);
  }

  /** Forgets every point and redraws empty, with new labels. */
  reset(options: LiveChartOptions): void {
    const { title, label, color, range } = options;
    this.#plot?.destroy();
    this.#steps.length = 0;
    this.#raw.length = 0;
    this.#smooth.length = 0;
    this.#plot = new uPlot(
      {
        title,
        width: width(this.#target),
        height: 220,
        scales: { x: { time: false }, y: range === undefined ? {} : { range } },
        axes: [{ label: 'step' }, {}],
        series: [
          { label: 'step' },
          { label, stroke: `${color}66`, width: 1 },
          { label: 'smoothed', stroke: color, width: 2 },
        ],
      },
      [[], [], []],
      this.#target,
    );
  }

  /** Adds one point; the chart redraws on the next {@link LiveChart.redraw}. */
  push(step: number, value: number): void {
    const previous = this.#smooth.at(-1);
    this.#steps.push(step);
    this.#raw.push(value);
    this.#smooth.push(previous === undefined ? value : previous + SMOOTHING * (value - previous));
    this.#dirty = true;
  }

  /** Redraws if points arrived since the last call. */
  redraw(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#plot?.setData([this.#steps, this.#raw, this.#smooth]);
  }
}

/** The held-out part of a series and the model's one-step-ahead forecast of it. */
export class ForecastChart {
  readonly #plot: uPlot;

  constructor(target: HTMLElement) {
    this.#plot = new uPlot(
      {
        title: 'Held-out series: truth and one-step-ahead forecast',
        width: Math.max(560, target.clientWidth || 900),
        height: 240,
        scales: { x: { time: false } },
        axes: [{ label: 'time step' }, {}],
        series: [
          { label: 't' },
          { label: 'truth', stroke: '#495057', width: 2 },
          { label: 'forecast', stroke: '#e8590c', width: 2, dash: [6, 3] },
        ],
      },
      [[], [], []],
      target,
    );
  }

  /** Draws a new forecast. */
  show(index: readonly number[], truth: readonly number[], predicted: readonly number[]): void {
    this.#plot.setData([[...index], [...truth], [...predicted]]);
  }
}
