import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from './errors.js';
import { JS_KERNEL_BACKENDS, runJsKernel } from './internal/kernels/js-kernel.js';
import { lstmSequenceGradKernel, lstmSequenceKernel } from './internal/kernels/lstm-sequence.js';
import { passNullOutputGradients, replaceGradient } from './internal/tfjs-seam.js';

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
  registerLstmSequenceGradient();
  return tf.tidy(() => {
    // hs, cs [T, B, H]; gates [T, B, 4H] and tanhC [T, B, H] are kept by the tape for the backward pass
    const [hs, cs] = runJsKernel(lstmSequenceKernel, { xp, whh, h0, c0 }, {}) as [tf.Tensor3D, tf.Tensor3D];
    return { hs, cs };
  });
}

/**
 * The gradient of MlLstmSequence: one MlLstmSequenceGrad call for dxp, dh0 and dc0 (either output's
 * gradient may be absent), and the recurrent weight's gradient as one [4H, T·B]×[T·B, H] product.
 */
function lstmSequenceGradient(): tf.GradConfig {
  return {
    kernelName: lstmSequenceKernel.name,
    inputsToSave: ['whh', 'h0', 'c0'],
    outputsToSave: [true, true, true, true],
    gradFunc: (dy, saved) => {
      const [dyH, dyC] = dy as (tf.Tensor | null)[];
      const [whh, h0, c0, hs, cs, gates, tanhC] = saved as [
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor3D,
        tf.Tensor3D,
        tf.Tensor3D,
        tf.Tensor3D,
      ];
      const [T, B, G] = gates.shape;
      const H = G / 4;
      // Eagerly, here: tfjs runs each closure below in a scope of its own, which would dispose the
      // kernel's other outputs.
      const [dxp, dh0, dc0] = runJsKernel(
        lstmSequenceGradKernel,
        { dyH: dyH ?? null, dyC: dyC ?? null, whh, c0, cs, gates, tanhC },
        {},
      ) as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D];
      return {
        xp: () => dxp,
        h0: () => dh0,
        c0: () => dc0,
        whh: () => {
          // h_{t−1} for every step, stacked: [T·B, H]
          const hPrev =
            T > 1
              ? tf.concat([h0, tf.reshape(tf.slice(hs, [0, 0, 0], [T - 1, B, H]), [(T - 1) * B, H])], 0)
              : h0;
          return tf.matMul(tf.reshape(dxp, [T * B, G]), hPrev, true, false); // [4H, H]
        },
      };
    },
  };
}

/** Registers the gradient of MlLstmSequence (once). */
function registerLstmSequenceGradient(): void {
  if (tf.getGradient(lstmSequenceKernel.name) !== undefined) return;
  replaceGradient(lstmSequenceGradient());
  // The saved gates and tanh(c), and often the cell states, get no gradient: null, not zeros made for them.
  passNullOutputGradients(lstmSequenceKernel.name);
}
