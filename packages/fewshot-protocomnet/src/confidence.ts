import { DataError } from '@ml/core';

/** Mean and 95% confidence half-width (1.96 · sample std / √n) of per-episode accuracies. */
export function meanWithCi95(values: readonly number[]): { mean: number; ci95: number } {
  const n = values.length;
  if (n === 0) throw new DataError('meanWithCi95: needs at least one value, got none');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: 0 };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: (1.96 * Math.sqrt(variance)) / Math.sqrt(n) };
}
