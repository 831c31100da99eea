import { CheckpointError, ConfigError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadSvmFixture } from '../test/fixtures.js';
import { NuSVR } from './nu-svr.js';
import { SVR } from './svr.js';

const f = loadSvmFixture('diabetes');
const xTrain = f.matrix('x_train');
const yTrain = f.values('y_train');
const xTest = f.matrix('x_test');
const yTest = f.values('y_test');

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
}

describe('SVR parity with scikit-learn 1.2 on diabetes', () => {
  const models = {
    rbf: () => new SVR({ kernel: 'rbf', C: 10, epsilon: 0.1 }),
    linear: () => new SVR({ kernel: 'linear', C: 10, epsilon: 0.1 }),
    nu_rbf: () => new NuSVR({ kernel: 'rbf', C: 10, nu: 0.5 }),
  };
  for (const [key, make] of Object.entries(models)) {
    it(`${key}: R² within 1e-3, same support set, predictions and coefficients within 1e-3`, () => {
      const svr = make().fitSync(xTrain, yTrain);
      expect(Math.abs(svr.scoreSync(xTest, yTest) - f.meta<number>(`${key}.r2`))).toBeLessThan(1e-3);
      expect(svr.support).toEqual(f.values(`${key}.support`));
      // Targets are in the hundreds; the fixture stores float32.
      expect(maxAbsDiff(svr.predictSync(xTest), f.values(`${key}.decision`))).toBeLessThan(1e-3);
      expect(maxAbsDiff(svr.dualCoef.flat(), f.values(`${key}.dual_coef`))).toBeLessThan(1e-3);
      expect(maxAbsDiff(svr.intercept, f.values(`${key}.intercept`))).toBeLessThan(1e-3);
    });
  }
});

describe('SVR', () => {
  it('learns a smooth function: R² rises from 0 (the mean) to > 0.99 on sin(x)', () => {
    const x = Array.from({ length: 80 }, (_, i) => [(i / 79) * 6 - 3]);
    const y = x.map(([v]) => Math.sin(v as number));
    const svr = new SVR({ C: 10, epsilon: 0.01, gamma: 1 }).fitSync(x, y);
    expect(svr.scoreSync(x, y)).toBeGreaterThan(0.99);
  });

  it('epsilon 0 puts every point on or outside the tube, a wide epsilon leaves none', () => {
    const x = [[0], [1], [2], [3]];
    const y = [0, 1, 0, 1];
    expect(new SVR({ epsilon: 0 }).fitSync(x, y).support).toHaveLength(4);
    const wide = new SVR({ epsilon: 10 }).fitSync(x, y);
    expect(wide.support).toEqual([]);
    expect(wide.predictSync([[5]])[0]).toBeCloseTo(0.5, 12);
  });

  it('round-trips through JSON exactly', () => {
    const svr = new SVR({ C: 10 }).fitSync(xTrain, yTrain);
    const back = SVR.fromJSON(JSON.parse(JSON.stringify(svr.toJSON())));
    expect(back.toJSON()).toEqual(svr.toJSON());
    expect(back.predictSync(xTest)).toEqual(svr.predictSync(xTest));
    const nu = new NuSVR().fitSync(xTrain, yTrain);
    expect(NuSVR.fromJSON(JSON.parse(JSON.stringify(nu.toJSON()))).predictSync(xTest)).toEqual(
      nu.predictSync(xTest),
    );
  });

  it('names the bad option and the bad document', () => {
    expect(() => new SVR({ C: 0 })).toThrow(new ConfigError('SVR: C must be a finite number > 0, got 0'));
    expect(() => new SVR({ epsilon: -0.1 })).toThrow(
      new ConfigError('SVR: epsilon must be a finite number ≥ 0, got -0.1'),
    );
    expect(() => new SVR({ kernel: 'gaussian' as never })).toThrow(ConfigError);
    expect(() => new NuSVR({ nu: 2 })).toThrow(new ConfigError('NuSVR: nu must be in (0, 1], got 2'));
    expect(() => new NuSVR({ C: -1 })).toThrow(
      new ConfigError('NuSVR: C must be a finite number > 0, got -1'),
    );
    expect(() => new SVR().predictSync([[1]])).toThrow(
      new ConfigError('SVR.predict: the model is not fitted; call fit() first'),
    );
    const json = new SVR().fitSync([[0], [1], [2]], [0, 1, 4]).toJSON();
    expect(() => NuSVR.fromJSON(json)).toThrow(
      new CheckpointError('NuSVR.fromJSON: the document holds a "SVR", not a NuSVR'),
    );
    expect(() => SVR.fromJSON({ ...json, version: 2 })).toThrow(
      new CheckpointError('SVR.fromJSON: version must be 1, got 2'),
    );
  });

  describe('tensor inputs', () => {
    beforeAll(() => onBackend('cpu'));

    it('fit / predict / score on tf.Tensors give the array results and leak no tensors', async () => {
      const xt = tf.tensor2d(Float32Array.from(xTrain.data), xTrain.shape);
      const yt = tf.tensor1d(yTrain);
      const xs = tf.tensor2d(Float32Array.from(xTest.data), xTest.shape);
      const ys = tf.tensor1d(yTest);
      const svr = await expectNoTensorLeak(() => new SVR({ C: 10 }).fit(xt, yt));
      // The tensors hold float32 copies of the same float32 fixture values: identical fits.
      const ref = new SVR({ C: 10 }).fitSync(xTrain, yTrain);
      expect(await expectNoTensorLeak(() => svr.predict(xs))).toEqual(ref.predictSync(xTest));
      expect(await expectNoTensorLeak(() => svr.score(xs, ys))).toBeCloseTo(ref.scoreSync(xTest, yTest), 5);
      tf.dispose([xt, yt, xs, ys]);
    });
  });
});
