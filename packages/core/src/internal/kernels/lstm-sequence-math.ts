// The arithmetic of @ml's fused LSTM sequence kernels, shared by the wasm and cpu backends: every step of
// the recurrence (forward) and of backpropagation through time (backward) in plain JS over Float32Array
// views, with the one product per step (h·W_hhᵀ forward, dA·W_hh backward) left to a `Gemm` the backend
// supplies (@ml's SIMD GEMM on the wasm heap; a JS loop on cpu). Gate order i, f, g, o (PyTorch's).

/** C[m, n] = A[m, k]·B[k, n], all row-major; A starts at a[aOff], C at c[cOff], B at b[0]. */
export type Gemm = (
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  c: Float32Array,
  cOff: number,
  m: number,
  n: number,
  k: number,
) => void;

/** The sizes of one sequence: T steps, a batch of B, hidden size H (so 4H gate pre-activations). */
export interface LstmDims {
  T: number;
  B: number;
  H: number;
}

/** Inputs and outputs of the forward pass (views of T·B·4H, 4H·H, B·H … floats). */
export interface LstmForwardBuffers {
  /** [T, B, 4H] input projections x·W_ihᵀ + biases. */
  xp: Float32Array;
  /** [H, 4H] the recurrent weight, transposed. */
  whhT: Float32Array;
  h0: Float32Array;
  c0: Float32Array;
  /** Output [2, T, B, H]: hidden states h_1 … h_T, then cell states c_1 … c_T. */
  states: Float32Array;
  /** Output [T, B, 4H]: the activated gates σ(i), σ(f), tanh(g), σ(o). */
  gates: Float32Array;
  /** Output [T, B, H]: tanh(c_t), kept for the backward pass. */
  tanhC: Float32Array;
  /** Scratch [B, 4H]. */
  z: Float32Array;
}

/** In-place σ and tanh over `n` floats of `a` from `off` (SIMD on the wasm heap; JS on cpu). */
export interface Activations {
  sigmoid: (a: Float32Array, off: number, n: number) => void;
  tanh: (a: Float32Array, off: number, n: number) => void;
}

/** The plain-JS `Activations` (cpu backend, and the tail of a SIMD run). */
export const jsActivations: Activations = {
  sigmoid: (a, off, n) => {
    for (let k = off; k < off + n; k++) a[k] = 1 / (1 + Math.exp(-a[k]!));
  },
  tanh: (a, off, n) => {
    for (let k = off; k < off + n; k++) a[k] = 1 - 2 / (Math.exp(2 * a[k]!) + 1);
  },
};

/**
 * Runs the T steps of the recurrence. Per step: one product, one σ over all 4H gate pre-activations
 * (the g block doubled, so tanh(g) = 2σ(2g) − 1), the cell update, one tanh over the new cells.
 */
export function lstmForward(d: LstmDims, buf: LstmForwardBuffers, gemm: Gemm, act: Activations): void {
  const { T, B, H } = d;
  const G = 4 * H;
  const { xp, whhT, h0, c0, states, gates, tanhC, z } = buf;
  const cBase = T * B * H;
  for (let t = 0; t < T; t++) {
    const hPrev = t === 0 ? h0 : states;
    const hOff = t === 0 ? 0 : (t - 1) * B * H;
    const cPrev = t === 0 ? c0 : states;
    const cOff = t === 0 ? 0 : cBase + (t - 1) * B * H;
    gemm(hPrev, hOff, whhT, z, 0, B, G, H); // [B, 4H] = h_{t−1}·W_hhᵀ
    for (let b = 0; b < B; b++) {
      const zr = b * G;
      const xr = (t * B + b) * G;
      for (let k = 0; k < G; k++) z[zr + k] = z[zr + k]! + xp[xr + k]!;
      for (let k = 2 * H; k < 3 * H; k++) z[zr + k] = 2 * z[zr + k]!;
    }
    act.sigmoid(z, 0, B * G); // σ(i), σ(f), σ(2g), σ(o)
    for (let b = 0; b < B; b++) {
      const zr = b * G;
      const xr = (t * B + b) * G;
      const sr = (t * B + b) * H;
      const pr = b * H;
      for (let j = 0; j < H; j++) {
        const i = z[zr + j]!;
        const f = z[zr + H + j]!;
        const g = 2 * z[zr + 2 * H + j]! - 1;
        const c = f * cPrev[cOff + pr + j]! + i * g;
        gates[xr + j] = i;
        gates[xr + H + j] = f;
        gates[xr + 2 * H + j] = g;
        gates[xr + 3 * H + j] = z[zr + 3 * H + j]!;
        states[cBase + sr + j] = c;
        tanhC[sr + j] = c;
      }
    }
    const sr = t * B * H;
    act.tanh(tanhC, sr, B * H);
    for (let b = 0; b < B; b++) {
      const xr = (t * B + b) * G + 3 * H;
      const hr = sr + b * H;
      for (let j = 0; j < H; j++) states[hr + j] = gates[xr + j]! * tanhC[hr + j]!;
    }
  }
}

/** Inputs and outputs of backpropagation through time. */
export interface LstmBackwardBuffers {
  /** [2, T, B, H]: the gradient of the loss with respect to every hidden state, then every cell state. */
  dy: Float32Array;
  /** [4H, H] the recurrent weight. */
  whh: Float32Array;
  c0: Float32Array;
  /** [2, T, B, H], [T, B, 4H] and [T, B, H] as the forward pass wrote them. */
  states: Float32Array;
  gates: Float32Array;
  tanhC: Float32Array;
  /** Outputs: [T, B, 4H] gradient of the input projections (= of the gate pre-activations), [B, H] ×2. */
  dxp: Float32Array;
  dh0: Float32Array;
  dc0: Float32Array;
}

/** Backpropagates through the T steps; dh0 doubles as the per-step recurrent gradient scratch. */
export function lstmBackward(d: LstmDims, buf: LstmBackwardBuffers, gemm: Gemm): void {
  const { T, B, H } = d;
  const G = 4 * H;
  const { dy, whh, c0, states, gates, tanhC, dxp, dh0, dc0 } = buf;
  const cBase = T * B * H;
  dh0.fill(0, 0, B * H); // dA_{t+1}·W_hh, the gradient reaching h_t through the next step
  dc0.fill(0, 0, B * H); // dc_{t+1}·f_{t+1}, the gradient reaching c_t through the next step
  for (let t = T - 1; t >= 0; t--) {
    const cPrev = t === 0 ? c0 : states;
    const cOff = t === 0 ? 0 : cBase + (t - 1) * B * H;
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
        const dh = dy[sr + j]! + dh0[pr + j]!;
        const dc = dh * o * (1 - tc * tc) + dc0[pr + j]! + dy[cBase + sr + j]!;
        dxp[gr + j] = dc * g * i * (1 - i);
        dxp[gr + H + j] = dc * cPrev[cOff + pr + j]! * f * (1 - f);
        dxp[gr + 2 * H + j] = dc * i * (1 - g * g);
        dxp[gr + 3 * H + j] = dh * tc * o * (1 - o);
        dc0[pr + j] = dc * f;
      }
    }
    gemm(dxp, t * B * G, whh, dh0, 0, B, H, G); // [B, H] = dA_t·W_hh
  }
}

/** A row-major [rows, cols] → [cols, rows] transpose. */
export function transpose2d(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c]!;
}

/** The plain-JS `Gemm` (cpu backend). */
export const jsGemm: Gemm = (a, aOff, b, c, cOff, m, n, k) => {
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
};
