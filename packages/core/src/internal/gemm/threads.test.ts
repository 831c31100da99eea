import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, test } from 'vitest';

import { Adam } from '../../adam.js';
import { backendInfo, useBackend } from '../../backend.js';
import { BackendError } from '../../errors.js';
import { Conv2d } from '../../conv2d.js';
import { Flatten } from '../../flatten.js';
import { Linear } from '../../linear.js';
import { GELU, LeakyReLU, ReLU } from '../../activations.js';
import { LayerNorm } from '../../layer-norm.js';
import { lstmSequence } from '../../lstm-sequence.js';
import { Sequential } from '../../sequential.js';

import { LSTM_SPLIT_MIN_MACS } from '../kernels/lstm-sequence.js';
import { SPLIT_MIN_BYTES } from '../kernels/simd-map.js';
import { wasmBackend } from '../tfjs-seam.js';

import { gemmInPlace, gemmThreads, poolCallRounds, threadedProducts, THREADED_MIN_MACS } from './threads.js';

// useBackend's `threads` option: checked, reported, and deterministic — training with 2 threads gives
// exactly the weights of 1 thread.

afterAll(async () => {
  await useBackend('wasm', { threads: 1 });
});

interface Task {
  lr: number;
  model: Sequential;
  x: tf.Tensor;
  y: tf.Tensor;
}

/** A small MLP whose first product (128·256·256 multiply-adds) is large enough for the pool. */
function mlp(): Task {
  expect(128 * 256 * 256).toBeGreaterThanOrEqual(THREADED_MIN_MACS);
  const model = new Sequential([
    new Linear({ inFeatures: 256, outFeatures: 256, seed: 1 }),
    new ReLU(),
    new Linear({ inFeatures: 256, outFeatures: 16, seed: 2 }),
  ]);
  const x = tf.tensor(
    Array.from({ length: 128 * 256 }, (_, i) => Math.sin(i * 0.37)),
    [128, 256],
  );
  return { lr: 1e-2, model, x, y: tf.tidy(() => tf.tanh(tf.slice(x, [0, 0], [128, 16]))) }; // a learnable target
}

/** A small CNN whose convolution and its filter gradient (8192 pixels · 72 taps · 32 channels) use the pool. */
function cnn(): Task {
  expect(8192 * 72 * 32).toBeGreaterThanOrEqual(THREADED_MIN_MACS);
  const model = new Sequential([
    new Conv2d({ inChannels: 8, outChannels: 32, kernelSize: 3, padding: 1, seed: 1 }),
    new ReLU(),
    new Flatten(),
    new Linear({ inFeatures: 16 * 16 * 32, outFeatures: 4, seed: 2 }),
  ]);
  const x = tf.tensor(
    Array.from({ length: 32 * 16 * 16 * 8 }, (_, i) => Math.sin(i * 0.37)),
    [32, 16, 16, 8],
  );
  return {
    lr: 1e-3,
    model,
    x,
    y: tf.tidy(() => tf.tanh(tf.reshape(tf.slice(x, [0, 0, 0, 0], [32, 1, 1, 4]), [32, 4]))),
  };
}

/**
 * A wide MLP whose GELU, LayerNorm, LeakyReLU and Adam updates (256·320 floats each) are large enough to
 * be split across the threads.
 */
function wide(): Task {
  expect(256 * 320 * 4).toBeGreaterThanOrEqual(SPLIT_MIN_BYTES);
  const model = new Sequential([
    new Linear({ inFeatures: 256, outFeatures: 320, seed: 1 }),
    new GELU(),
    new LayerNorm({ normalizedShape: 320 }),
    new LeakyReLU({ negativeSlope: 0.1 }),
    new Linear({ inFeatures: 320, outFeatures: 16, seed: 2 }),
  ]);
  const x = tf.tensor(
    Array.from({ length: 256 * 256 }, (_, i) => Math.sin(i * 0.37)),
    [256, 256],
  );
  return { lr: 3e-3, model, x, y: tf.tidy(() => tf.tanh(tf.slice(x, [0, 0], [256, 16]))) };
}

/** Asserts bit-identical values, reporting the first difference (a diff of whole arrays is slow). */
function expectSameBits(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let first = -1;
  for (let i = 0; i < actual.length && first < 0; i++) if (!Object.is(actual[i], expected[i])) first = i;
  expect(first < 0 ? 'identical' : `differs first at ${first}: ${actual[first]} vs ${expected[first]}`).toBe(
    'identical',
  );
}

