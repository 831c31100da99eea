import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { CheckpointError, DataError, useBackend } from '@ml/core';

import { mnistSubsetBytes } from '../mnist-subset.js';
import { splitDigits, VitTask, type DigitSet } from './vit-task.js';

let digits: { train: DigitSet; test: DigitSet };

beforeAll(async () => {
  await useBackend('wasm');
  digits = splitDigits(mnistSubsetBytes());
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('VitTask', () => {
  test('splits the subset into 1200 training and 300 held-out digits, 0–9 each', () => {
    expect(digits.train.count).toBe(1200);
    expect(digits.test.count).toBe(300);
    for (const set of [digits.train, digits.test])
      for (let d = 0; d < 10; d++) expect(set.labels.filter((l) => l === d).length).toBe(set.count / 10);
    expect(() => splitDigits(new Uint8Array(10))).toThrow(DataError);
    expect(() => splitDigits(new Uint8Array(10))).toThrow(/mnist-subset.bin: expected 1176000 bytes/);
  });

  test('the loss falls below 0.93× its start within 40 steps (seed 0) and steps leak no tensors', async () => {
    const task = new VitTask(digits, { seed: 0 });
    const losses: number[] = [];
    let before = 0;
    for (let i = 0; i < 40; i++) {
      if (i === 3) before = tf.memory().numTensors;
      losses.push((await task.trainStep()).loss);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(mean(losses.slice(-5))).toBeLessThan(0.93 * mean(losses.slice(0, 5)));
    const view = await task.view();
    expect(view.kind).toBe('digit');
    if (view.kind === 'digit') {
      expect(view.pixels).toHaveLength(784);
      expect(view.label).toBe(0);
      expect(view.attention).toHaveLength(16);
      expect(view.grid).toBe(4);
      // Rollout rows sum to 1 over [class] and the 16 patches.
      expect(view.attention.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1 + 1e-5);
    }
    task.dispose();
  });

  test('save then load gives the same logits and step; a wrong file is a CheckpointError', async () => {
    const task = new VitTask(digits, { seed: 0 });
    for (let i = 0; i < 2; i++) await task.trainStep();
    const { bytes, fileName } = await task.save();
    expect(fileName).toBe('vit-mnist-step2.safetensors');
    const expected = await task.probe();
    const other = new VitTask(digits, { seed: 0 });
    expect(Array.from((await other.probe()).values)).not.toEqual(Array.from(expected.values));
    other.load(bytes);
    expect(other.step).toBe(2);
    expect(Array.from((await other.probe()).values)).toEqual(Array.from(expected.values));
    expect(() => other.load(new Uint8Array(16))).toThrow(CheckpointError);
    task.dispose();
    other.dispose();
  });
});
