import * as tf from '@tensorflow/tfjs-core';

import { lstmSequence, lstmSequenceSupported } from '@ml/core';

// The LSTM recurrence with a hand-written backward pass through time.
//
// On wasm and cpu it is ONE kernel call forward and one backward: @ml/core's `lstmSequence` (the fused
// MlLstmSequence kernels) runs all T steps in place, so a training step dispatches ~130 tfjs kernels
// instead of ~1,800. On other backends (webgpu, webgl, tensorflow) the op-level recurrence below runs.
//
// Op level, why not plain autodiff: tfjs records every per-step op on its tape and replays each one's gradient
// separately, so a T-step LSTM costs about 3× as many backward ops as forward ones, and the recurrent
// weight gradient is accumulated from T small products. On wasm each op costs some microseconds of
// dispatch, which for small hidden sizes is most of the step. Here the forward runs ~10 ops per
// step, the backward ~10 per step, and every quantity that does not depend on the recursion (the
// gate derivatives, tanh of the cells, the shifted states) is computed for all steps at once. The
// recurrent weight gradient is ONE product of the stacked gate gradients [T·B, 4H] with the stacked
// previous hidden states [T·B, H]. The input projection (and its weight gradient, again one product
// over all steps) stays outside, under ordinary autodiff.

// Per-step reads use `gather` of one time row: the wasm backend's `slice` (and so `unstack`/`split`)
// copies its whole input before cutting, which on a [T, B, 4H] tensor makes every step O(T).

/** T int32 [1] tensors holding 0 … T − 1 (row indices for `gather`). */
function stepIndices(T: number): tf.Tensor1D[] {
  return Array.from({ length: T }, (_, t) => tf.tensor1d([t], 'int32'));
}

/** [G] = 1 except 2 on the g block: σ(2z) gives tanh(z) = 2σ(2z) − 1 from the one sigmoid of all gates. */
function gScale(H: number): tf.Tensor1D {
  const v = new Float32Array(4 * H).fill(1);
  v.fill(2, 2 * H, 3 * H);
  return tf.tensor1d(v);
}

/** What {@link lstmRecurrence} returns. */
export interface LstmRecurrenceResult {
  /** [T, B, H] the hidden state h_t of every step. */
  hs: tf.Tensor3D;
  /** [B, H] the final cell state (at each sequence's last step when `lastStep` is given). */
  cFinal: tf.Tensor2D;
}

/**
 * Runs an LSTM over precomputed input projections. Gate order i, f, g, o (PyTorch's).
 *
 * xp [T, B, 4H] = x·W_ihᵀ + b_ih + b_hh for every step; whh [4H, H]; h0, c0 [B, H]; `lastStep`
 * [T, B, 1] marks where each sequence's final cell state is read (null: at step T − 1).
 * Differentiable with respect to xp, whh, h0 and c0.
 */
export function lstmRecurrence(
  xp: tf.Tensor3D,
  whh: tf.Tensor2D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  lastStep: tf.Tensor3D | null,
): LstmRecurrenceResult {
  const [T, B, G] = xp.shape;
  const H = G / 4;
  return tf.tidy(() => {
    if (lstmSequenceSupported()) {
      // On wasm and cpu: @ml/core's fused kernel runs all T steps in one call forward and one backward
      // (tfjs' per-op dispatch, not arithmetic, dominates a small LSTM there). Same results as below.
      const { hs, cs } = lstmSequence(xp, whh, h0, c0); // [T, B, H] each
      const cFinal =
        lastStep === null ? tf.slice(cs, [T - 1, 0, 0], [1, B, H]) : tf.sum(tf.mul(cs, lastStep), 0);
      return { hs, cFinal: tf.reshape<tf.Rank.R2>(cFinal, [B, H]) };
    }
    const out = opRecurrence(xp, whh, h0, c0, lastStep); // [T + 1, B, H]
    return {
      hs: tf.slice(out, [0, 0, 0], [T, B, H]),
      cFinal: tf.reshape<tf.Rank.R2>(tf.slice(out, [T, 0, 0], [1, B, H]), [B, H]),
    };
  });
}

