import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';

import { lstmSequenceSupported } from '@ml/core';
import { expectTensorsClose, onBackend } from '@ml/core/testing';

import { lstmRecurrence, opRecurrence } from './lstm-recurrence.js';

// The fused path (@ml/core's lstmSequence kernel, on wasm and cpu) against the op-level path used on
// other backends: outputs and all four gradients within 1e-5, with and without per-sequence last steps.

const [T, B, H] = [6, 3, 5];

/** [value, ∂(Σ w·value)/∂(xp, whh, h0, c0)] of `f` as plain arrays. */
function run(f: typeof opRecurrence, lastStep: boolean): Float32Array[] {
  return tf.tidy(() => {
    const xs = [
      tf.randomNormal([T, B, 4 * H], 0, 1, 'float32', 1),
      tf.randomNormal([4 * H, H], 0, 0.5, 'float32', 2),
      tf.randomNormal([B, H], 0, 1, 'float32', 3),
      tf.randomNormal([B, H], 0, 1, 'float32', 4),
    ];
    const last = new Float32Array(T * B);
    [T, 2, 4].forEach((len, b) => (last[(len - 1) * B + b] = 1)); // lengths 6, 2, 4
    const ls = lastStep ? tf.tensor3d(last, [T, B, 1]) : null;
    const w = tf.randomNormal([T + 1, B, H], 0, 1, 'float32', 5);
    const g = (...a: tf.Tensor[]) =>
      f(a[0] as tf.Tensor3D, a[1] as tf.Tensor2D, a[2] as tf.Tensor2D, a[3] as tf.Tensor2D, ls);
    const { value, grads } = tf.valueAndGrads((...a: tf.Tensor[]) => tf.sum(tf.mul(g(...a), w)))(xs);
    return [g(...xs), value, ...grads].map((t) => Float32Array.from(t.dataSync()));
  });
}

describe('lstmRecurrence', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    test(`${backend}: the fused kernel equals the op-level path, outputs and gradients ≤ 1e-5`, async () => {
      await onBackend(backend);
      expect(lstmSequenceSupported()).toBe(true);
      for (const lastStep of [false, true]) {
        const fused = run((...a) => {
          const { hs, cFinal } = lstmRecurrence(...a);
          return tf.concat<tf.Tensor3D>([hs, tf.reshape(cFinal, [1, B, H])], 0);
        }, lastStep);
        const ops = run(opRecurrence, lastStep);
        fused.forEach((v, i) =>
          expectTensorsClose(v, ops[i]!, { atol: 1e-5, label: `output ${i} (lastStep ${lastStep})` }),
        );
      }
    });
  }
});
