import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { CheckpointError, useBackend } from '@ml/core';

import { FORECASTER_CHECKPOINT_FORMAT, ForecasterTask } from './forecaster-task.js';

beforeAll(async () => {
  await useBackend('wasm');
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('ForecasterTask', () => {
  test('the loss falls to under a fifth within 60 steps (seed 0), R² rises, and steps leak no tensors', async () => {
    const task = new ForecasterTask({ seed: 0 });
    const points = [];
    let before = 0;
    for (let i = 0; i < 60; i++) {
      if (i === 3) before = tf.memory().numTensors;
      points.push(await task.trainStep());
    }
    expect(tf.memory().numTensors).toBe(before);
    const loss = points.map((p) => p.loss);
    expect(mean(loss.slice(-10))).toBeLessThan(0.2 * mean(loss.slice(0, 5)));
    expect(mean(points.slice(-10).map((p) => p.metric))).toBeGreaterThan(0.8);
    const view = await task.view();
    expect(view.kind).toBe('forecast');
    if (view.kind === 'forecast') {
      expect(view.predicted).toHaveLength(view.truth.length);
      expect(view.index).toHaveLength(view.truth.length);
      expect(view.rmse).toBeLessThan(0.1); // the series spans about [0.2, 1.4]
    }
    task.dispose();
  });

  test('save then load gives the same outputs and step; a wrong file is a CheckpointError', async () => {
    const task = new ForecasterTask({ seed: 0 });
    for (let i = 0; i < 3; i++) await task.trainStep();
    const { bytes, fileName } = await task.save();
    expect(fileName).toBe('lstm-forecaster-step3.safetensors');
    const expected = await task.probe();
    const other = new ForecasterTask({ seed: 0 });
    expect(Array.from((await other.probe()).values)).not.toEqual(Array.from(expected.values));
    other.load(bytes);
    expect(other.step).toBe(3);
    expect(Array.from((await other.probe()).values)).toEqual(Array.from(expected.values));
    expect(() => other.load(new Uint8Array(16))).toThrow(CheckpointError);
    const translatorLike = new TextEncoder().encode(FORECASTER_CHECKPOINT_FORMAT);
    expect(() => other.load(translatorLike)).toThrow(CheckpointError);
    task.dispose();
    other.dispose();
  });
});
