import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, test } from 'vitest';

import { Adam } from '../../adam.js';
import { backendInfo, useBackend } from '../../backend.js';
import { BackendError } from '../../errors.js';
import { Linear } from '../../linear.js';
import { ReLU } from '../../activations.js';
import { Sequential } from '../../sequential.js';

import { gemmThreads, threadedProducts, THREADED_MIN_MACS } from './threads.js';

// useBackend's `threads` option: checked, reported, and deterministic — training with 2 threads gives
// exactly the weights of 1 thread.

afterAll(async () => {
  await useBackend('wasm', { threads: 1 });
});

/** Weights after `steps` Adam steps of a small MLP whose first product is large enough for the pool. */
async function train(threads: number, steps: number): Promise<Float32Array[]> {
  await useBackend('wasm', { threads });
  const model = new Sequential([
    new Linear({ inFeatures: 256, outFeatures: 256, seed: 1 }),
    new ReLU(),
    new Linear({ inFeatures: 256, outFeatures: 16, seed: 2 }),
  ]);
  // 128·256·256 multiply-adds per product: above the threshold, so 2 threads split it.
  expect(128 * 256 * 256).toBeGreaterThanOrEqual(THREADED_MIN_MACS);
  const x = tf.tensor(
    Array.from({ length: 128 * 256 }, (_, i) => Math.sin(i * 0.37)),
    [128, 256],
  );
  const y = tf.tidy(() => tf.tanh(tf.slice(x, [0, 0], [128, 16]))); // a learnable target
  const opt = new Adam(model, { lr: 1e-2 });
  let before = 0; // counted after two steps: the first creates Adam's state
  let first = 0;
  let last = 0;
  for (let i = 0; i < steps; i++) {
    const loss = opt.minimize(() => tf.mean<tf.Scalar>(tf.squaredDifference(model.forward(x), y)));
    const v = (await loss.data())[0]!;
    if (i === 0) first = v;
    last = v;
    loss.dispose();
    if (i === 1) before = tf.memory().numTensors;
  }
  expect(tf.memory().numTensors).toBe(before);
  expect(last).toBeLessThan(first / 2);
  const weights = model.parameters().map((p) => Float32Array.from(p.dataSync()));
  opt.dispose();
  model.dispose();
  tf.dispose([x, y]);
  return weights;
}

test('20 training steps with 2 threads give exactly the weights of 1 thread, using the pool', async () => {
  const one = await train(1, 20);
  const used = threadedProducts();
  const two = await train(2, 20);
  expect(threadedProducts()).toBeGreaterThan(used);
  expect(two.length).toBe(one.length);
  two.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(one[i]!)));
});

test('backendInfo reports the GEMM path and the threads in effect', async () => {
  await useBackend('wasm', { threads: 2 });
  expect(backendInfo()?.wasm?.gemm).toBe('relaxed-simd-fma');
  expect(backendInfo()?.wasm?.gemmThreads).toBe(2);
  expect(gemmThreads()).toBe(2);
  await useBackend('wasm', { threads: 1 });
  expect(backendInfo()?.wasm?.gemmThreads).toBe(1);
  expect(gemmThreads()).toBe(1);
});

test.each([0, -1, 1.5, Number.NaN])('threads %s is refused with a BackendError', async (threads) => {
  const call = useBackend('wasm', { threads });
  await expect(call).rejects.toThrow(BackendError);
  await expect(useBackend('wasm', { threads })).rejects.toThrow(
    `useBackend: options.threads must be an integer >= 1, got ${String(threads)}`,
  );
});
