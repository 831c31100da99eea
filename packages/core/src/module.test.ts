import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { BatchNorm1d } from './batch-norm.js';
import { CheckpointError, ConfigError } from './errors.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { ReLU } from './activations.js';
import { Sequential } from './sequential.js';
import { expectTensorsClose, onBackend } from './testing/index.js';

/** A two-level model: `encoder` (Sequential of Linear, ReLU, BatchNorm1d) and `head` (Linear), plus a buffer. */
class Net extends Module {
  readonly encoder: Sequential;
  readonly head: Linear;
  readonly scale: tf.Variable;

  constructor(seed = 0) {
    super();
    this.encoder = this.registerModule(
      'encoder',
      new Sequential([
        new Linear({ inFeatures: 3, outFeatures: 4, seed }),
        new ReLU(),
        new BatchNorm1d({ numFeatures: 4 }),
      ]),
    );
    this.head = this.registerModule('head', new Linear({ inFeatures: 4, outFeatures: 2, seed: seed + 1 }));
    this.scale = this.registerBuffer('scale', tf.scalar(2));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.mul(this.head.forward(this.encoder.forward(x)), this.scale));
  }

  /** Exposes registration for the name checks. */
  register(name: string): void {
    this.registerParameter(name, tf.zeros([1]));
  }
}

describe('Module', () => {
  beforeAll(() => onBackend('cpu'));

  test('names parameters and buffers with dotted paths, like PyTorch', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'encoder.0.weight',
      'encoder.0.bias',
      'encoder.2.weight',
      'encoder.2.bias',
      'head.weight',
      'head.bias',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual([
      'scale',
      'encoder.2.running_mean',
      'encoder.2.running_var',
      'encoder.2.num_batches_tracked',
    ]);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['encoder', 'head']);
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '',
      'encoder',
      'encoder.0',
      'encoder.1',
      'encoder.2',
      'head',
    ]);
    expect(Object.keys(net.stateDict())).toEqual(
      [...net.namedParameters(), ...net.namedBuffers()].map(([n]) => n),
    );
    expect(net.numParameters()).toBe(3 * 4 + 4 + 4 + 4 + 4 * 2 + 2);
    expect(net.parameters().every((p) => p.trainable)).toBe(true);
    expect(net.namedBuffers().every(([, b]) => !b.trainable)).toBe(true);
  });

  test('train() and eval() reach every descendant', () => {
    const net = new Net();
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
  });

  test('freeze() stops gradients for a subtree; unfreeze() resumes them', () => {
    const net = new Net();
    net.encoder.freeze();
    expect(net.trainableParameters()).toEqual([net.head.weight, net.head.bias]);
    const { value, grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(net.forward(tf.ones([2, 3]))));
    expect(Object.keys(grads).sort()).toEqual(
      [net.head.weight.name, (net.head.bias as tf.Variable).name].sort(),
    );
    tf.dispose([value, grads]);
    net.encoder.unfreeze();
    expect(net.trainableParameters()).toHaveLength(6);
  });

  test('loadStateDict copies every tensor from another model (buffers included)', () => {
    const a = new Net(1);
    const b = new Net(2);
    a.encoder.forward(tf.ones([2, 3])); // moves a's running stats
    b.loadStateDict(a.stateDict());
    for (const [name, t] of Object.entries(a.stateDict()))
      expectTensorsClose(b.stateDict()[name] as tf.Tensor, t, 0);
    const x = tf.tensor2d([[1, -2, 3]]);
    expectTensorsClose(b.eval().forward(x), a.eval().forward(x), 0);
  });

  test('loadStateDict reports missing, unexpected and wrong-shape keys together in one CheckpointError, and writes nothing', () => {
    const net = new Net();
    const before = (net.head.bias as tf.Variable).dataSync().slice();
    const state = { ...net.stateDict() };
    delete state['encoder.0.bias'];
    delete state['scale'];
    state['head.bias'] = tf.zeros([3]);
    state['head.extra'] = tf.zeros([1]);
    state['encoder.2.weight'] = tf.zeros([4, 1]);
    expectThrows(
      () => net.loadStateDict(state),
      CheckpointError,
      'Net.loadStateDict: state dict does not fit the model (missing keys: encoder.0.bias, scale; unexpected keys: head.extra; ' +
        'wrong shapes: encoder.2.weight: expected [4], got [4, 1]; head.bias: expected [2], got [3])',
    );
    expect((net.head.bias as tf.Variable).dataSync()).toEqual(before);
  });

  test('non-strict loading skips missing and unexpected keys and says which; wrong shapes still throw', () => {
    const net = new Net();
    const result = net.loadStateDict(
      { 'head.bias': tf.tensor1d([5, 6]), 'other.weight': tf.zeros([1]) },
      { strict: false },
    );
    expect(Array.from((net.head.bias as tf.Variable).dataSync())).toEqual([5, 6]);
    expect(result.unexpectedKeys).toEqual(['other.weight']);
    expect(result.missingKeys).toHaveLength(Object.keys(net.stateDict()).length - 1);
    expectThrows(
      () => net.loadStateDict({ 'head.bias': tf.zeros([2, 1]) }, { strict: false }),
      CheckpointError,
      'Net.loadStateDict: state dict does not fit the model (wrong shapes: head.bias: expected [2], got [2, 1])',
    );
    expectThrows(
      () => net.loadStateDict({ 'head.bias': [1, 2] as unknown as tf.Tensor }, { strict: false }),
      CheckpointError,
      'Net.loadStateDict: state dict does not fit the model (wrong shapes: head.bias: expected a tensor of shape [2], got object)',
    );
  });

  test('loadStateDict casts dtypes (a float count into the int32 num_batches_tracked) and keys are own properties only', () => {
    const bn = new BatchNorm1d({ numFeatures: 2 });
    bn.loadStateDict({ ...bn.stateDict(), num_batches_tracked: tf.scalar(7) });
    expect(bn.numBatchesTracked?.dtype).toBe('int32');
    expect(Array.from((bn.numBatchesTracked as tf.Variable).dataSync())).toEqual([7]);
    // A key named like an Object.prototype member is not "present" by inheritance.
    class Odd extends Module {
      constructor() {
        super();
        this.registerParameter('toString', tf.zeros([1]));
      }
    }
    expectThrows(
      () => new Odd().loadStateDict({}),
      CheckpointError,
      'Odd.loadStateDict: state dict does not fit the model (missing keys: toString)',
    );
  });

  test("loading a model's own state dict is a no-op that keeps its values", () => {
    const net = new Net();
    const before = net.head.weight.dataSync().slice();
    net.loadStateDict(net.stateDict());
    expect(net.head.weight.dataSync()).toEqual(before);
  });

  test('rejects duplicate and malformed names', () => {
    const net = new Net();
    expectThrows(() => net.register('head'), ConfigError, "Net: 'head' is already registered");
    expectThrows(
      () => net.register('a.b'),
      ConfigError,
      "Net: name must be an identifier or an index, got 'a.b'",
    );
    expectThrows(() => net.register(''), ConfigError, "Net: name must be an identifier or an index, got ''");
  });

  test('dispose() frees every parameter and buffer of the tree', () => {
    const before = tf.memory().numTensors;
    const net = new Net();
    expect(tf.memory().numTensors - before).toBe(net.parameters().length + net.namedBuffers().length);
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
