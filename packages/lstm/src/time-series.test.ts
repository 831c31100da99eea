import { describe, expect, test } from 'vitest';

import { ConfigError, DataError } from '@ml/core';
import { expectThrows } from '@ml/core/testing';

import { RidgeRegression, lastValueForecast } from './baselines.js';
import { chronologicalSplit } from './chronological-split.js';
import { forecastingData } from './forecasting-data.js';
import { SeriesScaler } from './series-scaler.js';
import { slidingWindows } from './sliding-windows.js';

describe('time-series helpers', () => {
  test('chronologicalSplit: consecutive ranges in time order', () => {
    expect(chronologicalSplit(100)).toEqual({
      train: { start: 0, end: 70 },
      val: { start: 70, end: 80 },
      test: { start: 80, end: 100 },
    });
    expectThrows(() => chronologicalSplit(100, { train: 0.9, val: 0.1 }), ConfigError, /train \+ val < 1/);
  });

  test('slidingWindows: window → horizon pairs, targets inside the requested range', () => {
    const series = Array.from({ length: 10 }, (_, i) => i);
    const w = slidingWindows(series, { window: 3, horizon: 2, targetStart: 6 });
    expect(w.count).toBe(3); // targets [6, 7], [7, 8], [8, 9]
    expect(Array.from(w.x)).toEqual([3, 4, 5, 4, 5, 6, 5, 6, 7]);
    expect(Array.from(w.y)).toEqual([6, 7, 7, 8, 8, 9]);
    expect(Array.from(w.targetIndex)).toEqual([6, 7, 8]);
    expect(Array.from(lastValueForecast(w))).toEqual([5, 5, 6, 6, 7, 7]);
  });

  test('a window longer than the series is a DataError', () => {
    expectThrows(
      () => slidingWindows([1, 2, 3], { window: 5 }),
      DataError,
      'slidingWindows: the series must be at least window + horizon = 5 + 1 = 6 values long, got 3',
    );
  });

  test('SeriesScaler: fitted on the training part only, inverse restores units, use before fit is a DataError', () => {
    const s = new SeriesScaler();
    expectThrows(
      () => s.transform([1, 2]),
      DataError,
      'SeriesScaler.transform: the scaler is not fitted; call fit(trainingValues) on the training part first',
    );
    expectThrows(
      () => s.inverseTransform([1]),
      DataError,
      /SeriesScaler.inverseTransform: the scaler is not fitted/,
    );
    s.fit([1, 3]); // mean 2, population std 1
    expect(Array.from(s.transform([1, 3, 5]))).toEqual([-1, 1, 3]);
    expect(Array.from(s.inverseTransform([-1, 1, 3]))).toEqual([1, 3, 5]);
    expect(s.unit).toBe(1);
    const data = forecastingData(
      Array.from({ length: 100 }, (_, i) => i),
      { window: 5 },
    );
    expect(data.split.train.end).toBe(70);
    // Standardised with the statistics of steps 0…69 only: the mean of the training part is 34.5.
    expect(data.scaler.inverseTransform([0])[0]).toBeCloseTo(34.5, 4);
    expect(data.train.count).toBe(65);
    expect(data.val.targetIndex[0]).toBe(70);
    expect(data.test.targetIndex[data.test.count - 1]).toBe(99);
  });

  test('RidgeRegression recovers a linear rule of the window and refuses to predict before fitting', () => {
    const series = Array.from({ length: 60 }, (_, i) => Math.sin(i / 3) + 0.1 * i);
    const w = slidingWindows(series, { window: 4, horizon: 1 });
    // y = 2·x[3] − x[2] + 0.5, a rule of the window exactly representable by ridge with alpha 0
    const y = Float32Array.from(
      { length: w.count },
      (_, i) => 2 * (w.x[i * 4 + 3] as number) - (w.x[i * 4 + 2] as number) + 0.5,
    );
    const data = { ...w, y };
    const ridge = new RidgeRegression({ alpha: 0 });
    expectThrows(() => ridge.predict(data), DataError, /not fitted/);
    const pred = ridge.fit(data).predict(data);
    for (let i = 0; i < w.count; i++) expect(pred[i]).toBeCloseTo(y[i] as number, 3);
  });
});
