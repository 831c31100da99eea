import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BatchNorm1d, ConfigError, Dropout, Linear, Module, SGD } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { blobs, ceLoss, loaderOf } from '../test/helpers.js';
import { BatchNormRecalibration } from './batch-norm-recalibration.js';
import { Runner } from './runner.js';

class BnNet extends Module {
  readonly fc: Linear;
  readonly bn: BatchNorm1d;
  readonly drop: Dropout;
  readonly head: Linear;

  constructor() {
    super();
    this.fc = this.registerModule('fc', new Linear({ inFeatures: 4, outFeatures: 6, seed: 1 }));
    this.bn = this.registerModule('bn', new BatchNorm1d({ numFeatures: 6 }));
    this.drop = this.registerModule('drop', new Dropout({ p: 0.5 }));
    this.head = this.registerModule('head', new Linear({ inFeatures: 6, outFeatures: 3, seed: 2 }));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.head.forward(this.drop.forward(tf.relu(this.bn.forward(this.fc.forward(x))))));
  }
}

let data: ReturnType<typeof blobs>;
beforeAll(async () => {
  await onBackend('cpu');
  data = blobs(24, 3);
});
afterAll(() => tf.dispose([data.x, data.y]));

// The statistics precise BN should arrive at: the mean of the batch means and of the unbiased batch
// variances of the BatchNorm's input over the first `batches` batches of 8 rows.
function expected(net: BnNet, batches: number): { mean: tf.Tensor; variance: tf.Tensor } {
  return tf.tidy(() => {
    const means: tf.Tensor[] = [];
    const vars: tf.Tensor[] = [];
    for (let b = 0; b < batches; b++) {
      const h = net.fc.forward(tf.slice(data.x, b * 8, 8)); // [8, 6]
      const { mean, variance } = tf.moments(h, 0);
      means.push(mean);
      vars.push(tf.mul(variance, 8 / 7));
    }
    return { mean: tf.div(tf.addN(means), batches), variance: tf.div(tf.addN(vars), batches) };
  });
}

describe('BatchNormRecalibration', () => {
  it('replaces the running statistics by the average batch statistics, touching nothing else', async () => {
    const net = new BnNet();
    net.bn.runningMean?.assign(tf.fill([6], 7));
    net.bn.numBatchesTracked?.assign(tf.scalar(42, 'int32'));
    net.train();
    const recal = new BatchNormRecalibration({
      loader: loaderOf(data.x, data.y, { shuffle: false }),
      batches: 2,
    });
    const rngBefore = net.drop.rng.state();
    const used = await expectNoTensorLeak(() => recal.recalibrate(net));
    expect(used).toBe(2);
    const want = expected(net, 2);
    expectTensorsClose(net.bn.runningMean as tf.Tensor, want.mean, 1e-5);
    expectTensorsClose(net.bn.runningVar as tf.Tensor, want.variance, 1e-5);
    expect(await (net.bn.numBatchesTracked as tf.Tensor).data()).toEqual(new Int32Array([42]));
    expect(net.drop.rng.state()).toEqual(rngBefore); // dropout stayed off
    expect(net.training && net.bn.training && net.drop.training).toBe(true); // modes restored
    tf.dispose([want.mean, want.variance]);
  });

  it('runs before every validation inside fit', async () => {
    const net = new BnNet();
    const recal = new BatchNormRecalibration({
      loader: loaderOf(data.x, data.y, { shuffle: false }),
      batches: 3,
    });
    const runner = new Runner({
      model: net,
      optimizer: new SGD(net, { lr: 0.1 }),
      loss: ceLoss,
      callbacks: [recal],
    });
    await runner.fit(loaderOf(data.x, data.y), { epochs: 2, valLoader: loaderOf(data.x, data.y) });
    // The last validation came after the last step: the statistics describe the final weights.
    const want = expected(net, 3);
    expectTensorsClose(net.bn.runningMean as tf.Tensor, want.mean, 1e-5);
    expectTensorsClose(net.bn.runningVar as tf.Tensor, want.variance, 1e-5);
    expect(await (net.bn.numBatchesTracked as tf.Tensor).data()).toEqual(new Int32Array([6])); // training steps only
    tf.dispose([want.mean, want.variance]);
  });

  it('rejects bad options', () => {
    expect(() => new BatchNormRecalibration({ loader: 3 as unknown as [] })).toThrow(ConfigError);
    expect(() => new BatchNormRecalibration({ loader: 3 as unknown as [] })).toThrow(
      'BatchNormRecalibration: loader must be an iterable or async iterable of batches, got 3',
    );
    expect(() => new BatchNormRecalibration({ loader: [], batches: 0 })).toThrow(
      'BatchNormRecalibration: batches must be a positive integer, got 0',
    );
  });
});