/**
 * Elsewhere (webgpu, webgl, tensorflow): tfjs ops, ~10 per step each way. Returns [T + 1, B, H]: the hidden
 * state of every step, then the final cell state. Exported for tests.
 */
export function opRecurrence(
  xp: tf.Tensor3D,
  whh: tf.Tensor2D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  lastStep: tf.Tensor3D | null,
): tf.Tensor3D {
  const [T, B, G] = xp.shape;
  const H = G / 4;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xpIn, w, hInit, cInit] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const save = args[4] as tf.GradSaveFunc;
    const idx = stepIndices(T);
    const scale = gScale(H);
    const xs = tf.mul(xpIn, scale); // [T, B, 4H], g block doubled
    const ws = tf.mul(w, tf.reshape(scale, [G, 1])); // [4H, H], g rows doubled
    const hs: tf.Tensor[] = [];
    const cs: tf.Tensor[] = [];
    const as: tf.Tensor[] = [];
    const tcs: tf.Tensor[] = [];
    let h: tf.Tensor2D = hInit;
    let c: tf.Tensor = tf.reshape(cInit, [1, B, H]);
    for (let t = 0; t < T; t++) {
      const z = tf.add(tf.gather(xs, idx[t] as tf.Tensor1D), tf.matMul(h, ws, false, true)); // [1, B, 4H]
      const a = tf.sigmoid(z); // [1, B, 4H]: σ(i), σ(f), σ(2g), σ(o)
      const i = tf.slice(a, [0, 0, 0], [1, B, H]); // [1, B, H]
      const f = tf.slice(a, [0, 0, H], [1, B, H]);
      const g = tf.sub(tf.mul(tf.slice(a, [0, 0, 2 * H], [1, B, H]), 2), 1); // tanh(g pre-activation)
      const o = tf.slice(a, [0, 0, 3 * H], [1, B, H]);
      c = tf.add(tf.mul(f, c), tf.mul(i, g)); // [1, B, H]
      const tc = tf.tanh(c); // [1, B, H]
      const hNext = tf.mul(o, tc); // [1, B, H]
      h = tf.reshape(hNext, [B, H]);
      hs.push(hNext);
      cs.push(c);
      as.push(a);
      tcs.push(tc);
    }
    const Hs = tf.concat(hs, 0) as tf.Tensor3D; // [T, B, H]
    const Cs = tf.concat(cs, 0) as tf.Tensor3D; // [T, B, H]
    const A = tf.concat(as, 0) as tf.Tensor3D; // [T, B, 4H]
    const TC = tf.concat(tcs, 0) as tf.Tensor3D; // [T, B, H]
    save([w, hInit, cInit, Hs, Cs, A, TC]);
    const cFinal = lastStep === null ? c : tf.sum(tf.mul(Cs, lastStep), 0, true); // [1, B, H]
    return {
      value: tf.concat([Hs, cFinal], 0) as tf.Tensor3D, // [T + 1, B, H]
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        lstmBackward(dy as tf.Tensor3D, saved, lastStep, T, B, H),
    };
  });
  return run(xp, whh, h0, c0);
}

