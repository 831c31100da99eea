import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { useBackend } from '../backend.js';
import { lstmSequence } from '../lstm-sequence.js';

import { runJsKernel, type JsKernel } from './kernels/js-kernel.js';
import { passNullOutputGradients } from './tfjs-seam.js';

// The tape's zeros for outputs of a multi-output kernel that no gradient reaches: made by the backend
// (a Fill kernel, not a JavaScript array copied in), or null for kernels whose gradient takes null.

/** y1 = x, y2 = 2x: two outputs, so a loss may reach only one. */
const twoOutputs = (name: string): JsKernel<Record<string, never>> => ({
  name,
  inputs: ['x'],
  outputShapes: ([x]) => [x!.shape, x!.shape],
  compute: ([x], [y1, y2]) => {
    for (let k = 0; k < x!.length; k++) {
      y1![k] = x![k]!;
      y2![k] = 2 * x![k]!;
    }
  },
});

/** What a gradient was handed for one output: null, or a snapshot of the tensor. */
type Seen = { shape: number[]; dtype: string; values: number[] } | null;

/** Registers a gradient for `k` (dx = dy1 + 2·dy2) that records what it is handed. */
function recording(k: JsKernel<Record<string, never>>): Seen[][] {
  const seen: Seen[][] = [];
  tf.registerGradient({
    kernelName: k.name,
    gradFunc: (dy) => {
      const [d1, d2] = dy as (tf.Tensor | null)[];
      seen.push(
        [d1, d2].map((d) =>
          d == null ? null : { shape: d.shape, dtype: d.dtype, values: Array.from(d.dataSync()) },
        ),
      );
      return { x: () => (d2 == null ? d1! : d1 == null ? tf.mul(d2, 2) : tf.add(d1, tf.mul(d2, 2))) };
    },
  });
  return seen;
}

describe.each(['cpu', 'wasm'] as const)('tape zeros on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  test('an output no gradient reaches gets zeros from the backend (Fill), not a copied array', async () => {
    const k = twoOutputs(`MlTestTwoOutputs_${backend}`);
    const seen = recording(k);
    const x = tf.tensor([1, -2, 3, 4.5, 0, 7], [2, 3]);
    const before = tf.memory().numTensors;
    let dx: tf.Tensor | null = null;
    const profile = await tf.profile(() => {
      dx = tf.grad((v: tf.Tensor) => tf.sum(runJsKernel(k, { x: v }, {})[0]!))(x);
    });
    expect(Array.from(await dx!.data())).toEqual([1, 1, 1, 1, 1, 1]);
    expect(seen[0]![1]).toEqual({ shape: [2, 3], dtype: 'float32', values: [0, 0, 0, 0, 0, 0] });
    expect(profile.kernelNames).toContain('Fill');
    tf.dispose(dx!);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a kernel whose gradient takes null gets null for an output no gradient reaches', async () => {
    const k = twoOutputs(`MlTestTwoOutputsNull_${backend}`);
    const seen = recording(k);
    passNullOutputGradients(k.name);
    const x = tf.tensor([1, -2, 3, 4.5], [4]);
    const before = tf.memory().numTensors;
    const only1 = tf.grad((v: tf.Tensor) => tf.sum(runJsKernel(k, { x: v }, {})[0]!))(x);
    const only2 = tf.grad((v: tf.Tensor) => tf.sum(runJsKernel(k, { x: v }, {})[1]!))(x);
    expect(Array.from(await only1.data())).toEqual([1, 1, 1, 1]);
    expect(Array.from(await only2.data())).toEqual([2, 2, 2, 2]);
    expect(seen[0]![1]).toBeNull();
    expect(seen[1]![0]).toBeNull();
    expect(seen[1]![1]).toEqual({ shape: [4], dtype: 'float32', values: [1, 1, 1, 1] });
    tf.dispose([only1, only2]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test("the LSTM sequence's gradient makes no zeros for its saved gates, tanh(c) or unused cell states", async () => {
    const [T, B, H] = [3, 2, 4];
    const xp = tf.randomNormal<tf.Rank.R3>([T, B, 4 * H], 0, 1, 'float32', 1);
    const whh = tf.randomNormal<tf.Rank.R2>([4 * H, H], 0, 0.3, 'float32', 2);
    const [h0, c0] = [tf.zeros<tf.Rank.R2>([B, H]), tf.zeros<tf.Rank.R2>([B, H])];
    const dy = tf.randomNormal<tf.Rank.R3>([T, B, H], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    let grads: tf.Tensor[] = [];
    const profile = await tf.profile(() => {
      // hs's gradient given (no sum whose own gradient would fill ones): every Fill would be a tape zero.
      grads = tf.grads((a: tf.Tensor) => lstmSequence(a as tf.Tensor3D, whh, h0, c0).hs)([xp], dy);
    });
    // Only hs is used: the backward kernel gets its gradient and no cell-state gradient (6 inputs, not 7).
    const backward = profile.kernels.filter((k) => k.name === 'MlLstmSequenceGrad');
    expect(backward.map((k) => k.inputShapes)).toEqual([
      [
        [T, B, H],
        [4 * H, H],
        [B, H],
        [T, B, H],
        [T, B, 4 * H],
        [T, B, H],
      ],
    ]);
    expect(profile.kernelNames).not.toContain('Fill');
    expect(grads[0]!.shape).toEqual([T, B, 4 * H]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xp, whh, h0, c0, dy]);
  });
});
