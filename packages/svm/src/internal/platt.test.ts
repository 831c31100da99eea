import { describe, expect, it } from 'vitest';

import { multiclassProbability, sigmoidPredict, sigmoidTrain } from './platt.js';

describe('Platt scaling', () => {
  it('fits a sigmoid whose probabilities rise with the decision value and match the class frequencies', () => {
    // Decision values −3..3; label +1 becomes more frequent as the value grows.
    const dec: number[] = [];
    const labels: number[] = [];
    for (let v = -3; v <= 3; v += 0.5) {
      for (let k = 0; k < 100; k++) {
        dec.push(v);
        labels.push(k < Math.round(100 / (1 + Math.exp(-2 * v))) ? 1 : -1);
      }
    }
    const [A, B] = sigmoidTrain(Float64Array.from(dec), Int8Array.from(labels));
    // P(+1 | f) = 1 / (1 + exp(A f + B)) with A ≈ −2 (the generating slope) and B ≈ 0 (symmetric data).
    expect(A).toBeGreaterThan(-2.3);
    expect(A).toBeLessThan(-1.7);
    expect(Math.abs(B)).toBeLessThan(0.1);
    expect(sigmoidPredict(3, A, B)).toBeGreaterThan(0.95);
    expect(sigmoidPredict(-3, A, B)).toBeLessThan(0.05);
    expect(sigmoidPredict(0, A, B)).toBeCloseTo(1 / (1 + Math.exp(B)), 12);
  });

  it('stays finite for huge decision values (the overflow-safe form)', () => {
    expect(sigmoidPredict(1e6, -1, 0)).toBe(1);
    expect(sigmoidPredict(-1e6, -1, 0)).toBe(0);
  });

  it('coupling recovers class probabilities from consistent pairwise ones (Wu, Lin & Weng)', () => {
    const p = [0.5, 0.3, 0.2];
    const k = 3;
    const r = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        if (i !== j) r[i * k + j] = (p[i] as number) / ((p[i] as number) + (p[j] as number));
    const q = multiclassProbability(k, r);
    q.forEach((v, i) => expect(Math.abs(v - (p[i] as number))).toBeLessThan(5e-3));
    expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});
