// The arithmetic of @ml's fused LSTM sequence kernels in plain JS over Float32Array views: one step's
// elementwise work forward and backward (the cpu backend's, and wasm's for hidden sizes the SIMD cells do
// not fit), the plain product, and the two step loops every backend drives. The one product per step
// (h·W_hhᵀ forward, dA·W_hh backward) is the backend's. Gate order i, f, g, o (PyTorch's).

/** The sizes of one sequence: T steps, a batch of B, hidden size H (so 4H gate pre-activations). */
export interface LstmDims {
  T: number;
  B: number;
  H: number;
}

/** Inputs and outputs of the forward pass (views of T·B·4H, B·H … floats). */
export interface LstmForwardBuffers {
  /** [T, B, 4H] input projections x·W_ihᵀ + biases. */
  xp: Float32Array;
  c0: Float32Array;
  /** Output [T, B, H]: the hidden states h_1 … h_T. */
  hs: Float32Array;
  /** Output [T, B, H]: the cell states c_1 … c_T. */
  cs: Float32Array;
  /** Output [T, B, 4H]: the activated gates σ(i), σ(f), tanh(g), σ(o). */
  gates: Float32Array;
  /** Output [T, B, H]: tanh(c_t), kept for the backward pass. */
  tanhC: Float32Array;
}

/** Inputs and outputs of backpropagation through time. */
export interface LstmBackwardBuffers {
  /** [T, B, H]: the gradient of the loss with respect to every hidden state (null: zeros). */
  dyH: Float32Array | null;
  /** [T, B, H]: the gradient of the loss with respect to every cell state (null: zeros). */
  dyC: Float32Array | null;
  c0: Float32Array;
  /** [T, B, H] cell states, [T, B, 4H] gates and [T, B, H] tanh(c) as the forward pass wrote them. */
  cs: Float32Array;
  gates: Float32Array;
  tanhC: Float32Array;
  /** Output [T, B, 4H]: gradient of the input projections (= of the gate pre-activations). */
  dxp: Float32Array;
  /** In/out [B, H]: the gradient reaching c_t through step t + 1 (zeros before step T − 1; dc0 after). */
  dc: Float32Array;
}

/** Runs the forward recursion: at every step the product z = h_{t−1}·W_hhᵀ, then the cell. */
export function lstmForward(T: number, product: (t: number) => void, cell: (t: number) => void): void {
  for (let t = 0; t < T; t++) {
    product(t);
    cell(t);
  }
}

/** Runs backpropagation through time: at every step (last first) the cell, then dh = dA_t·W_hh. */
export function lstmBackward(T: number, cell: (t: number) => void, product: (t: number) => void): void {
  for (let t = T - 1; t >= 0; t--) {
    cell(t);
    product(t);
  }
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const tanh = (x: number): number => 2 / (1 + Math.exp(-2 * x)) - 1;

/**
 * One forward step in JS: pre = z (h_{t−1}·W_hhᵀ, row stride ldz) + xp_t; writes the gates, c_t, tanh(c_t)
 * and h_t of step t.
 */
export function forwardCellJs(
  d: LstmDims,
  buf: LstmForwardBuffers,
  t: number,
  z: Float32Array,
  ldz: number,
): void {
  const { B, H } = d;
  const G = 4 * H;
  const { xp, c0, hs, cs, gates, tanhC } = buf;
  const cPrev = t === 0 ? c0 : cs;
  const cOff = t === 0 ? 0 : (t - 1) * B * H;
  for (let b = 0; b < B; b++) {
    const zr = b * ldz;
    const xr = (t * B + b) * G;
    const sr = (t * B + b) * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(z[zr + j]! + xp[xr + j]!);
      const f = sigmoid(z[zr + H + j]! + xp[xr + H + j]!);
      const g = tanh(z[zr + 2 * H + j]! + xp[xr + 2 * H + j]!);
      const o = sigmoid(z[zr + 3 * H + j]! + xp[xr + 3 * H + j]!);
      gates[xr + j] = i;
      gates[xr + H + j] = f;
      gates[xr + 2 * H + j] = g;
      gates[xr + 3 * H + j] = o;
      const c = f * cPrev[cOff + b * H + j]! + i * g;
      const tc = tanh(c);
      cs[sr + j] = c;
      tanhC[sr + j] = tc;
      hs[sr + j] = o * tc;
    }
  }
}

/**
 * One backward step in JS: dh = dy_h + dhNext (the gradient through step t + 1's product, row stride
 * ldd); writes dxp_t and carries the cell gradient in `buf.dc` to step t − 1.
 */
export function backwardCellJs(
  d: LstmDims,
  buf: LstmBackwardBuffers,
  t: number,
  dhNext: Float32Array,
  ldd: number,
): void {
  const { B, H } = d;
  const G = 4 * H;
  const { dyH, dyC, c0, cs, gates, tanhC, dxp, dc } = buf;
  const cPrev = t === 0 ? c0 : cs;
  const cOff = t === 0 ? 0 : (t - 1) * B * H;
  for (let b = 0; b < B; b++) {
    const gr = (t * B + b) * G;
    const sr = (t * B + b) * H;
    const pr = b * H;
    for (let j = 0; j < H; j++) {
      const i = gates[gr + j]!;
      const f = gates[gr + H + j]!;
      const g = gates[gr + 2 * H + j]!;
      const o = gates[gr + 3 * H + j]!;
      const tc = tanhC[sr + j]!;
      const dh = (dyH === null ? 0 : dyH[sr + j]!) + dhNext[b * ldd + j]!;
      const dcj = dh * o * (1 - tc * tc) + dc[pr + j]! + (dyC === null ? 0 : dyC[sr + j]!);
      dxp[gr + j] = dcj * g * i * (1 - i);
      dxp[gr + H + j] = dcj * cPrev[cOff + pr + j]! * f * (1 - f);
      dxp[gr + 2 * H + j] = dcj * i * (1 - g * g);
      dxp[gr + 3 * H + j] = dh * tc * o * (1 - o);
      dc[pr + j] = dcj * f;
    }
  }
}

/** C[m, n] (from c[cOff]) = A[m, k] (from a[aOff])·B[k, n], all row-major (B from b[0]). */
export function jsGemm(
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  c: Float32Array,
  cOff: number,
  m: number,
  n: number,
  k: number,
): void {
  for (let r = 0; r < m; r++) {
    const cr = cOff + r * n;
    c.fill(0, cr, cr + n);
    const ar = aOff + r * k;
    for (let p = 0; p < k; p++) {
      const av = a[ar + p]!;
      const br = p * n;
      for (let j = 0; j < n; j++) c[cr + j] = c[cr + j]! + av * b[br + j]!;
    }
  }
}

/** A row-major [rows, cols] → [cols, rows] transpose. */
export function transpose2d(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c]!;
}
