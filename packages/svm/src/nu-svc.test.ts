import { ConfigError } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { loadSvmFixture } from '../test/fixtures.js';
import { NuSVC } from './nu-svc.js';

describe('NuSVC', () => {
  const f = loadSvmFixture('iris');

  it('matches scikit-learn’s NuSVC(nu=0.3) on iris: accuracy, support vectors, decision values within 1e-3', () => {
    const svc = new NuSVC({ nu: 0.3 }).fitSync(f.matrix('x_train'), f.values('y_train'));
    const xTest = f.matrix('x_test');
    expect(svc.scoreSync(xTest, f.values('y_test'))).toBe(f.meta<number>('nu_rbf.accuracy'));
    expect(svc.nSupport).toEqual(f.values('nu_rbf.n_support'));
    expect(svc.support).toEqual(f.values('nu_rbf.support'));
    const dec = svc.decisionFunctionSync(xTest, 'ovo').flat();
    const ref = f.values('nu_rbf.decision_ovo');
    dec.forEach((d, i) => expect(Math.abs(d - (ref[i] as number))).toBeLessThan(1e-3));
    f.values('nu_rbf.intercept').forEach((b, i) =>
      expect(Math.abs((svc.intercept[i] as number) - b)).toBeLessThan(1e-3),
    );
  });

  it('round-trips through JSON exactly', () => {
    const svc = new NuSVC({ nu: 0.3 }).fitSync(f.matrix('x_train'), f.values('y_train'));
    const back = NuSVC.fromJSON(JSON.parse(JSON.stringify(svc.toJSON())));
    expect(back.decisionFunctionSync(f.matrix('x_test'))).toEqual(
      svc.decisionFunctionSync(f.matrix('x_test')),
    );
  });

  it('rejects nu outside (0, 1] and an infeasible nu', () => {
    expect(() => new NuSVC({ nu: 0 })).toThrow(new ConfigError('NuSVC: nu must be in (0, 1], got 0'));
    expect(() => new NuSVC({ nu: 1.5 })).toThrow(ConfigError);
    const x = [[0], [1], [2], [3], [4], [5]];
    expect(() => new NuSVC({ nu: 0.9 }).fitSync(x, [0, 1, 1, 1, 1, 1])).toThrow(
      new ConfigError(
        'NuSVC.fit: nu (0.9) is infeasible for classes 0 and 1 with 1 and 5 rows: nu·(n1 + n2)/2 must be ≤ min(n1, n2)',
      ),
    );
  });
});
