import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { Adam, type AdamOptions } from './adam.js';
import { AdamW } from './adamw.js';
import { ConfigError } from './errors.js';
import { enableJsKernelsForTest } from './internal/kernels/js-kernel.js';
import { Linear } from './linear.js';
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
  const options = JSON.parse(f.metadata.options as string) as AdamOptions & { type: string };
  const params = { weight: tf.variable(f.get('init.weight')), bias: tf.variable(f.get('init.bias')) };
  const opt =
    options.type === 'AdamW'
      ? new AdamW(Object.entries(params), options)
      : new Adam(Object.entries(params), options);
  expect(opt.kind).toBe(options.type);
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
  describe(`Adam on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const name of ['optim-adam', 'optim-adam-wd-amsgrad', 'optim-adam-big-eps']) {
      test(`${name}: 4 steps match PyTorch within 1e-5`, () => replay(name));
    }

    test('3 steps of Adam on a Linear with an MSE loss match PyTorch (autodiff + update)', async () => {
      const f = await loadFixture(fixtureUrl('optim-adam-linear'));
      const lin = new Linear({ inFeatures: 4, outFeatures: 3 });
      lin.loadStateDict(f.group('init.'));
      const opt = new Adam(lin, { lr: 0.05 });
      const x = f.get('x');
      const y = f.get('y');
      for (let k = 0; k < 3; k++) {
        const loss = opt.minimize(() => tf.mean(tf.square(tf.sub(lin.forward(x), y))));
        const flat = tf.reshape(loss, [1]);
        expectTensorsClose(flat, f.get(`loss.${k}`), { atol: 1e-5, label: `loss ${k}` });
        flat.dispose();
        loss.dispose();
        expectTensorsClose(lin.weight, f.get(`after.${k}.weight`), {
          atol: 1e-5,
          label: `weight after step ${k}`,
        });
        expectTensorsClose(lin.bias as tf.Variable, f.get(`after.${k}.bias`), {
          atol: 1e-5,
          label: `bias after step ${k}`,
        });
      }
      opt.dispose();
      lin.dispose();
      f.dispose();
    });

    test('steps leak nothing once the moment buffers exist (2 per parameter, 3 with AMSGrad)', async () => {
      const w = tf.variable(tf.tensor1d([1, 2, 3]));
      const g = tf.tensor1d([0.5, -1, 2]);
      for (const amsgrad of [false, true]) {
        const opt = new Adam([['w', w]], { lr: 0.1, amsgrad, weightDecay: 0.1 });
        await expectNoTensorLeak(() => opt.step({ w: g }), amsgrad ? 3 : 2);
        await expectNoTensorLeak(() => {
          for (let i = 0; i < 5; i++) opt.step({ w: g });
        });
        await expectNoTensorLeak(() => opt.dispose(), amsgrad ? -3 : -2);
      }
      tf.dispose([w, g]);
    });

    test('the fused update kernel (MlAdamUpdate) gives the op-level update bit for bit', () => {
      const run = (fused: boolean, make: (p: [string, tf.Variable][]) => Adam): Float32Array[] => {
        enableJsKernelsForTest(fused);
        try {
          const w = tf.variable(tf.randomNormal([37, 5], 0, 1, 'float32', 3));
          const opt = make([['w', w]]);
          for (let k = 0; k < 6; k++) {
            const g = tf.randomNormal([37, 5], 0, 1 + k, 'float32', 10 + k);
            opt.step({ w: g });
            g.dispose();
          }
          const out = [
            w.dataSync() as Float32Array,
            ...Object.values(opt.stateDict().tensors).map((t) => t.dataSync() as Float32Array),
          ];
          opt.dispose();
          w.dispose();
          return out.map((a) => Float32Array.from(a));
        } finally {
          enableJsKernelsForTest(true);
        }
      };
      const makers: [string, (p: [string, tf.Variable][]) => Adam][] = [
        ['Adam', (p) => new Adam(p, { lr: 0.01 })],
        ['Adam + L2 + AMSGrad', (p) => new Adam(p, { lr: 0.02, weightDecay: 0.1, amsgrad: true, eps: 1e-3 })],
        ['AdamW', (p) => new AdamW(p, { lr: 3e-3, weightDecay: 0.05, betas: [0.8, 0.99] })],
      ];
      for (const [label, make] of makers) {
        const fused = run(true, make);
        const ops = run(false, make);
        expect(fused.length, label).toBe(ops.length);
        fused.forEach((a, i) => expect(Array.from(a), `${label} tensor ${i}`).toEqual(Array.from(ops[i]!)));
      }
    });
  });
}

describe('Adam options', () => {
  beforeAll(() => onBackend('cpu'));
  const w = () => [['w', tf.variable(tf.zeros([1]))] as [string, tf.Variable]];

  test('invalid hyperparameters are ConfigErrors naming the value', () => {
    expect(() => new Adam(w(), { lr: -1e-3 })).toThrow(
      new ConfigError('Adam: lr must be a finite number >= 0, got -0.001'),
    );
    expect(() => new Adam(w(), { betas: [1, 0.999] })).toThrow(
      new ConfigError('Adam: betas[0] must be in [0, 1), got 1'),
    );
    expect(() => new Adam(w(), { betas: [0.9, -0.1] })).toThrow(
      new ConfigError('Adam: betas[1] must be in [0, 1), got -0.1'),
    );
    expect(() => new Adam(w(), { betas: [0.9, NaN] })).toThrow(
      new ConfigError('Adam: betas[1] must be in [0, 1), got NaN'),
    );
    expect(() => new Adam(w(), { betas: [0.9] as unknown as [number, number] })).toThrow(
      new ConfigError('Adam: betas must be a pair [beta1, beta2], got 0.9'),
    );
    expect(() => new Adam(w(), { eps: -1e-8 })).toThrow(
      new ConfigError('Adam: eps must be a finite number >= 0, got -1e-8'),
    );
    expect(() => new Adam(w(), { weightDecay: -0.01 })).toThrow(
      new ConfigError('Adam: weightDecay must be a finite number >= 0, got -0.01'),
    );
    expect(() => new AdamW(w(), { weightDecay: -0.01 })).toThrow(
      new ConfigError('AdamW: weightDecay must be a finite number >= 0, got -0.01'),
    );
    expect(() => new AdamW(w(), { weightDecayFilter: 'matrices' as unknown as () => boolean })).toThrow(
      new ConfigError('AdamW: weightDecayFilter must be a function (name, param) => boolean, got matrices'),
    );
  });

  test("defaults are PyTorch's", () => {
    const opt = new Adam(w());
    expect(opt.lr).toBe(1e-3);
    expect(opt.stateDict().state.hyperparameters).toEqual({
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
    });
  });
});
