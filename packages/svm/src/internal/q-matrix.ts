import type { ResolvedKernel } from '../kernel.js';
import { powi } from '../kernel.js';
import { KernelCache } from './kernel-cache.js';

/** The solver's view of Q (Q_ij = y_i y_j K(x_i, x_j)): cached float32 columns, the float64 diagonal, and index swaps. */
export interface QMatrix {
  /** Diagonal of Q in float64 (swapped along with the indices). */
  readonly QD: Float64Array;
  /** Column i, entries [0, len); valid until the next two calls. */
  getQ(i: number, len: number): Float32Array;
  swapIndex(i: number, j: number): void;
}

/** Training rows of one subproblem: vectors (own copy, swapped in place), or indices into a precomputed Gram matrix. */
export interface KernelData {
  /** Row-major features [n, d] (empty for precomputed); rows are `d + d % 2` apart, the pad zero (see {@link KernelRows}). */
  x: Float64Array;
  n: number;
  d: number;
  /** Precomputed kernel: the full training Gram matrix, row-major [m, m], and each row's index into it. */
  gram?: { data: Float64Array; m: number; ids: Int32Array };
}

/**
 * Kernel evaluation over a subproblem's rows, libsvm's `Kernel` class: K(i, j) with precomputed squared
 * norms for rbf (exp(−γ(‖x_i‖² + ‖x_j‖² − 2 x_i·x_j))), rows row-major and contiguous.
 *
 * Columns are computed in two passes: dot products four columns at a time (each load of x_i feeds four
 * independent sums — V8 does not vectorise, and a single running sum leaves the adder waiting on
 * itself), then the kernel function and the signs. Every dot product, in a column, a diagonal or a
 * squared norm, adds the same pairs in the same order, so K(i, j) has the same bits however it is
 * reached. Rows are zero-padded to an even length; the padding adds exact zeros.
 */
export class KernelRows {
  private readonly x: Float64Array;
  private readonly stride: number;
  private readonly sq: Float64Array;
  private readonly tmp: Float64Array;
  private readonly gram: Float64Array;
  private readonly m: number;
  private readonly ids: Int32Array;
  private readonly kind: number;
  private readonly gamma: number;
  private readonly coef0: number;
  private readonly degree: number;

  constructor(data: KernelData, kernel: ResolvedKernel) {
    const { n, d } = data;
    this.stride = paddedStride(d);
    this.x = data.x;
    this.tmp = new Float64Array(n);
    this.gamma = kernel.gamma;
    this.coef0 = kernel.coef0;
    this.degree = kernel.degree;
    this.kind = ['linear', 'poly', 'rbf', 'sigmoid', 'precomputed'].indexOf(kernel.kernel);
    this.gram = data.gram?.data ?? new Float64Array(0);
    this.m = data.gram?.m ?? 0;
    this.ids = data.gram?.ids ?? new Int32Array(0);
    this.sq = new Float64Array(this.kind === 2 ? n : 0);
    for (let i = 0; i < this.sq.length; i++) this.sq[i] = this.dot(i, i);
  }

  private dot(i: number, j: number): number {
    const x = this.x;
    const w = this.stride;
    const a = i * w;
    const b = j * w;
    let s = 0;
    for (let c = 0; c < w; c += 2)
      s += (x[a + c] as number) * (x[b + c] as number) + (x[a + c + 1] as number) * (x[b + c + 1] as number);
    return s;
  }