function lstmBackward(
  dy: tf.Tensor3D,
  saved: tf.Tensor[],
  lastStep: tf.Tensor3D | null,
  T: number,
  B: number,
  H: number,
): tf.Tensor[] {
  const [w, h0, c0, Hs, Cs, A, TC] = saved as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
  ];
  const idx = stepIndices(T);
  const dHs = tf.slice(dy, [0, 0, 0], [T, B, H]); // [T, B, H]
  const dcFinal = tf.slice(dy, [T, 0, 0], [1, B, H]); // [1, B, H]
  const I = tf.slice(A, [0, 0, 0], [T, B, H]); // [T, B, H]
  const F = tf.slice(A, [0, 0, H], [T, B, H]);
  const G = tf.sub(tf.mul(tf.slice(A, [0, 0, 2 * H], [T, B, H]), 2), 1);
  const O = tf.slice(A, [0, 0, 3 * H], [T, B, H]);
  const c0r = tf.reshape(c0, [1, B, H]);
  const h0r = tf.reshape(h0, [1, B, H]);
  const Cprev = T > 1 ? tf.concat([c0r, tf.slice(Cs, [0, 0, 0], [T - 1, B, H])], 0) : c0r; // [T, B, H]
  const Hprev = T > 1 ? tf.concat([h0r, tf.slice(Hs, [0, 0, 0], [T - 1, B, H])], 0) : h0r; // [T, B, H]
  const Fnext =
    T > 1 ? tf.concat([tf.slice(F, [1, 0, 0], [T - 1, B, H]), tf.zeros([1, B, H])], 0) : tf.zerosLike(F); // f_{t+1}
  const P = tf.mul(O, tf.sub(1, tf.square(TC))); // ∂c_t/∂h_t through h = o·tanh(c)   [T, B, H]
  const Q = tf.mul(TC, tf.mul(O, tf.sub(1, O))); // ∂h_t/∂(o pre-activation)        [T, B, H]
  const K = tf.reshape(
    tf.concat(
      [
        tf.mul(G, tf.mul(I, tf.sub(1, I))), // ∂c/∂(i pre)
        tf.mul(Cprev, tf.mul(F, tf.sub(1, F))), // ∂c/∂(f pre)
        tf.mul(I, tf.sub(1, tf.square(G))), // ∂c/∂(g pre)
      ],
      2,
    ),
    [T, B, 3, H],
  ); // [T, B, 3, H]
  const dCs = lastStep === null ? null : tf.mul(dcFinal, lastStep); // final-cell gradient per step [T, B, H]
  const at = (x: tf.Tensor, t: number): tf.Tensor => tf.gather(x, idx[t] as tf.Tensor1D);
  const dAs: tf.Tensor[] = new Array<tf.Tensor>(T);
  let dA2: tf.Tensor2D | null = null; // dA_{t+1} as [B, 4H]
  let dc: tf.Tensor | null = null; // [1, B, H]
  for (let t = T - 1; t >= 0; t--) {
    const dHt = at(dHs, t); // [1, B, H]
    const dh: tf.Tensor = dA2 === null ? dHt : tf.add(dHt, tf.reshape(tf.matMul(dA2, w), [1, B, H])); // [1, B, H]
    let dct = tf.mul(dh, at(P, t));
    if (dc !== null) dct = tf.add(dct, tf.mul(dc, at(Fnext, t)));
    if (dCs !== null) dct = tf.add(dct, at(dCs, t));
    else if (dc === null) dct = tf.add(dct, dcFinal);
    const dIfg = tf.reshape(tf.mul(tf.reshape(dct, [1, B, 1, H]), at(K, t)), [1, B, 3 * H]); // [1, B, 3H]
    const dA = tf.concat([dIfg, tf.mul(dh, at(Q, t))], 2); // [1, B, 4H]
    dAs[t] = dA;
    dA2 = tf.reshape(dA, [B, 4 * H]);
    dc = dct;
  }
  const dh0 = tf.matMul(dA2 as tf.Tensor2D, w); // [B, H]
  const dc0 = tf.reshape(tf.mul(dc as tf.Tensor, at(F, 0)), [B, H]); // [B, H]
  const dXp = tf.concat(dAs, 0) as tf.Tensor3D; // [T, B, 4H]
  const dW = tf.matMul(tf.reshape(dXp, [T * B, 4 * H]), tf.reshape(Hprev, [T * B, H]), true, false); // [4H, H]
  return [dXp, dW, dh0, dc0];
}