/** Weights after `steps` Adam steps of `task` with `threads`. */
async function train(threads: number, steps: number, task: () => Task): Promise<Float32Array[]> {
  await useBackend('wasm', { threads });
  const { lr, model, x, y } = task();
  const opt = new Adam(model, { lr });
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

test.each([
  ['an MLP', mlp],
  ['a CNN', cnn],
] as const)(
  '20 training steps of %s with 2 threads give exactly the weights of 1 thread, using the pool',
  async (_, task) => {
    const one = await train(1, 20, task);
    const used = threadedProducts();
    const two = await train(2, 20, task);
    expect(threadedProducts()).toBeGreaterThan(used);
    expect(two.length).toBe(one.length);
    two.forEach((w, i) => expectSameBits(w, one[i]!));
  },
);

test('20 training steps of a wide MLP (GELU, LayerNorm, LeakyReLU) with 2 threads give exactly the weights of 1 thread, its elementwise kernels and Adam split across the threads', async () => {
  const one = await train(1, 20, wide);
  const split = poolCallRounds();
  const two = await train(2, 20, wide);
  // Per step: GELU and LeakyReLU forward and backward, LayerNorm forward, Adam on both 256·320 weights.
  expect(poolCallRounds() - split).toBeGreaterThanOrEqual(20 * 6);
  expect(two.length).toBe(one.length);
  two.forEach((w, i) => expectSameBits(w, one[i]!));
});

test('an LSTM sequence split by batch rows across 2 threads gives the states and gradients of 1 thread', async () => {
  const [T, B, H] = [6, 40, 128];
  expect(B * H * 4 * H).toBeGreaterThanOrEqual(LSTM_SPLIT_MIN_MACS);
  const wave = (n: number, f: number) => Array.from({ length: n }, (_, i) => 0.5 * Math.sin(i * f));
  const run = async (threads: number) => {
    await useBackend('wasm', { threads });
    const xp = tf.tensor3d(wave(T * B * 4 * H, 0.37), [T, B, 4 * H]);
    const whh = tf.tensor2d(wave(4 * H * H, 0.11), [4 * H, H]);
    const h0 = tf.tensor2d(wave(B * H, 0.53), [B, H]);
    const c0 = tf.tensor2d(wave(B * H, 0.29), [B, H]);
    const rounds = poolCallRounds();
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => {
      const { hs, cs } = lstmSequence(x as tf.Tensor3D, w as tf.Tensor2D, h as tf.Tensor2D, c as tf.Tensor2D);
      return tf.sum(tf.add(tf.mul(hs, hs), cs));
    })([xp, whh, h0, c0]);
    const out = [value, ...grads].map((t) => Array.from(t.dataSync()));
    const split = poolCallRounds() - rounds;
    tf.dispose([xp, whh, h0, c0, value, ...grads]);
    return { out, split };
  };
  const one = await run(1);
  const two = await run(2);
  expect(one.split).toBe(0);
  expect(two.split).toBe(2); // one round for all the steps forward, one backward
  two.out.forEach((v, i) => expectSameBits(v, one.out[i]!));
});

test('batches of transposes (of elements, and of whole rows) and a column sum split across 2 threads equal those of 1 thread', async () => {
  const x = tf.tensor3d(
    Array.from({ length: 8 * 96 * 100 }, (_, i) => Math.sin(i * 0.01)),
    [8, 96, 100],
  );
  expect(x.size * 4).toBeGreaterThanOrEqual(SPLIT_MIN_BYTES);
  const run = async (threads: number) => {
    await useBackend('wasm', { threads });
    const rounds = poolCallRounds();
    const t = tf.transpose(x, [0, 2, 1]);
    const heads = tf.transpose(tf.reshape(x, [8, 96, 25, 4]), [0, 2, 1, 3]); // whole rows of 4 move
    const s = tf.sum(x, [0, 1]);
    const out = [Array.from(t.dataSync()), Array.from(heads.dataSync()), Array.from(s.dataSync())];
    tf.dispose([t, heads, s]);
    return { out, rounds: poolCallRounds() - rounds };
  };
  const one = await run(1);
  const two = await run(2);
  expect(one.rounds).toBe(0);
  expect(two.rounds).toBe(3);
  two.out.forEach((v, i) => expectSameBits(v, one.out[i]!));
  x.dispose();
});

