import { SVC } from '../src/index.js';
import { loadSvmFixture } from '../test/fixtures.js';
for (const ds of ['iris', 'breast_cancer']) {
  const f = loadSvmFixture(ds);
  for (const seed of [0, 1, 2]) {
    const m = new SVC({ probability: true, seed }).fitSync(f.matrix('x_train'), f.values('y_train'));
    const p = m.predictProbaSync(f.matrix('x_test')); const pred = m.predictSync(f.matrix('x_test')); const ref = f.rows('rbf_proba.proba'); const y = f.values('y_test');
    const am = (r: number[]) => r.indexOf(Math.max(...r));
    let agreePred = 0, agreeSk = 0, mad = 0, maxd = 0, sumErr = 0, trueP = 0, ll = 0;
    p.forEach((r, i) => { const s = r.reduce((a, b) => a + b); sumErr = Math.max(sumErr, Math.abs(s - 1)); if (m.classes[am(r)] === pred[i]) agreePred++; if (am(r) === am(ref[i]!)) agreeSk++; r.forEach((v, c) => { mad += Math.abs(v - ref[i]![c]!); maxd = Math.max(maxd, Math.abs(v - ref[i]![c]!)); }); const tp = r[m.classes.indexOf(y[i]!)]!; trueP += tp; ll -= Math.log(tp); });
    console.log(ds, seed, { agreePred: agreePred / p.length, agreeSk: agreeSk / p.length, mad: mad / (p.length * m.classes.length), maxd, sumErr, meanTrueP: trueP / p.length, logloss: ll / p.length, probA: m.probA.map(v=>+v.toFixed(3)) });
  }
}
