import { Rng } from '@ml/core';
import { KernelRows } from '../src/internal/q-matrix.js';
import { KernelCache } from '../src/internal/kernel-cache.js';
import { SVC, SVR } from '../src/index.js';
let evals = 0, swaps = 0, gets = 0, cachedScan = 0;
const f = KernelRows.prototype.fill; KernelRows.prototype.fill = function (i, out, s, e, y) { evals += e - s; return f.call(this, i, out, s, e, y); };
const sw = KernelCache.prototype.swapIndex; KernelCache.prototype.swapIndex = function (i, j) { swaps++; return sw.call(this, i, j); };
const g = KernelCache.prototype.get; KernelCache.prototype.get = function (i, l) { gets++; return g.call(this, i, l); };
const which = process.argv[2] ?? 'svc';
const rng = new Rng(1);
const rows = 5000, cols = 20;
const x = new Float64Array(rows * cols), y = new Float64Array(rows);
for (let r = 0; r < rows; r++) { const row = x.subarray(r*cols,(r+1)*cols); for (let c=0;c<cols;c++) row[c]=rng.normal(); y[r] = which==='svr' ? Math.sin(row[0]!) + 0.5*row[1]!*row[2]! - 0.3*row[3]! + 0.1*rng.normal() : (row[0]!*row[0]! + row[1]!*row[2]! - row[3]! + 0.5*rng.normal() > 0.5 ? 1 : 0); }
const t0 = performance.now();
const m = which === 'svr' ? new SVR().fitSync({data:x, shape:[rows,cols]}, y) : new SVC().fitSync({data:x, shape:[rows,cols]}, y);
console.log(which, (performance.now()-t0).toFixed(1), 'ms', m.fitInfo.iterations, { evals, swaps, gets });
