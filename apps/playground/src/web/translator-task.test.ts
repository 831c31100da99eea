import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { CheckpointError, DataError, encodeSafetensors, useBackend } from '@ml/core';

import { TranslatorTask } from './translator-task.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('TranslatorTask', () => {
  test('the loss falls below 0.92× its start within 24 steps (seed 0, warmup 20) and steps leak no tensors', async () => {
    const task = new TranslatorTask({ seed: 0, warmup: 20 });
    const losses: number[] = [];
    let before = 0;
    for (let i = 0; i < 24; i++) {
      // From step 3 on, Adam's slots exist: the count must stay put.
      if (i === 3) before = tf.memory().numTensors;
      losses.push((await task.trainStep()).loss);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(task.step).toBe(24);
    expect(mean(losses.slice(-5))).toBeLessThan(0.92 * mean(losses.slice(0, 3)));
    task.dispose();
  });

  test('save then load gives the same logits, step and translation', async () => {
    const task = new TranslatorTask({ seed: 1 });
    for (let i = 0; i < 3; i++) await task.trainStep();
    const { bytes, fileName } = await task.save();
    expect(fileName).toBe('translator-step3.safetensors');
    const expected = await task.probe();
    const translation = await task.translate('ei bi: si:');

    const other = new TranslatorTask({ seed: 1 }); // same data and vocabularies, untrained weights
    expect(Array.from((await other.probe()).values)).not.toEqual(Array.from(expected.values));
    other.load(bytes);
    expect(other.step).toBe(3);
    const got = await other.probe();
    expect(got.shape).toEqual(expected.shape);
    expect(Array.from(got.values)).toEqual(Array.from(expected.values));
    expect(await other.translate('ei bi: si:')).toBe(translation);
    task.dispose();
    other.dispose();
  });

  test('run rejects empty input, unknown names and too many names with a DataError', async () => {
    const task = new TranslatorTask({ seed: 0 });
    await expect(task.translate('  ')).rejects.toThrow(DataError);
    await expect(task.translate('  ')).rejects.toThrow(/type one or more letter names/);
    await expect(task.translate('ei bee')).rejects.toThrow(DataError);
    await expect(task.translate('ei bee')).rejects.toThrow(/bee/);
    await expect(task.translate('ei ei ei ei ei ei ei')).rejects.toThrow(/at most 6 letter names .* got 7/);
    task.dispose();
  });

  test('load rejects a file that is not a translator checkpoint with a CheckpointError', async () => {
    const task = new TranslatorTask({ seed: 0 });
    const x = tf.zeros([2]);
    const bytes = await encodeSafetensors({ x }, { metadata: { format: 'something-else' } });
    x.dispose();
    expect(() => task.load(bytes)).toThrow(CheckpointError);
    expect(() => task.load(bytes)).toThrow(
      /load checkpoint: format must be '@ml\/seq2seq\/v1' \(a translator checkpoint\), got 'something-else'/,
    );
    expect(() => task.load(new Uint8Array([1, 2, 3]))).toThrow(CheckpointError);
    expect(task.step).toBe(0);
    task.dispose();
  });
});
