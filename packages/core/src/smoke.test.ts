import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { Linear, Sequential, ReLU, useBackend } from './index.js';

describe('smoke', () => {
  it('trains on wasm', async () => {
    expect(await useBackend('wasm')).toBe('wasm');
    const net = new Sequential([new Linear({ inFeatures: 4, outFeatures: 16, seed: 1 }), new ReLU(), new Linear({ inFeatures: 16, outFeatures: 1, seed: 2 })]);
    const x = tf.randomNormal([32, 4], 0, 1, 'float32', 3);
    const y = tf.sum(x, 1, true);
    const loss = () => tf.mean(tf.squaredDifference(net.forward(x), y)) as tf.Scalar;
    const first = loss().dataSync()[0]!;
    const opt = tf.train.sgd(0.05);
    for (let i = 0; i < 100; i++) tf.dispose(opt.minimize(loss, true, net.parameters()));
    const last = loss().dataSync()[0]!;
    console.log(first, last, Object.keys(net.stateDict()));
    expect(last).toBeLessThan(first / 5);
  });
});
