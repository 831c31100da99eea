import { chronologicalSplit } from './chronological-split.js';
import type { ChronologicalSplit, ChronologicalSplitOptions } from './chronological-split.js';
import { SeriesScaler } from './series-scaler.js';
import { slidingWindows } from './sliding-windows.js';
import type { Windows } from './sliding-windows.js';

/** Options of {@link forecastingData}. */
export interface ForecastingDataOptions {
  /** Past values per input window. */
  window: number;
  /** Values to predict after each window (default 1). */
  horizon?: number;
  /** Chronological fractions (default train 0.7, val 0.1, the rest test). */
  split?: ChronologicalSplitOptions;
  /** Scaling fitted on the training part (default 'standard'). */
  scale?: 'standard' | 'minmax';
}

/** Defaults of {@link ForecastingDataOptions}. */
export const DEFAULT_FORECASTING_DATA_OPTIONS = { horizon: 1, scale: 'standard' } as const;

/** What {@link forecastingData} returns: scaled windows per part, and the fitted scaler. */
export interface ForecastingData {
  train: Windows;
  val: Windows;
  test: Windows;
  /** Fitted on the training part of the series only. */
  scaler: SeriesScaler;
  /** The step ranges of the three parts (targets of each part's windows lie in its range). */
  split: ChronologicalSplit;
  /** The whole series, scaled. */
  scaled: Float32Array;
}

/**
 * A one-call forecasting setup: split the series in time, fit the scaler on the training part only,
 * scale everything with it, and cut (window → horizon) pairs whose targets lie in each part
 * (validation and test inputs may reach back into the previous part, as a forecaster's would).
 */
export function forecastingData(series: ArrayLike<number>, options: ForecastingDataOptions): ForecastingData {
  const { window, horizon, scale } = { ...DEFAULT_FORECASTING_DATA_OPTIONS, ...options };
  const split = chronologicalSplit(series.length, options.split);
  const train = Array.from({ length: split.train.end }, (_, i) => series[i] as number);
  const scaler = new SeriesScaler({ kind: scale }).fit(train);
  const scaled = scaler.transform(series);
  const cut = (r: { start: number; end: number }): Windows =>
    slidingWindows(scaled, { window, horizon, targetStart: r.start, targetEnd: r.end });
  return { train: cut(split.train), val: cut(split.val), test: cut(split.test), scaler, split, scaled };
}