test('a product with a bias on 2 threads (split by rows, and by columns) equals the product plus the bias on 1', async () => {
  const wave = (shape: number[], f: number) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * f)),
      shape,
    );
  // [m, k, n]: 65 row blocks of whole tiles (rows split), 2 row blocks under 128 panels (columns split:
  // each unit starts from its panels' part of the bias), and 35 row blocks of 13 panels, the last partial
  // (the bias padded to whole panels) with k in two blocks.
  const cases = [
    [260, 128, 136],
    [8, 512, 1024],
    [140, 300, 100],
  ] as const;
  const run = async (threads: number) => {
    await useBackend('wasm', { threads });
    const products = threadedProducts();
    const out = cases.map(([m, k, n]) => {
      const [a, b, bias] = [wave([m, k], 0.37), wave([n, k], 0.11), wave([n], 1.3)];
      const fused = tf.fused.matMul({ a, b, transposeB: true, bias });
      const plain = tf.add(tf.matMul(a, b, false, true), bias);
      const r = { fused: Array.from(fused.dataSync()), plain: Array.from(plain.dataSync()) };
      tf.dispose([a, b, bias, fused, plain]);
      return r;
    });
    return { out, products: threadedProducts() - products };
  };
  for (const [m, k, n] of cases) expect(m * k * n).toBeGreaterThanOrEqual(THREADED_MIN_MACS);
  const one = await run(1);
  const two = await run(2);
  expect(one.products).toBe(0);
  expect(two.products).toBe(6);
  two.out.forEach((r, i) => {
    expectSameBits(r.fused, one.out[i]!.fused);
    // The bias is the accumulators' starting value, so the sums round differently from adding it after.
    r.fused.forEach((v, j) =>
      expect(Math.abs(v - r.plain[j]!)).toBeLessThan(1e-4 * (1 + Math.abs(r.plain[j]!))),
    );
  });
});

test('batched products on 2 threads (split by whole products, or by rows with A packed by each unit) equal those of 1 thread', async () => {
  const wave = (shape: number[], f: number) =>
    tf.tensor(
      Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * f)),
      shape,
    );
  // [A shape, B shape, transposeB]: attention's scores (rows of 65: a padded C), its product with the
  // values, a weight shared by every product (packed first), and one shared by four products each.
  const cases: [number[], number[], boolean][] = [
    [[128, 65, 32], [128, 65, 32], true],
    [[128, 64, 64], [128, 64, 32], false],
    [[64, 64, 32], [32, 48], false],
    [[8, 2, 64, 128], [1, 2, 128, 64], false],
    // Three tall products split by rows: each unit packs its rows of A in runs of at most 128 rows, and
    // runs cross from one product to the next.
    [[3, 700, 64], [3, 64, 72], false],
  ];
  const run = async (threads: number) => {
    await useBackend('wasm', { threads });
    const products = threadedProducts();
    const out = cases.map(([as, bs, tb], i) => {
      const [a, b] = [wave(as, 0.37 + i), wave(bs, 0.11 + i)];
      const c = tf.matMul(a, b, false, tb);
      const r = Array.from(c.dataSync());
      tf.dispose([a, b, c]);
      return r;
    });
    return { out, products: threadedProducts() - products };
  };
  const one = await run(1);
  const two = await run(2);
  expect(one.products).toBe(0);
  expect(two.products).toBe(cases.length);
  two.out.forEach((v, i) => expectSameBits(v, one.out[i]!));
});

test('backendInfo reports the GEMM path, the threads in effect and the shared heap', async () => {
  await useBackend('wasm', { threads: 2 });
  expect(backendInfo()?.wasm?.gemm).toBe('relaxed-simd-fma');
  expect(backendInfo()?.wasm?.gemmThreads).toBe(2);
  expect(gemmThreads()).toBe(2);
  // Node loads tfjs' binary with a shared memory, and the pool computes there without copies.
  expect(backendInfo()?.wasm?.sharedHeap).toBe(true);
  expect(gemmInPlace(wasmBackend(tf.backend()).memory())).toBe(true);
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
