import { ConfigError, ShapeError } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { kernelMatrix, powi, resolveKernel } from './kernel.js';

describe('kernels', () => {
  const a = [
    [1, 2],
    [0, -1],
  ];
  const b = [[3, 1]];

  it('linear, poly, rbf and sigmoid by hand', () => {
    expect(kernelMatrix(a, b, { kernel: 'linear' })).toEqual([[5], [-1]]);
    // (0.5·5 + 1)^2 = 12.25, (0.5·(−1) + 1)^2 = 0.25
    expect(kernelMatrix(a, b, { kernel: 'poly', gamma: 0.5, coef0: 1, degree: 2 })).toEqual([
      [12.25],
      [0.25],
    ]);
    // ‖(1,2) − (3,1)‖² = 5, ‖(0,−1) − (3,1)‖² = 13
    const rbf = kernelMatrix(a, b, { kernel: 'rbf', gamma: 0.1 });
    expect(rbf[0]?.[0]).toBeCloseTo(Math.exp(-0.5), 15);
    expect(rbf[1]?.[0]).toBeCloseTo(Math.exp(-1.3), 15);
    expect(kernelMatrix(a, b, { kernel: 'sigmoid', gamma: 0.2, coef0: -1 })[0]?.[0]).toBeCloseTo(
      Math.tanh(0),
      15,
    );
  });

  it("powi is libsvm's repeated squaring", () => {
    expect(powi(3, 0)).toBe(1);
    expect(powi(3, 5)).toBe(243);
    expect(powi(-0.5, 3)).toBe(-0.125);
  });

  it("gamma 'scale' is 1 / (nFeatures · var(x)) over all values, 'auto' is 1 / nFeatures", () => {
    const x = { data: Float64Array.from([1, 2, 3, 4, 5, 6]), rows: 3, cols: 2 };
    // mean 3.5, variance 17.5 / 6
    expect(resolveKernel({ kernel: 'rbf', gamma: 'scale', degree: 3, coef0: 0 }, x).gamma).toBeCloseTo(
      1 / (2 * (17.5 / 6)),
      15,
    );
    expect(resolveKernel({ kernel: 'rbf', gamma: 'auto', degree: 3, coef0: 0 }, x).gamma).toBe(0.5);
    const constant = { data: new Float64Array(4).fill(2), rows: 2, cols: 2 };
    expect(resolveKernel({ kernel: 'rbf', gamma: 'scale', degree: 3, coef0: 0 }, constant).gamma).toBe(1);
    expect(resolveKernel({ kernel: 'precomputed', gamma: 'scale', degree: 3, coef0: 0 }, x).gamma).toBe(0);
  });

  it('kernelMatrix checks its arguments', () => {
    expect(() => kernelMatrix(a, [[1, 2, 3]])).toThrow(
      new ShapeError('kernelMatrix: a and b must have the same number of features, got [2, 2] and [1, 3]'),
    );
    expect(() => kernelMatrix(a, b, { kernel: 'precomputed' })).toThrow(
      new ConfigError(`kernelMatrix: kernel must be a kernel function, got 'precomputed'`),
    );
    expect(() => kernelMatrix(a, b, { gamma: -1 })).toThrow(ConfigError);
  });
});
