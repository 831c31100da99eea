import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { useBackend } from './backend.js';
import { ShapeError } from './errors.js';
import { lstmSequence, lstmSequenceSupported } from './lstm-sequence.js';
import { expectTensorsClose } from './testing/index.js';

// The fused LSTM sequence kernels (wasm and cpu) against an op-level LSTM differentiated by tfjs'
// autodiff on cpu: every hidden and cell state and all four gradients within 1e-5.

/** Deterministic values in [-1, 1). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) % 2147483647 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    out[i] = (s / 2147483647) * 2 - 1;
  }
  return out;
}
const rand = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

const [T, B, H] = [5, 3, 8];

/** The op-level reference: one step at a time with tfjs ops. Returns [2, T, B, H]. */
function reference(xp: tf.Tensor, whh: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor): tf.Tensor {
  let h = h0;
  let c = c0;
  const hs: tf.Tensor[] = [];
  const cs: tf.Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const z = tf.add(
      tf.reshape(tf.slice(xp, [t, 0, 0], [1, B, 4 * H]), [B, 4 * H]),
      tf.matMul(h, whh, false, true),
    );
    const [i, f, g, o] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    hs.push(h);
    cs.push(c);
  }
  return tf.stack([tf.stack(hs), tf.stack(cs)]);
}

const fused = (xp: tf.Tensor, whh: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor): tf.Tensor => {
  const { hs, cs } = lstmSequence(
    xp as tf.Tensor3D,
    whh as tf.Tensor2D,
    h0 as tf.Tensor2D,
    c0 as tf.Tensor2D,
  );
  return tf.stack([hs, cs]);
};

/** [states, ∂(Σ w·states)/∂(xp, whh, h0, c0)] on `backend`, as plain arrays. */
function outputs(backend: string, f: typeof fused): Float32Array[] {
  void tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = [rand([T, B, 4 * H], 1), rand([4 * H, H], 2), rand([B, H], 3), rand([B, H], 4)];
    const w = rand([2, T, B, H], 5);
    const g = tf.valueAndGrads((...a: tf.Tensor[]) =>
      tf.sum(tf.mul(f(...(a as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), w)),
    )(xs);
    return [f(...(xs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])), ...g.grads].map((t) =>
      Float32Array.from(t.dataSync()),
    );
  });
}

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

describe('lstmSequence', () => {
  test('wasm and cpu kernels equal the op-level LSTM: states and all gradients ≤ 1e-5', () => {
    const ref = outputs('cpu', reference);
    const names = ['states', 'd xp', 'd whh', 'd h0', 'd c0'];
    for (const backend of ['cpu', 'wasm']) {
      const got = outputs(backend, fused);
      got.forEach((g, i) => expectTensorsClose(g, ref[i]!, { atol: 1e-5, label: `${backend} ${names[i]}` }));
    }
    void tf.setBackend('wasm');
  });

  test('one step (T = 1), a gradient through the hidden states only and through the cell states only', () => {
    for (const backend of ['cpu', 'wasm']) {
      void tf.setBackend(backend);
      for (const through of ['hs', 'cs'] as const) {
        tf.tidy(() => {
          const xp = rand([1, 2, 16], 7); // H = 4: the SIMD cells on wasm
          const whh = rand([16, 4], 8);
          const h0 = rand([2, 4], 9);
          const c0 = rand([2, 4], 10);
          const g = tf.grads((x: tf.Tensor, w: tf.Tensor) =>
            tf.sum(
              lstmSequence(x as tf.Tensor3D, w as tf.Tensor2D, h0 as tf.Tensor2D, c0 as tf.Tensor2D)[through],
            ),
          )([xp, whh]);
          const r = tf.grads((x: tf.Tensor, w: tf.Tensor) => {
            const z = tf.add(tf.reshape(x, [2, 16]), tf.matMul(h0, w, false, true));
            const [i, f, gg, o] = tf.split(z, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
            const c = tf.add(tf.mul(tf.sigmoid(f), c0), tf.mul(tf.sigmoid(i), tf.tanh(gg)));
            return tf.sum(through === 'hs' ? tf.mul(tf.sigmoid(o), tf.tanh(c)) : c);
          })([xp, whh]);
          g.forEach((t, i) =>
            expectTensorsClose(t, r[i]!, { atol: 1e-5, label: `${backend} grad ${i} through ${through}` }),
          );
        });
      }
    }
    void tf.setBackend('wasm');
  });

  test('no tensors leak over forward and backward passes', () => {
    const xs = [rand([T, B, 4 * H], 1), rand([4 * H, H], 2), rand([B, H], 3), rand([B, H], 4)];
    const step = () =>
      tf.dispose(
        tf.grads((...a: tf.Tensor[]) =>
          tf.sum(fused(...(a as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]))),
        )(xs),
      );
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(xs);
  });

  test('is supported on wasm and cpu', () => {
    expect(lstmSequenceSupported()).toBe(true);
  });

  test('shapes that do not fit together throw ShapeError naming both', () => {
    tf.tidy(() => {
      const xp = tf.zeros<tf.Rank.R3>([T, B, 4 * H]);
      const whh = tf.zeros<tf.Rank.R2>([4 * H, H]);
      const h = tf.zeros<tf.Rank.R2>([B, H]);
      expect(() => lstmSequence(tf.zeros<tf.Rank.R3>([T, B, 6]), whh, h, h)).toThrow(ShapeError);
      expect(() => lstmSequence(tf.zeros<tf.Rank.R3>([T, B, 6]), whh, h, h)).toThrow(
        'lstmSequence: xp must be [T, B, 4H] with T, B ≥ 1, got [5, 3, 6]',
      );
      expect(() => lstmSequence(xp, tf.zeros<tf.Rank.R2>([4 * H, H + 1]), h, h)).toThrow(
        'lstmSequence: whh must be [32, 8] for xp [5, 3, 32], got [32, 9]',
      );
      expect(() => lstmSequence(xp, whh, h, tf.zeros<tf.Rank.R2>([B + 1, H]))).toThrow(
        'lstmSequence: c0 must be [3, 8] for xp [5, 3, 32], got [4, 8]',
      );
    });
  });
});
