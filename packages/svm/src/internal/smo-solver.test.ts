import { describe, expect, it } from 'vitest';

import { SvcQ, paddedStride } from './q-matrix.js';
import { solveSmo } from './smo-solver.js';

function problem(x: number[][], y: number[], C: number, shrinking = true) {
  const d = (x[0] as number[]).length;
  const w = paddedStride(d);
  const flat = new Float64Array(x.length * w);
  x.forEach((row, r) => flat.set(row, r * w));
  const data = { x: flat, n: x.length, d };
  const yy = Int8Array.from(y);
  const Q = new SvcQ(data, { kernel: 'linear', gamma: 0, degree: 3, coef0: 0 }, yy, 1 << 20);
  return {
    Q,
    p: new Float64Array(x.length).fill(-1),
    y: yy,
    alpha: new Float64Array(x.length),
    C: new Float64Array(x.length).fill(C),
    eps: 1e-3,
    shrinking,
    maxIter: Infinity,
    nu: false,
  };
}

describe('solveSmo', () => {
  it('solves the two-point hard-margin problem by hand: w = 2, b = −1, α = (2, 2)', () => {
    // Points 0 (class −1) and 1 (class +1): the maximal margin boundary is x = 0.5, f(x) = 2x − 1.
    const res = solveSmo(problem([[0], [1]], [-1, 1], 100));
    expect(res.converged).toBe(true);
    expect(res.alpha[0]).toBeCloseTo(2, 6);
    expect(res.alpha[1]).toBeCloseTo(2, 6);
    expect(res.rho).toBeCloseTo(1, 6); // f(x) = Σ α_i y_i K(x_i, x) − ρ
    expect(res.obj).toBeCloseTo(-2, 6); // ½αᵀQα − eᵀα = ½·4 − 4
  });

  it('caps α at C when the classes overlap, and meets the KKT conditions within tol', () => {
    const x = [[0], [1], [2], [3], [1.5], [1.6]];
    const y = [-1, -1, 1, 1, 1, -1];
    for (const shrinking of [true, false]) {
      const prob = problem(x, y, 1, shrinking);
      const res = solveSmo(prob);
      let sum = 0;
      res.alpha.forEach((a, i) => {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
        sum += a * (y[i] as number);
      });
      expect(Math.abs(sum)).toBeLessThan(1e-12); // yᵀα = 0
      // y_i f(x_i) ≥ 1 − tol where α = 0, ≤ 1 + tol where α = C, ≈ 1 where 0 < α < C.
      const f = (v: number): number =>
        res.alpha.reduce((s, a, i) => s + a * (y[i] as number) * (x[i]?.[0] as number) * v, 0) - res.rho;
      res.alpha.forEach((a, i) => {
        const m = (y[i] as number) * f(x[i]?.[0] as number);
        if (a === 0) expect(m).toBeGreaterThan(1 - 2e-3);
        else if (a === 1) expect(m).toBeLessThan(1 + 2e-3);
        else expect(Math.abs(m - 1)).toBeLessThan(2e-3);
      });
      expect(res.alpha.some((a) => a === 1)).toBe(true);
    }
  });

  it('reports non-convergence at maxIter', () => {
    const res = solveSmo({
      ...problem([[0], [1], [2], [3], [1.5], [1.6]], [-1, -1, 1, 1, 1, -1], 1),
      maxIter: 1,
    });
    expect(res.iterations).toBe(1);
    expect(res.converged).toBe(false);
  });
});
