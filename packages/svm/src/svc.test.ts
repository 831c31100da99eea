import { CheckpointError, ConfigError, ShapeError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadSvmFixture, type SvmFixture } from '../test/fixtures.js';
import { kernelMatrix } from './kernel.js';
import { SVC, type SvcOptions } from './svc.js';

/** The fixture's options for each model key (tooling/fixtures/gen_svm.py), in SvcOptions terms. */
const MODELS: Record<string, Partial<SvcOptions>> = {
  rbf: { kernel: 'rbf', C: 1 },
  linear: { kernel: 'linear', C: 1 },
  poly: { kernel: 'poly', C: 1, degree: 3, coef0: 1 },
  sigmoid: { kernel: 'sigmoid', C: 1, gamma: 0.05, coef0: 0.5 },
  rbf_noshrink: { kernel: 'rbf', C: 1, shrinking: false },
  rbf_balanced: { kernel: 'rbf', C: 1, classWeight: 'balanced' },
};

const CASES: [string, string[]][] = [
  ['iris', ['rbf', 'linear', 'poly', 'sigmoid', 'rbf_noshrink']],
  ['wine', ['rbf', 'linear', 'rbf_balanced']],
  ['breast_cancer', ['rbf', 'linear', 'rbf_balanced']],
  ['digits', ['rbf', 'linear']],
];

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
}

function fitted(f: SvmFixture, key: string): SVC {
  return new SVC(MODELS[key]).fitSync(f.matrix('x_train'), f.values('y_train'));
}

describe('SVC parity with scikit-learn 1.2 (libsvm)', () => {
  for (const [dataset, keys] of CASES) {
    describe(dataset, () => {
      const f = loadSvmFixture(dataset);
      for (const key of keys) {
        it(`${key}: same test accuracy, support vectors per class and support set; decision values within 1e-3`, () => {
          const svc = fitted(f, key);
          const xTest = f.matrix('x_test');
          expect(svc.gamma).toBeCloseTo(f.meta<number>(`${key}.gamma`), 12);
          expect(svc.scoreSync(xTest, f.values('y_test'))).toBe(f.meta<number>(`${key}.accuracy`));
          expect(svc.predictSync(xTest)).toEqual(f.values(`${key}.pred`));
          expect(svc.nSupport).toEqual(f.values(`${key}.n_support`));
          expect(svc.support).toEqual(f.values(`${key}.support`));
          expect(
            maxAbsDiff(svc.decisionFunctionSync(xTest, 'ovo').flat(), f.values(`${key}.decision_ovo`)),
          ).toBeLessThan(1e-3);
          expect(
            maxAbsDiff(svc.decisionFunctionSync(xTest, 'ovr').flat(), f.values(`${key}.decision_ovr`)),
          ).toBeLessThan(1e-3);
          expect(maxAbsDiff(svc.dualCoef.flat(), f.values(`${key}.dual_coef`))).toBeLessThan(1e-3);
          expect(maxAbsDiff(svc.intercept, f.values(`${key}.intercept`))).toBeLessThan(1e-3);
          expect(svc.fitInfo.converged).toBe(true);
        });
      }
    });
  }
});

