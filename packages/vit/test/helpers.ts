// Test helpers for @ml/vit: PyTorch parity against fixtures from tooling/fixtures/gen_vit.py.
import * as tf from '@tensorflow/tfjs-core';

import { fixtureUrl, loadFixture } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

/** Loads packages/vit/fixtures/<name>.safetensors. */
export const fixture = (name: string): Promise<Fixture> => loadFixture(fixtureUrl(name, import.meta.url));

/** max |actual − expected| / max |expected| (the scale-relative error the parity tests bound). */
export function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  if (actual.shape.join() !== expected.shape.join())
    throw new Error(`shape ${JSON.stringify(actual.shape)} vs expected ${JSON.stringify(expected.shape)}`);
  return tf.tidy(() => {
    const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] as number;
    const scale = tf.max(tf.abs(expected)).dataSync()[0] as number;
    return diff / Math.max(scale, 1e-30);
  });
}

/** max |actual − expected|. */
export function absoluteError(actual: tf.Tensor, expected: tf.Tensor): number {
  if (actual.shape.join() !== expected.shape.join())
    throw new Error(`shape ${JSON.stringify(actual.shape)} vs expected ${JSON.stringify(expected.shape)}`);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0] as number);
}
