import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, SGD } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, weightsOf } from '../test/helpers.js';
import { GradientClipping } from './gradient-clipping.js';
import { Runner } from './runner.js';

beforeAll(() => onBackend('cpu'));

// Global L2 norm of the change of every parameter between two snapshots.
function deltaNorm(a: Record<string, number[]>, b: Record<string, number[]>): number {
  let sum = 0;
  for (const [k, va] of Object.entries(a)) va.forEach((v, i) => (sum += (v - (b[k]?.[i] as number)) ** 2));
  return Math.sqrt(sum);
}

async function oneStep(maxNorm: number | null): Promise<{ delta: number; norm: number }> {
  const model = new TinyMlp({ seed: 0 });
  const clip = new GradientClipping({ maxNorm: maxNorm ?? 1e9 });
  const runner = new Runner({ model, optimizer: new SGD(model, { lr: 1 }), loss: ceLoss, callbacks: [clip] });
  const { x, y } = blobs(16, 2);
  const before = await weightsOf(model);
  await runner.fit([[x, y]], { epochs: 1 });
  const delta = deltaNorm(await weightsOf(model), before);
  model.dispose();
  return { delta, norm: clip.lastNorm };
}

describe('GradientClipping', () => {
  it('bounds the global gradient norm: with SGD lr 1 the update norm is min(norm, maxNorm)', async () => {
    const free = await oneStep(null);
    expect(free.delta).toBeCloseTo(free.norm, 4); // lr 1: the update is the gradient
    expect(free.norm).toBeGreaterThan(0.05);
    const clipped = await oneStep(0.05);
    expect(clipped.norm).toBeCloseTo(free.norm, 5); // reported before clipping
    expect(clipped.delta).toBeLessThanOrEqual(0.05 + 1e-6);
    expect(clipped.delta).toBeCloseTo(0.05, 4);
  });

  it('rejects a bad maxNorm', () => {
    expect(() => new GradientClipping({ maxNorm: 0 })).toThrow(ConfigError);
    expect(() => new GradientClipping({ maxNorm: 0 })).toThrow(
      'GradientClipping: maxNorm must be a finite number > 0, got 0',
    );
  });

  it('leaks nothing', async () => {
    const before = tf.memory().numTensors;
    await oneStep(0.05);
    expect(tf.memory().numTensors).toBe(before);
  });
});
