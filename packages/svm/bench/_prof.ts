import { Rng } from '@ml/core';
import { SVC, SVR } from '../src/index.js';
import { loadSvmFixture } from '../test/fixtures.js';
const which = process.argv[2] ?? 'svc';
const rng = new Rng(1);
const rows = 5000, cols = 20;
const x = new Float64Array(rows * cols), y = new Float64Array(rows);
for (let r = 0; r < rows; r++) { const row = x.subarray(r*cols,(r+1)*cols); for (let c=0;c<cols;c++) row[c]=rng.normal(); y[r] = which==='svr' ? Math.sin(row[0]!) + 0.5*row[1]!*row[2]! - 0.3*row[3]! + 0.1*rng.normal() : (row[0]!*row[0]! + row[1]!*row[2]! - row[3]! + 0.5*rng.normal() > 0.5 ? 1 : 0); }
if (which === 'digits') {
  const f = loadSvmFixture('digits');
  for (let i=0;i<5;i++){ const t0=performance.now(); const m = new SVC().fitSync(f.matrix('x_train'), f.values('y_train')); console.log((performance.now()-t0).toFixed(1), m.fitInfo.iterations.reduce((a,b)=>a+b)); }
} else {
  const t0 = performance.now();
  const m = which === 'svr' ? new SVR().fitSync({data:x, shape:[rows,cols]}, y) : new SVC().fitSync({data:x, shape:[rows,cols]}, y);
  console.log(which, (performance.now()-t0).toFixed(1), 'ms', m.fitInfo.iterations);
}