describe('SVC', () => {
  const iris = loadSvmFixture('iris');
  const xTrain = iris.matrix('x_train');
  const yTrain = iris.values('y_train');
  const xTest = iris.matrix('x_test');

  it('learns: training accuracy rises from chance (1/3) to ≥ 0.95 on iris', () => {
    expect(new SVC().fitSync(xTrain, yTrain).scoreSync(xTrain, yTrain)).toBeGreaterThanOrEqual(0.95);
  });

  it('a precomputed Gram matrix gives the linear kernel’s model', () => {
    const rows = iris.rows('x_train');
    const test = iris.rows('x_test');
    const linear = new SVC({ kernel: 'linear' }).fitSync(rows, yTrain);
    const pre = new SVC({ kernel: 'precomputed' }).fitSync(
      kernelMatrix(rows, rows, { kernel: 'linear' }),
      yTrain,
    );
    expect(pre.support).toEqual(linear.support);
    expect(pre.supportVectors).toEqual([]);
    expect(
      maxAbsDiff(
        pre.decisionFunctionSync(kernelMatrix(test, rows, { kernel: 'linear' })).flat(),
        linear.decisionFunctionSync(test).flat(),
      ),
    ).toBeLessThan(1e-9);
  });

  it('accepts number[][], { data, shape } and Float32Array data alike', () => {
    const a = new SVC().fitSync(iris.rows('x_train'), yTrain).decisionFunctionSync(iris.rows('x_test'));
    const b = new SVC().fitSync(xTrain, Int32Array.from(yTrain)).decisionFunctionSync(xTest);
    const c = new SVC()
      .fitSync({ data: Float32Array.from(xTrain.data), shape: xTrain.shape }, yTrain)
      .decisionFunctionSync(xTest);
    expect(b).toEqual(a);
    // The fixture holds float32 values, so the float32 copy is the same numbers.
    expect(c).toEqual(a);
  });

  it('binary decision values are positive for classes[1], with any numeric labels', () => {
    const bc = loadSvmFixture('breast_cancer');
    const y = bc.values('y_train').map((v) => (v === 1 ? 7 : -3));
    const svc = new SVC().fitSync(bc.matrix('x_train'), y);
    expect(svc.classes).toEqual([-3, 7]);
    const dec = svc.decisionFunctionSync(bc.matrix('x_test'));
    expect(dec[0]).toHaveLength(1);
    expect(svc.predictSync(bc.matrix('x_test'))).toEqual(dec.map(([d]) => ((d as number) > 0 ? 7 : -3)));
    expect(maxAbsDiff(dec.flat(), bc.values('rbf.decision_ovo'))).toBeLessThan(1e-3);
  });

  it('breakTies predicts by the argmax of the ovr values', () => {
    const svc = new SVC({ breakTies: true }).fitSync(xTrain, yTrain);
    const ovr = svc.decisionFunctionSync(xTest);
    expect(svc.predictSync(xTest)).toEqual(ovr.map((r) => r.indexOf(Math.max(...r))));
  });

  it('classWeight as a map scales C per class (weights of 1 change nothing)', () => {
    const plain = new SVC().fitSync(xTrain, yTrain);
    expect(
      new SVC({ classWeight: { 0: 1, 1: 1, 2: 1 } }).fitSync(xTrain, yTrain).decisionFunctionSync(xTest),
    ).toEqual(plain.decisionFunctionSync(xTest));
    const heavy = new SVC({ classWeight: { 1: 10 } }).fitSync(xTrain, yTrain);
    expect(heavy.nSupport).not.toEqual(plain.nSupport);
  });

  it('stops at maxIter with a warning in fitInfo instead of throwing', () => {
    const svc = new SVC({ maxIter: 3 }).fitSync(xTrain, yTrain);
    const info = svc.fitInfo;
    expect(info.converged).toBe(false);
    expect(info.iterations).toEqual([3, 3, 3]);
    expect(info.warnings[0]).toMatch(/SVC\.fit: the solver stopped at maxIter \(3\) before reaching tol/);
    expect(svc.predictSync(xTest)).toHaveLength(45);
  });

  it('round-trips through JSON exactly', () => {
    const svc = new SVC({ probability: true }).fitSync(xTrain, yTrain);
    const back = SVC.fromJSON(JSON.parse(JSON.stringify(svc.toJSON())));
    expect(back.toJSON()).toEqual(svc.toJSON());
    expect(back.decisionFunctionSync(xTest, 'ovo')).toEqual(svc.decisionFunctionSync(xTest, 'ovo'));
    expect(back.predictProbaSync(xTest)).toEqual(svc.predictProbaSync(xTest));
    expect(back.options).toEqual(svc.options);
    const unfitted = SVC.fromJSON(JSON.parse(JSON.stringify(new SVC({ C: 3, maxIter: Infinity }).toJSON())));
    expect(unfitted.isFitted).toBe(false);
    expect(unfitted.options.C).toBe(3);
    expect(unfitted.options.maxIter).toBe(Infinity);
  });

  it('is deterministic: the same data and seed give the same model', () => {
    const a = new SVC({ probability: true, seed: 5 }).fitSync(xTrain, yTrain).toJSON();
    const b = new SVC({ probability: true, seed: 5 }).fitSync(xTrain, yTrain).toJSON();
    expect(a).toEqual(b);
  });

  it('refuses predictProba without probability: true', () => {
    const svc = new SVC().fitSync(xTrain, yTrain);
    expect(() => svc.predictProbaSync(xTest)).toThrow(ConfigError);
    expect(() => svc.predictProbaSync(xTest)).toThrow(
      'SVC.predictProba: fit with probability: true to get probabilities (it was false)',
    );
  });
});

