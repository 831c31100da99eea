import { describe, expect, test } from 'vitest';

import { DataError } from '@ml/core';
import { expectThrows } from '@ml/core/testing';

import { meanWithCi95 } from './confidence.js';

describe('meanWithCi95', () => {
  test('mean and 1.96 · sample std / √n by hand', () => {
    const { mean, ci95 } = meanWithCi95([0.5, 0.7, 0.6, 0.8]);
    expect(mean).toBeCloseTo(0.65, 10);
    const std = Math.sqrt((0.15 ** 2 + 0.05 ** 2 + 0.05 ** 2 + 0.15 ** 2) / 3);
    expect(ci95).toBeCloseTo((1.96 * std) / 2, 10);
    expect(meanWithCi95([0.4])).toEqual({ mean: 0.4, ci95: 0 });
    expectThrows(() => meanWithCi95([]), DataError, 'meanWithCi95: needs at least one value, got none');
  });
});