  /** tmp[j] = x_i · x_j for j in [start, end). */
  private dots(i: number, start: number, end: number): void {
    if (end - start < 4) {
      this.dotsShort(i, start, end);
      return;
    }
    const x = this.x;
    const w = this.stride;
    const tmp = this.tmp;
    const a = i * w;
    // Blocks of four; a last partial block is redone as the four columns ending at `end`, which gives the
    // same bits for the overlap (each dot product is computed the same way).
    for (let j0 = start; j0 < end; j0 += 4) {
      const j = Math.min(j0, end - 4);
      const b0 = j * w;
      const b1 = b0 + w;
      const b2 = b1 + w;
      const b3 = b2 + w;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let c = 0; c < w; c += 2) {
        const u0 = x[a + c] as number;
        const u1 = x[a + c + 1] as number;
        s0 += u0 * (x[b0 + c] as number) + u1 * (x[b0 + c + 1] as number);
        s1 += u0 * (x[b1 + c] as number) + u1 * (x[b1 + c + 1] as number);
        s2 += u0 * (x[b2 + c] as number) + u1 * (x[b2 + c + 1] as number);
        s3 += u0 * (x[b3 + c] as number) + u1 * (x[b3 + c + 1] as number);
      }
      tmp[j] = s0;
      tmp[j + 1] = s1;
      tmp[j + 2] = s2;
      tmp[j + 3] = s3;
    }
  }

  private dotsShort(i: number, start: number, end: number): void {
    for (let j = start; j < end; j++) this.tmp[j] = this.dot(i, j);
  }

  /** K(x_i, x_j). */
  value(i: number, j: number): number {
    switch (this.kind) {
      case 0:
        return this.dot(i, j);
      case 1:
        return powi(this.gamma * this.dot(i, j) + this.coef0, this.degree);
      case 2:
        return Math.exp(-this.gamma * ((this.sq[i] as number) + (this.sq[j] as number) - 2 * this.dot(i, j)));
      case 3:
        return Math.tanh(this.gamma * this.dot(i, j) + this.coef0);
      default:
        return this.gram[(this.ids[i] as number) * this.m + (this.ids[j] as number)] as number;
    }
  }

  /** out[j] = y_i y_j K(x_i, x_j) for j in [start, end), rounded to float32 by the store. */
  fill(i: number, out: Float32Array, start: number, end: number, y: Int8Array): void {
    const yi = y[i] as number;
    if (this.kind === 4) {
      for (let j = start; j < end; j++) out[j] = yi * (y[j] as number) * this.value(i, j);
      return;
    }
    this.dots(i, start, end);
    const tmp = this.tmp;
    const { gamma, coef0, degree } = this;
    switch (this.kind) {
      case 0:
        for (let j = start; j < end; j++) out[j] = yi * (y[j] as number) * (tmp[j] as number);
        break;
      case 1:
        for (let j = start; j < end; j++)
          out[j] = yi * (y[j] as number) * powi(gamma * (tmp[j] as number) + coef0, degree);
        break;
      case 2: {
        const sq = this.sq;
        const sqi = sq[i] as number;
        for (let j = start; j < end; j++)
          out[j] =
            yi * (y[j] as number) * Math.exp(-gamma * (sqi + (sq[j] as number) - 2 * (tmp[j] as number)));
        break;
      }
      default:
        for (let j = start; j < end; j++)
          out[j] = yi * (y[j] as number) * Math.tanh(gamma * (tmp[j] as number) + coef0);
    }
  }

  /** Swaps rows i and j (shrinking moves inactive variables to the end). */
  swap(i: number, j: number): void {
    if (this.kind === 4) {
      const t = this.ids[i] as number;
      this.ids[i] = this.ids[j] as number;
      this.ids[j] = t;
      return;
    }
    const x = this.x;
    const w = this.stride;
    const a = i * w;
    const b = j * w;
    for (let c = 0; c < w; c++) {
      const t = x[a + c] as number;
      x[a + c] = x[b + c] as number;
      x[b + c] = t;
    }
    if (this.kind === 2) {
      const t = this.sq[i] as number;
      this.sq[i] = this.sq[j] as number;
      this.sq[j] = t;
    }
  }
}

/** Row length of {@link KernelData.x}: the feature count rounded up to even. */
export function paddedStride(d: number): number {
  return d + (d % 2);
}

/** Q for classification (C-SVC and ν-SVC): Q_ij = y_i y_j K(x_i, x_j), libsvm's SVC_Q. */
export class SvcQ implements QMatrix {
  readonly QD: Float64Array;
  private readonly rows: KernelRows;
  private readonly cache: KernelCache;
  private readonly y: Int8Array;

