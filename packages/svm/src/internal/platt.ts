/**
 * Platt scaling as improved by Lin, Lin & Weng (2007): fits P(y = 1 | f) = 1 / (1 + exp(A f + B)) to
 * decision values by Newton's method with a backtracking line search on regularised targets
 * (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2), evaluated in the overflow-safe form. Returns [A, B].
 */
export function sigmoidTrain(dec: Float64Array, labels: Int8Array): [number, number] {
  const l = dec.length;
  let prior1 = 0;
  let prior0 = 0;
  for (let i = 0; i < l; i++) {
    if ((labels[i] as number) > 0) prior1 += 1;
    else prior0 += 1;
  }
  const maxIter = 100;
  const minStep = 1e-10;
  const sigma = 1e-12; // keeps the Hessian strictly positive definite
  const eps = 1e-5;
  const hiTarget = (prior1 + 1) / (prior1 + 2);
  const loTarget = 1 / (prior0 + 2);
  const t = new Float64Array(l);
  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  let fval = 0;
  for (let i = 0; i < l; i++) {
    t[i] = (labels[i] as number) > 0 ? hiTarget : loTarget;
    const fApB = (dec[i] as number) * A + B;
    fval +=
      fApB >= 0
        ? (t[i] as number) * fApB + Math.log(1 + Math.exp(-fApB))
        : ((t[i] as number) - 1) * fApB + Math.log(1 + Math.exp(fApB));
  }
  for (let iter = 0; iter < maxIter; iter++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < l; i++) {
      const fApB = (dec[i] as number) * A + B;
      let p: number;
      let q: number;
      if (fApB >= 0) {
        p = Math.exp(-fApB) / (1 + Math.exp(-fApB));
        q = 1 / (1 + Math.exp(-fApB));
      } else {
        p = 1 / (1 + Math.exp(fApB));
        q = Math.exp(fApB) / (1 + Math.exp(fApB));
      }
      const d2 = p * q;
      const di = dec[i] as number;
      h11 += di * di * d2;
      h22 += d2;
      h21 += di * d2;
      const d1 = (t[i] as number) - p;
      g1 += di * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < eps && Math.abs(g2) < eps) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= minStep) {
      const newA = A + step * dA;
      const newB = B + step * dB;
      let newf = 0;
      for (let i = 0; i < l; i++) {
        const fApB = (dec[i] as number) * newA + newB;
        newf +=
          fApB >= 0
            ? (t[i] as number) * fApB + Math.log(1 + Math.exp(-fApB))
            : ((t[i] as number) - 1) * fApB + Math.log(1 + Math.exp(fApB));
      }
      if (newf < fval + 0.0001 * step * gd) {
        A = newA;
        B = newB;
        fval = newf;
        break;
      }
      step /= 2;
    }
    if (step < minStep) break; // the line search failed: keep the last good point
  }
  return [A, B];
}

/** P(positive | decision value) under the fitted sigmoid, in the form that avoids cancellation. */
export function sigmoidPredict(dec: number, A: number, B: number): number {
  const fApB = dec * A + B;
  return fApB >= 0 ? Math.exp(-fApB) / (1 + Math.exp(-fApB)) : 1 / (1 + Math.exp(fApB));
}

/**
 * Couples pairwise probabilities r[i][j] ≈ P(i | i or j) into class probabilities, method 2 of Wu, Lin &
 * Weng (2004): a fixed-point iteration on min ½pᵀQp subject to Σp = 1. `r` is k×k row-major.
 */
export function multiclassProbability(k: number, r: Float64Array): Float64Array {
  const p = new Float64Array(k);
  const Q = new Float64Array(k * k);
  const Qp = new Float64Array(k);
  const maxIter = Math.max(100, k);
  const eps = 0.005 / k;
  for (let t = 0; t < k; t++) {
    p[t] = 1 / k;
    let diag = 0;
    for (let j = 0; j < t; j++) {
      diag += (r[j * k + t] as number) * (r[j * k + t] as number);
      Q[t * k + j] = Q[j * k + t] as number;
    }
    for (let j = t + 1; j < k; j++) {
      diag += (r[j * k + t] as number) * (r[j * k + t] as number);
      Q[t * k + j] = -(r[j * k + t] as number) * (r[t * k + j] as number);
    }
    Q[t * k + t] = diag;
  }
  for (let iter = 0; iter < maxIter; iter++) {
    let pQp = 0;
    for (let t = 0; t < k; t++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += (Q[t * k + j] as number) * (p[j] as number);
      Qp[t] = s;
      pQp += (p[t] as number) * s;
    }
    let maxError = 0;
    for (let t = 0; t < k; t++) maxError = Math.max(maxError, Math.abs((Qp[t] as number) - pQp));
    if (maxError < eps) break;
    for (let t = 0; t < k; t++) {
      const qtt = Q[t * k + t] as number;
      const diff = (-(Qp[t] as number) + pQp) / qtt;
      p[t] = (p[t] as number) + diff;
      pQp = (pQp + diff * (diff * qtt + 2 * (Qp[t] as number))) / (1 + diff) / (1 + diff);
      for (let j = 0; j < k; j++) {
        Qp[j] = ((Qp[j] as number) + diff * (Q[t * k + j] as number)) / (1 + diff);
        p[j] = (p[j] as number) / (1 + diff);
      }
    }
  }
  return p;
}
