import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ReLU } from './activations.js';
import { Adam } from './adam.js';
import { AdamW } from './adamw.js';
import { CheckpointError, ConfigError, ShapeError } from './errors.js';
import { Linear } from './linear.js';
import type { Optimizer, OptimizerParams, OptimizerState } from './optimizer.js';
import { init } from './init.js';
import { Rng } from './rng.js';
import { decodeSafetensors, encodeSafetensors, rawToTensors } from './safetensors.js';
import { Sequential } from './sequential.js';
import { SGD } from './sgd.js';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from './testing/index.js';

const mlp = (seed: number) =>
  new Sequential([
    new Linear({ inFeatures: 3, outFeatures: 8, seed }),
    new ReLU(),
    new Linear({ inFeatures: 8, outFeatures: 2, seed: seed + 1 }),
  ]);

/** A fixed regression task: y = x·A with A fixed, 16 samples. */
function task() {
  const rng = new Rng(7);
  const x = init.normal(rng, [16, 3]);
  const a = tf.tensor2d([
    [1, -2],
    [0.5, 1],
    [-1, 0.25],
  ]);
  const y = tf.matMul(x, a);
  a.dispose();
  return { x, y };
}

const mseOf = (model: Sequential, x: tf.Tensor, y: tf.Tensor) => () =>
  tf.mean<tf.Scalar>(tf.square(tf.sub(model.forward(x), y)));

const OPTIMIZERS: Record<string, (p: OptimizerParams) => Optimizer> = {
  'SGD with momentum': (p) => new SGD(p, { lr: 0.05, momentum: 0.9 }),
  'SGD with Nesterov and weight decay': (p) =>
    new SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }),
  'Adam with AMSGrad': (p) => new Adam(p, { lr: 0.02, amsgrad: true, weightDecay: 1e-3 }),
  AdamW: (p) => new AdamW(p, { lr: 0.02 }),
};

// Number of state buffers one step creates for the 4 parameters of `mlp`.
const SLOTS: Record<string, number> = {
  'SGD with momentum': 4,
  'SGD with Nesterov and weight decay': 4,
  'Adam with AMSGrad': 12,
  AdamW: 8,
};

async function weightsOf(model: Sequential): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const [name, v] of model.namedParameters()) out[name] = Array.from(await v.data());
  return out;
}

