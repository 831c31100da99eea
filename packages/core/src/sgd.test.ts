import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError } from './errors.js';
import { SGD, type SgdOptions } from './sgd.js';
import {
  TEST_BACKENDS,
  expectNoTensorLeak,
  expectTensorsClose,
  loadFixture,
  onBackend,
} from './testing/index.js';

const fixtureUrl = (name: string) => new URL(`../fixtures/${name}.safetensors`, import.meta.url);

/** Replays a PyTorch run (fixed gradients, tooling/fixtures/gen_core_optim.py) and compares every step. */
async function replay(name: string): Promise<void> {
  const f = await loadFixture(fixtureUrl(name));
  const options = JSON.parse(f.metadata.options as string) as SgdOptions & { type: string };
  expect(options.type).toBe('SGD');
  const params = { weight: tf.variable(f.get('init.weight')), bias: tf.variable(f.get('init.bias')) };
  const opt = new SGD(Object.entries(params), options);
  const steps = Number(f.metadata.steps);
  for (let k = 0; k < steps; k++) {
    opt.step({ weight: f.get(`grad.${k}.weight`), bias: f.get(`grad.${k}.bias`) });
    for (const [p, v] of Object.entries(params))
      expectTensorsClose(v, f.get(`after.${k}.${p}`), { atol: 1e-5, label: `${name} step ${k} ${p}` });
  }
  opt.dispose();
  tf.dispose(Object.values(params));
  f.dispose();
}

for (const backend of TEST_BACKENDS) {
  describe(`SGD on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const name of [
      'optim-sgd',
      'optim-sgd-momentum',
      'optim-sgd-nesterov-wd',
      'optim-sgd-dampening-wd',
    ]) {
      test(`${name}: 4 steps match PyTorch within 1e-5`, () => replay(name));
    }

    test('one step is p − lr·g by hand, leaks nothing, and keeps no buffer without momentum', async () => {
      const w = tf.variable(tf.tensor1d([1, 2, 3]));
      const g = tf.tensor1d([0.5, -1, 2]);
      const opt = new SGD([['w', w]], { lr: 0.1 });
      await expectNoTensorLeak(() => opt.step({ w: g }));
      expectTensorsClose(w, [0.95, 2.1, 2.8], 1e-6);
      expect(opt.stateDict().tensors).toEqual({});
      tf.dispose([w, g]);
    });

    test('momentum steps leak nothing after the first creates the buffer', async () => {
      const w = tf.variable(tf.tensor1d([1, 2, 3]));
      const g = tf.tensor1d([0.5, -1, 2]);
      const opt = new SGD([['w', w]], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
      await expectNoTensorLeak(() => opt.step({ w: g }), 1);
      await expectNoTensorLeak(() => {
        for (let i = 0; i < 5; i++) opt.step({ w: g });
      });
      opt.dispose();
      await expectNoTensorLeak(() => undefined);
      expect(tf.memory().numTensors).toBeGreaterThan(0);
      tf.dispose([w, g]);
    });
  });
}

describe('SGD options', () => {
  beforeAll(() => onBackend('cpu'));
  const w = () => [['w', tf.variable(tf.zeros([1]))] as [string, tf.Variable]];

  test('invalid hyperparameters are ConfigErrors naming the value', () => {
    expect(() => new SGD(w(), { lr: -0.01 })).toThrow(
      new ConfigError('SGD: lr must be a finite number >= 0, got -0.01'),
    );
    expect(() => new SGD(w(), { lr: 0.1, momentum: -0.5 })).toThrow(
      new ConfigError('SGD: momentum must be a finite number >= 0, got -0.5'),
    );
    expect(() => new SGD(w(), { lr: 0.1, weightDecay: -1 })).toThrow(
      new ConfigError('SGD: weightDecay must be a finite number >= 0, got -1'),
    );
    expect(() => new SGD(w(), { lr: 0.1, dampening: 1.5 })).toThrow(
      new ConfigError('SGD: dampening must be in [0, 1], got 1.5'),
    );
    expect(() => new SGD(w(), { lr: 0.1, nesterov: true })).toThrow(
      new ConfigError('SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0, dampening 0'),
    );
    expect(() => new SGD(w(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(
      new ConfigError('SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0.9, dampening 0.1'),
    );
  });

  test("defaults are PyTorch's", () => {
    const opt = new SGD(w(), { lr: 0.1 });
    expect(opt.stateDict().state.hyperparameters).toEqual({
      momentum: 0,
      dampening: 0,
      nesterov: false,
      weightDecay: 0,
    });
  });
});
