import { SVC, SVR, NuSVC, NuSVR } from '../src/index.js';
import { loadSvmFixture } from '../test/fixtures.js';

const specs: Record<string, Record<string, () => any>> = {
  iris: { rbf: () => new SVC({ kernel: 'rbf' }), linear: () => new SVC({ kernel: 'linear' }), poly: () => new SVC({ kernel: 'poly', degree: 3, coef0: 1 }), sigmoid: () => new SVC({ kernel: 'sigmoid', gamma: 0.05, coef0: 0.5 }), rbf_noshrink: () => new SVC({ shrinking: false }), nu_rbf: () => new NuSVC({ nu: 0.3 }) },
  wine: { rbf: () => new SVC(), linear: () => new SVC({ kernel: 'linear' }), rbf_balanced: () => new SVC({ classWeight: 'balanced' }) },
  breast_cancer: { rbf: () => new SVC(), linear: () => new SVC({ kernel: 'linear' }), rbf_balanced: () => new SVC({ classWeight: 'balanced' }) },
  digits: { rbf: () => new SVC(), linear: () => new SVC({ kernel: 'linear' }) },
};
for (const [ds, models] of Object.entries(specs)) {
  const f = loadSvmFixture(ds);
  const xtr = f.matrix('x_train'), ytr = f.values('y_train'), xte = f.matrix('x_test'), yte = f.values('y_test');
  for (const [key, make] of Object.entries(models)) {
    const m = make();
    const t0 = performance.now();
    m.fitSync(xtr, ytr);
    const ms = performance.now() - t0;
    const acc = m.scoreSync(xte, yte);
    const dec = m.decisionFunctionSync(xte, 'ovo').flat();
    const ref = f.values(`${key}.decision_ovo`);
    let maxd = 0; for (let i = 0; i < ref.length; i++) maxd = Math.max(maxd, Math.abs(dec[i] - ref[i]));
    const ns = m.nSupport.join(','), rns = f.values(`${key}.n_support`).join(',');
    console.log(ds, key, `acc ${acc.toFixed(4)} vs ${f.meta(key + '.accuracy')}`, `nSV ${ns === rns ? 'same' : ns + ' vs ' + rns}`, `maxdiff ${maxd.toExponential(2)}`, `${ms.toFixed(1)}ms`, `gamma ${m.gamma} vs ${f.meta(key+'.gamma')}`);
  }
}
const f = loadSvmFixture('diabetes');
for (const [key, make] of Object.entries({ rbf: () => new SVR({ C: 10, epsilon: 0.1 }), linear: () => new SVR({ kernel: 'linear', C: 10 }), nu_rbf: () => new NuSVR({ C: 10, nu: 0.5 }) })) {
  const m = make(); m.fitSync(f.matrix('x_train'), f.values('y_train'));
  const pred = m.predictSync(f.matrix('x_test')); const ref = f.values(`${key}.decision`);
  let maxd = 0; for (let i = 0; i < ref.length; i++) maxd = Math.max(maxd, Math.abs(pred[i] - ref[i]));
  console.log('diabetes', key, `r2 ${m.scoreSync(f.matrix('x_test'), f.values('y_test')).toFixed(6)} vs ${f.meta(key + '.r2')}`, `nSV ${m.support.length} vs ${f.get(key + '.support').data.length}`, `maxdiff ${maxd.toExponential(2)}`);
}