for (const backend of TEST_BACKENDS) {
  describe(`Optimizer on ${backend}`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, make] of Object.entries(OPTIMIZERS)) {
      test(`${name}: trains (loss falls ≥ 20× in 60 steps) and steps leak no tensors`, async () => {
        const model = mlp(1);
        const { x, y } = task();
        const opt = make(model);
        const loss = mseOf(model, x, y);
        // The first step creates the optimizer's buffers (one per parameter and slot) and returns the loss.
        const l0 = await expectNoTensorLeak(() => opt.minimize(loss), 1 + (SLOTS[name] as number));
        const first = (await l0.data())[0] as number;
        l0.dispose();
        await expectNoTensorLeak(() => {
          for (let i = 0; i < 58; i++) opt.minimize(loss).dispose();
        });
        const last = opt.minimize(loss);
        const final = (await last.data())[0] as number;
        last.dispose();
        expect(final).toBeLessThan(first / 20);
        expect(opt.stepCount).toBe(60);
        opt.dispose();
        model.dispose();
        tf.dispose([x, y]);
      });

      test(`${name}: a restored optimizer continues bit-identically (5 + save/restore + 5 = 10 steps)`, async () => {
        const { x, y } = task();
        const straight = mlp(1);
        const opt1 = make(straight);
        for (let i = 0; i < 10; i++) opt1.minimize(mseOf(straight, x, y)).dispose();

        const first = mlp(1);
        const opt2 = make(first);
        for (let i = 0; i < 5; i++) opt2.minimize(mseOf(first, x, y)).dispose();
        // Through the checkpoint format: tensors as safetensors bytes, the rest as JSON text.
        const { tensors, state } = opt2.stateDict();
        const optBytes = await encodeSafetensors(tensors);
        const modelBytes = await encodeSafetensors(first.stateDict());
        const stateJson = JSON.stringify(state);
        opt2.dispose();
        first.dispose();

        const resumed = mlp(99); // different initial weights: everything must come from the checkpoint
        const opt3 = make(resumed);
        const modelState = rawToTensors(decodeSafetensors(modelBytes).tensors);
        resumed.loadStateDict(modelState);
        const optTensors = rawToTensors(decodeSafetensors(optBytes).tensors);
        opt3.loadStateDict({ tensors: optTensors, state: JSON.parse(stateJson) as OptimizerState });
        tf.dispose([...Object.values(modelState), ...Object.values(optTensors)]);
        expect(opt3.stepCount).toBe(5);
        for (let i = 0; i < 5; i++) opt3.minimize(mseOf(resumed, x, y)).dispose();

        expect(await weightsOf(resumed)).toEqual(await weightsOf(straight));
        expect(opt3.stateDict().state).toEqual(opt1.stateDict().state);
        opt1.dispose();
        opt3.dispose();
        straight.dispose();
        resumed.dispose();
        tf.dispose([x, y]);
      });
    }

    test('step skips frozen parameters and parameters without a gradient, and does not dispose the grads', async () => {
      const model = mlp(3);
      const [first, second] = [model.layers[0] as Linear, model.layers[2] as Linear];
      first.freeze();
      const opt = new SGD(model, { lr: 0.1, momentum: 0.9 });
      const before = await weightsOf(model);
      const grads = { '0.weight': tf.onesLike(first.weight), '2.weight': tf.onesLike(second.weight) };
      opt.step(grads);
      const after = await weightsOf(model);
      expect(after['0.weight']).toEqual(before['0.weight']);
      expect(after['0.bias']).toEqual(before['0.bias']);
      expect(after['2.bias']).toEqual(before['2.bias']);
      expect(after['2.weight']).toEqual(
        (before['2.weight'] as number[]).map((w) => Math.fround(w - Math.fround(0.1))),
      );
      expect(grads['0.weight'].isDisposed || grads['2.weight'].isDisposed).toBe(false);
      // Only the updated parameter has a momentum buffer.
      expect(Object.keys(opt.stateDict().tensors)).toEqual(['momentum_buffer.2.weight']);
      tf.dispose(Object.values(grads));
      opt.dispose();
      model.dispose();
    });

    test('computeGradients returns the loss and gradients keyed by parameter name, trainable ones only', async () => {
      const model = mlp(4);
      (model.layers[2] as Linear).freeze();
      const { x, y } = task();
      const opt = new Adam(model);
      const { loss, grads } = await expectNoTensorLeak(() => opt.computeGradients(mseOf(model, x, y)), 3);
      expect(Object.keys(grads).sort()).toEqual(['0.bias', '0.weight']);
      expect(grads['0.weight']?.shape).toEqual([8, 3]);
      expect(loss.rank).toBe(0);
      tf.dispose([loss, ...Object.values(grads)]);
      model.dispose();
      tf.dispose([x, y]);
    });

    test('minimize with clipNorm bounds the update, and leaks nothing', async () => {
      const w = tf.variable(tf.zeros([4]));
      const opt = new SGD([['w', w]], { lr: 1 });
      // d/dw of sum(100·w) is 100 per element: norm 200, clipped to 1 → each element moves by 0.5.
      const loss = () => tf.sum<tf.Scalar>(tf.mul(w, 100));
      await expectNoTensorLeak(() => opt.minimize(loss, { clipNorm: 1 }).dispose());
      expect(Array.from(await w.data()).map((v) => Number(v.toFixed(5)))).toEqual([-0.5, -0.5, -0.5, -0.5]);
      expect(() => opt.minimize(loss, { clipNorm: 0 })).toThrow(
        new ConfigError('SGD.minimize: clipNorm must be a finite number > 0, got 0'),
      );
      opt.dispose();
      w.dispose();
    });
  });
}