  constructor(data: KernelData, kernel: ResolvedKernel, y: Int8Array, cacheBytes: number) {
    this.rows = new KernelRows(data, kernel);
    this.y = Int8Array.from(y);
    this.cache = new KernelCache(data.n, cacheBytes);
    this.QD = new Float64Array(data.n);
    for (let i = 0; i < data.n; i++) this.QD[i] = this.rows.value(i, i);
  }

  getQ(i: number, len: number): Float32Array {
    const data = this.cache.get(i, len);
    const start = this.cache.start;
    if (start < len) this.rows.fill(i, data, start, len, this.y);
    return data;
  }

  swapIndex(i: number, j: number): void {
    this.cache.swapIndex(i, j);
    this.rows.swap(i, j);
    const y = this.y;
    const t = y[i] as number;
    y[i] = y[j] as number;
    y[j] = t;
    const q = this.QD[i] as number;
    this.QD[i] = this.QD[j] as number;
    this.QD[j] = q;
  }
}

/**
 * Q for regression (ε-SVR and ν-SVR), libsvm's SVR_Q: 2l variables (α⁺ then α⁻) over l kernel rows.
 * Columns are cached by real row and copied, signed and reordered, into one of two alternating buffers.
 */
export class SvrQ implements QMatrix {
  readonly QD: Float64Array;
  private readonly rows: KernelRows;
  private readonly cache: KernelCache;
  private readonly l: number;
  private readonly sign: Int8Array;
  private readonly index: Int32Array;
  private readonly ones: Int8Array;
  private readonly buffers: [Float32Array, Float32Array];
  private nextBuffer = 0;
  // The last column handed out, so the solver's back-to-back requests for the same i (selection, then
  // update) reuse it instead of gathering it again; any swap invalidates it.
  private lastI = -1;
  private lastLen = 0;
  private lastBuffer = 0;

  constructor(data: KernelData, kernel: ResolvedKernel, cacheBytes: number) {
    const l = data.n;
    this.l = l;
    this.rows = new KernelRows(data, kernel);
    this.cache = new KernelCache(l, cacheBytes);
    this.QD = new Float64Array(2 * l);
    this.sign = new Int8Array(2 * l);
    this.index = new Int32Array(2 * l);
    for (let k = 0; k < l; k++) {
      this.sign[k] = 1;
      this.sign[k + l] = -1;
      this.index[k] = k;
      this.index[k + l] = k;
      this.QD[k] = this.rows.value(k, k);
      this.QD[k + l] = this.QD[k] as number;
    }
    this.ones = new Int8Array(l).fill(1);
    this.buffers = [new Float32Array(2 * l), new Float32Array(2 * l)];
  }

  getQ(i: number, len: number): Float32Array {
    if (i === this.lastI && len <= this.lastLen) {
      this.nextBuffer = 1 - this.lastBuffer;
      return this.buffers[this.lastBuffer] as Float32Array;
    }
    const real = this.index[i] as number;
    const data = this.cache.get(real, this.l);
    if (this.cache.start < this.l) this.rows.fill(real, data, 0, this.l, this.ones);
    const buf = this.buffers[this.nextBuffer] as Float32Array;
    this.lastI = i;
    this.lastLen = len;
    this.lastBuffer = this.nextBuffer;
    this.nextBuffer = 1 - this.nextBuffer;
    const si = this.sign[i] as number;
    const sign = this.sign;
    const index = this.index;
    for (let j = 0; j < len; j++) buf[j] = si * (sign[j] as number) * (data[index[j] as number] as number);
    return buf;
  }

  swapIndex(i: number, j: number): void {
    this.lastI = -1;
    let t = this.sign[i] as number;
    this.sign[i] = this.sign[j] as number;
    this.sign[j] = t;
    t = this.index[i] as number;
    this.index[i] = this.index[j] as number;
    this.index[j] = t;
    const q = this.QD[i] as number;
    this.QD[i] = this.QD[j] as number;
    this.QD[j] = q;
  }
}