describe('SVC.predictProba (Platt scaling with internal 5-fold CV)', () => {
  // scikit-learn shuffles the CV folds with its own generator, so probabilities can only agree
  // approximately: these checks are consistency and calibration, not equality.
  for (const dataset of ['iris', 'breast_cancer']) {
    it(`${dataset}: rows sum to 1, argmax agrees with predict and scikit-learn, values close to scikit-learn's`, () => {
      const f = loadSvmFixture(dataset);
      const svc = new SVC({ probability: true }).fitSync(f.matrix('x_train'), f.values('y_train'));
      const xTest = f.matrix('x_test');
      const proba = svc.predictProbaSync(xTest);
      const pred = svc.predictSync(xTest);
      const ref = f.rows('rbf_proba.proba');
      const y = f.values('y_test');
      const argmax = (r: number[]): number => r.indexOf(Math.max(...r));
      let withPredict = 0;
      let withSklearn = 0;
      let meanAbs = 0;
      let trueClass = 0;
      proba.forEach((row, i) => {
        expect(Math.abs(row.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
        for (const p of row) expect(p).toBeGreaterThan(0);
        if (svc.classes[argmax(row)] === pred[i]) withPredict++;
        if (argmax(row) === argmax(ref[i] as number[])) withSklearn++;
        row.forEach((p, c) => (meanAbs += Math.abs(p - ((ref[i] as number[])[c] as number))));
        trueClass += row[svc.classes.indexOf(y[i] as number)] as number;
      });
      const n = proba.length;
      expect(withPredict / n).toBeGreaterThanOrEqual(0.95);
      expect(withSklearn / n).toBeGreaterThanOrEqual(0.95);
      expect(meanAbs / (n * svc.classes.length)).toBeLessThan(0.03);
      // Calibration sanity: the true class gets most of the mass on data the model classifies well.
      expect(trueClass / n).toBeGreaterThan(0.85);
      // Platt's slopes are negative (larger decision value → more likely the pair's first class) and near scikit-learn's.
      for (const a of svc.probA) expect(a).toBeLessThan(-1);
    });
  }
});

describe('SVC with tf.Tensor inputs', () => {
  beforeAll(() => onBackend('cpu'));

  it('fit / predict / decisionFunction / predictProba / score read tensors, match the array path and leak no tensors', async () => {
    const f = loadSvmFixture('iris');
    const xTrain = f.matrix('x_train');
    const xTest = f.matrix('x_test');
    const xt = tf.tensor2d(Float32Array.from(xTrain.data), xTrain.shape);
    const yt = tf.tensor1d(f.values('y_train'), 'int32');
    const xs = tf.tensor2d(Float32Array.from(xTest.data), xTest.shape);
    const ys = tf.tensor2d(f.values('y_test'), [45, 1]);
    const svc = await expectNoTensorLeak(() => new SVC({ probability: true }).fit(xt, yt));
    const ref = new SVC({ probability: true }).fitSync(xTrain, f.values('y_train'));
    expect(await expectNoTensorLeak(() => svc.predict(xs))).toEqual(ref.predictSync(xTest));
    expect(await expectNoTensorLeak(() => svc.decisionFunction(xs))).toEqual(ref.decisionFunctionSync(xTest));
    expect(await expectNoTensorLeak(() => svc.predictProba(xs))).toEqual(ref.predictProbaSync(xTest));
    expect(await expectNoTensorLeak(() => svc.score(xs, ys))).toBe(f.meta<number>('rbf.accuracy'));
    await expect(svc.predict(tf.tensor1d([1, 2, 3, 4]))).rejects.toThrow(
      new ShapeError('SVC.predict: x tensor must have shape [n, d], got [4]'),
    );
    tf.dispose([xt, yt, xs, ys]);
  });
});

describe('SVC options and state errors', () => {
  const x = [
    [0, 0],
    [1, 1],
    [0, 1],
    [1, 0],
  ];
  const y = [0, 1, 0, 1];

  it('names the option, the rule and the value', () => {
    expect(() => new SVC({ C: 0 })).toThrow(new ConfigError('SVC: C must be a finite number > 0, got 0'));
    expect(() => new SVC({ C: -1 })).toThrow(ConfigError);
    expect(() => new SVC({ kernel: 'cubic' as never })).toThrow(
      new ConfigError(
        `SVC: kernel must be one of 'linear', 'poly', 'rbf', 'sigmoid', 'precomputed', got "cubic"`,
      ),
    );
    expect(() => new SVC({ gamma: 0 })).toThrow(
      new ConfigError(`SVC: gamma must be 'scale', 'auto' or a finite number > 0, got 0`),
    );
    expect(() => new SVC({ gamma: -2 })).toThrow(ConfigError);
    expect(() => new SVC({ gamma: 'median' as never })).toThrow(
      new ConfigError(`SVC: gamma must be 'scale', 'auto' or a finite number > 0, got 'median'`),
    );
    expect(() => new SVC({ degree: 1.5 })).toThrow(
      new ConfigError('SVC: degree must be an integer ≥ 0, got 1.5'),
    );
    expect(() => new SVC({ tol: 0 })).toThrow(new ConfigError('SVC: tol must be a finite number > 0, got 0'));
    expect(() => new SVC({ maxIter: 0 })).toThrow(
      new ConfigError('SVC: maxIter must be a positive integer or Infinity, got 0'),
    );
    expect(() => new SVC({ cacheSize: -1 })).toThrow(
      new ConfigError('SVC: cacheSize (MB) must be a finite number > 0, got -1'),
    );
    expect(() => new SVC({ classWeight: { 1: 0 } })).toThrow(
      new ConfigError('SVC: classWeight[1] must be a finite number > 0, got 0'),
    );
    expect(() => new SVC({ decisionFunctionShape: 'ovo', breakTies: true })).toThrow(
      new ConfigError(`SVC: breakTies needs decisionFunctionShape 'ovr', got 'ovo'`),
    );
    expect(() => new SVC({ classWeight: { 5: 2 } }).fitSync(x, y)).toThrow(
      new ConfigError('SVC.fit: classWeight names class 5, which is not in y (classes 0, 1)'),
    );
  });

  it('refuses to predict before fit, and a precomputed kernel that is not square', () => {
    expect(() => new SVC().predictSync(x)).toThrow(
      new ConfigError('SVC.predict: the model is not fitted; call fit() first'),
    );
    expect(() => new SVC().nSupport).toThrow(
      new ConfigError('SVC.nSupport: the model is not fitted; call fit() first'),
    );
    expect(() => new SVC({ kernel: 'precomputed' }).fitSync(x, y)).toThrow(
      new ShapeError(
        'SVC.fit: a precomputed kernel must be the square Gram matrix [n, n] of the training rows, got [4, 2]',
      ),
    );
    const pre = new SVC({ kernel: 'precomputed' }).fitSync(kernelMatrix(x, x, { kernel: 'linear' }), y);
    expect(() => pre.predictSync(x)).toThrow(
      new ShapeError(
        'SVC.predict: x must have 4 columns (one per training row, precomputed kernel), got shape [4, 2]',
      ),
    );
  });

  it('fromJSON refuses documents that are not a saved SVC', () => {
    const json = new SVC().fitSync(x, y).toJSON();
    expect(() => SVC.fromJSON(null)).toThrow(
      new CheckpointError('SVC.fromJSON: expected an object from toJSON(), got null'),
    );
    expect(() => SVC.fromJSON({ ...json, format: 'libsvm' })).toThrow(
      new CheckpointError(`SVC.fromJSON: format must be 'ml-svm', got "libsvm"`),
    );
    expect(() => SVC.fromJSON({ ...json, type: 'SVR' })).toThrow(
      new CheckpointError('SVC.fromJSON: the document holds a "SVR", not a SVC'),
    );
    const model = json.model as NonNullable<typeof json.model>;
    expect(() => SVC.fromJSON({ ...json, model: { ...model, intercept: [] } })).toThrow(
      new CheckpointError('SVC.fromJSON: model.intercept must have 1 values, got 0'),
    );
    expect(() =>
      SVC.fromJSON({ ...json, model: { ...model, supportVectors: model.supportVectors.slice(1) } }),
    ).toThrow(CheckpointError);
    expect(() =>
      SVC.fromJSON({ ...json, model: { ...model, dualCoef: [model.dualCoef[0]?.map(() => 'x')] } }),
    ).toThrow(/SVC\.fromJSON: model\.dualCoef\[0\]\[0\] must be a finite number, got "x"/);
  });
});