describe('Optimizer errors', () => {
  beforeAll(() => onBackend('cpu'));

  test('a negative, NaN or infinite learning rate is a ConfigError with the value', () => {
    const model = mlp(0);
    expect(() => new SGD(model, { lr: -0.1 })).toThrow(
      new ConfigError('SGD: lr must be a finite number >= 0, got -0.1'),
    );
    expect(() => new Adam(model, { lr: NaN })).toThrow(
      new ConfigError('Adam: lr must be a finite number >= 0, got NaN'),
    );
    expect(() => new AdamW(model, { lr: Infinity })).toThrow(
      new ConfigError('AdamW: lr must be a finite number >= 0, got Infinity'),
    );
    const opt = new SGD(model, { lr: 0.1 });
    expect(() => {
      opt.lr = -1;
    }).toThrow(new ConfigError('SGD.lr: lr must be a finite number >= 0, got -1'));
    expect(opt.lr).toBe(0.1);
    model.dispose();
  });

  test('bad parameter lists are ConfigErrors', () => {
    const v = tf.variable(tf.zeros([2]));
    expect(() => new SGD([], { lr: 1 })).toThrow(new ConfigError('SGD: got an empty parameter list'));
    expect(
      () =>
        new SGD(
          [
            ['a', v],
            ['a', v],
          ],
          { lr: 1 },
        ),
    ).toThrow(new ConfigError("SGD: parameter name 'a' appears twice"));
    expect(
      () =>
        new SGD(
          [
            ['a', v],
            ['b', v],
          ],
          { lr: 1 },
        ),
    ).toThrow(new ConfigError("SGD: parameter 'b' is the same variable as an earlier one"));
    expect(() => new SGD([['a', tf.zeros([2]) as tf.Variable]], { lr: 1 })).toThrow(ConfigError);
    v.dispose();
  });

  test('step rejects unknown names and wrong shapes before writing anything', async () => {
    const a = tf.variable(tf.zeros([2]));
    const b = tf.variable(tf.zeros([3]));
    const opt = new SGD(
      [
        ['a', a],
        ['b', b],
      ],
      { lr: 1 },
    );
    const ga = tf.ones([2]);
    const bad = tf.ones([2]);
    expect(() => opt.step({ a: ga, c: bad })).toThrow(
      new ConfigError("SGD.step: gradient 'c' names no parameter of this optimizer (known: a, b)"),
    );
    expect(() => opt.step({ a: ga, b: bad })).toThrow(
      new ShapeError("SGD.step: gradient 'b' must have the parameter's shape [3], got [2]"),
    );
    expect(Array.from(await a.data())).toEqual([0, 0]);
    expect(opt.stepCount).toBe(0);
    tf.dispose([a, b, ga, bad]);
  });

  test('computeGradients rejects a non-scalar loss with a ShapeError and leaks nothing', async () => {
    const w = tf.variable(tf.ones([3]));
    const opt = new Adam([['w', w]]);
    await expectNoTensorLeak(() => {
      expect(() => opt.computeGradients(() => tf.mul(w, 2) as unknown as tf.Scalar)).toThrow(
        new ShapeError('Adam.computeGradients: lossFn must return a scalar tensor, got [3]'),
      );
    });
    // A lossFn that fails half-way, or whose loss does not depend on the parameters: tfjs would keep the
    // tensors saved for backprop alive; computeGradients frees them.
    await expectNoTensorLeak(() => {
      expect(() =>
        opt.computeGradients(() => {
          tf.sum(tf.mul(w, 3));
          throw new ShapeError('model: bad input');
        }),
      ).toThrow(new ShapeError('model: bad input'));
      expect(() => opt.computeGradients(() => tf.scalar(1))).toThrow(/Cannot find a connection/);
    });
    w.trainable = false;
    expect(() => opt.computeGradients(() => tf.sum(w))).toThrow(
      new ConfigError('Adam.computeGradients: every parameter is frozen; nothing to differentiate'),
    );
    w.dispose();
  });

  test('loadStateDict rejects a state of another optimizer type or another model, changing nothing', () => {
    const model = mlp(0);
    const { x, y } = task();
    const adam = new Adam(model);
    adam.minimize(mseOf(model, x, y)).dispose();
    const sgd = new SGD(model, { lr: 0.1 });
    expect(() => sgd.loadStateDict(adam.stateDict())).toThrow(
      new CheckpointError("SGD.loadStateDict: state was written by 'Adam', not 'SGD'"),
    );

    const other = new Sequential([new Linear({ inFeatures: 3, outFeatures: 5 })]);
    const adam2 = new Adam(other);
    const dict = adam.stateDict();
    let message = '';
    try {
      adam2.loadStateDict(dict);
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      message = (e as Error).message;
    }
    expect(message).toContain('Adam.loadStateDict: optimizer state does not fit (');
    expect(message).toContain("paramSteps names unknown parameter '2.weight'");
    expect(message).toContain("'exp_avg.0.weight' must have shape [5, 3], got [8, 3]");
    expect(message).toContain("unexpected tensor 'exp_avg_sq.2.bias'");
    expect(adam2.stepCount).toBe(0);

    const missing = { tensors: { ...dict.tensors }, state: dict.state };
    delete missing.tensors['exp_avg_sq.0.bias'];
    const adam3 = new Adam(model);
    expect(() => adam3.loadStateDict(missing)).toThrow(
      new CheckpointError(
        "Adam.loadStateDict: optimizer state does not fit (missing tensor 'exp_avg_sq.0.bias')",
      ),
    );
    expect(() => adam3.loadStateDict({ tensors: {}, state: { ...dict.state, lr: -1 } })).toThrow(
      new CheckpointError('Adam.loadStateDict: lr must be a finite number >= 0, got -1'),
    );
    expect(() =>
      adam3.loadStateDict({
        tensors: {},
        state: { ...dict.state, hyperparameters: { ...dict.state.hyperparameters, beta1: 1 } },
      }),
    ).toThrow(new CheckpointError('Adam.loadStateDict: betas[0] must be in [0, 1), got 1'));
    adam.dispose();
    model.dispose();
    other.dispose();
    tf.dispose([x, y]);
  });
});
