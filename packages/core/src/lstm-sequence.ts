import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from './errors.js';
import { JS_KERNEL_BACKENDS, runJsKernel } from './internal/kernels/js-kernel.js';
import { lstmSequenceGradKernel, lstmSequenceKernel } from './internal/kernels/lstm-sequence.js';

// A whole LSTM sequence as one kernel call forward and one backward (@ml's MlLstmSequence kernels on the
// wasm and cpu backends), instead of ~20 tfjs ops per step: on wasm tfjs' per-op dispatch, not the
// arithmetic, is most of a small recurrent network's training step.

/** The backends @ml's fused LSTM sequence kernels exist for. */
export const LSTM_SEQUENCE_BACKENDS: readonly string[] = JS_KERNEL_BACKENDS;

/** Whether {@link lstmSequence} can run on the active tfjs backend (wasm or cpu). */
export function lstmSequenceSupported(): boolean {
  return LSTM_SEQUENCE_BACKENDS.includes(tf.getBackend());
}

/** What {@link lstmSequence} returns (a plain object: `tf.dispose(result)` frees both). */
export interface LstmSequenceResult extends tf.TensorContainerObject {
  /** [T, B, H] the hidden state h_t after every step. */
  hs: tf.Tensor3D;
  /** [T, B, H] the cell state c_t after every step. */
  cs: tf.Tensor3D;
}

function check(xp: tf.Tensor, whh: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor): void {
  const where = 'lstmSequence';
  if (xp.rank !== 3 || xp.shape[2]! % 4 !== 0 || xp.shape[0] === 0 || xp.shape[1] === 0)
    throw new ShapeError(`${where}: xp must be [T, B, 4H] with T, B ≥ 1, got ${formatShape(xp.shape)}`);
  const [, B, G] = xp.shape as [number, number, number];
  const H = G / 4;
  const want: [string, tf.Tensor, number[]][] = [
    ['whh', whh, [G, H]],
    ['h0', h0, [B, H]],
    ['c0', c0, [B, H]],
  ];
  for (const [name, t, shape] of want) {
    if (t.rank !== 2 || t.shape[0] !== shape[0] || t.shape[1] !== shape[1])
      throw new ShapeError(
        `${where}: ${name} must be ${formatShape(shape)} for xp ${formatShape(xp.shape)}, got ${formatShape(t.shape)}`,
      );
  }
  for (const [name, t] of [['xp', xp], ...want] as [string, tf.Tensor][])
    if (t.dtype !== 'float32') throw new ShapeError(`${where}: ${name} must be float32, got ${t.dtype}`);
  if (!lstmSequenceSupported())
    throw new ShapeError(
      `${where}: runs on the ${LSTM_SEQUENCE_BACKENDS.join(' or ')} backend, the active one is '${tf.getBackend()}' (check lstmSequenceSupported() first)`,
    );
}

/**
 * Runs a one-layer LSTM over precomputed input projections in one fused kernel call (and its gradient in
 * one more), on the wasm and cpu backends. Gate order i, f, g, o (PyTorch's):
 *
 *   i, f, o = σ(·), g = tanh(·) of xp_t + h_{t−1}·whhᵀ;  c_t = f·c_{t−1} + i·g;  h_t = o·tanh(c_t).
 *
 * Differentiable with respect to all four inputs. The recurrent weight's gradient is one
 * [4H, T·B]×[T·B, H] product over all steps, and the input weights' gradient follows from xp's (one
 * product, outside). Variable lengths: read each sequence's final state from `hs`/`cs` at its last
 * valid step; steps past it never affect earlier ones.
 *
 * @param xp [T, B, 4H] the input projections x_t·W_ihᵀ + b_ih + b_hh of every step (time-major).
 * @param whh [4H, H] the recurrent weight.
 * @param h0 [B, H] the initial hidden state.
 * @param c0 [B, H] the initial cell state.
 * @throws ShapeError for shapes that do not fit together, a dtype other than float32, or a backend
 *   other than wasm and cpu (see {@link lstmSequenceSupported}).
 */
export function lstmSequence(
  xp: tf.Tensor3D,
  whh: tf.Tensor2D,
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
): LstmSequenceResult {
  check(xp, whh, h0, c0);
  const [T, B, G] = xp.shape;
  const H = G / 4;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xpIn, w, hInit, cInit] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const save = args[4] as tf.GradSaveFunc;
    // states [2, T, B, H] (every h_t, then every c_t), gates [T, B, 4H], tanhC [T, B, H]
    const [states, gates, tanhC] = runJsKernel(
      lstmSequenceKernel,
      { xp: xpIn, whh: w, h0: hInit, c0: cInit },
      {},
    );
    save([w, hInit, cInit, states as tf.Tensor, gates as tf.Tensor, tanhC as tf.Tensor]);
    return {
      value: states as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ws, hs0, cs0, st, gt, tc] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor4D,
          tf.Tensor3D,
          tf.Tensor3D,
        ];
        const [dxp, dh0, dc0] = runJsKernel(
          lstmSequenceGradKernel,
          { dy, whh: ws, c0: cs0, states: st, gates: gt, tanhC: tc },
          {},
        );
        // h_{t−1} for every step, stacked: [T·B, H]
        const hPrev =
          T > 1
            ? tf.concat([hs0, tf.reshape(tf.slice(st, [0, 0, 0, 0], [1, T - 1, B, H]), [(T - 1) * B, H])], 0)
            : hs0;
        const dW = tf.matMul(tf.reshape(dxp as tf.Tensor, [T * B, G]), hPrev, true, false); // [4H, H]
        return [dxp as tf.Tensor, dW, dh0 as tf.Tensor, dc0 as tf.Tensor];
      },
    };
  });
  return tf.tidy(() => {
    const states = run(xp, whh, h0, c0); // [2, T, B, H]
    const [hs, cs] = tf.unstack(states, 0) as [tf.Tensor3D, tf.Tensor3D];
    return { hs, cs };
  });
}
