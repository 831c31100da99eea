import { Rng } from '@ml/core';
import { SVC, SVR } from '../src/index.js';
const which = process.argv[2] ?? 'svr';
const rows = Number(process.argv[3] ?? 1500), cols = 20;
const rng = new Rng(2);
const x = new Float64Array(rows * cols), y = new Float64Array(rows);
for (let r = 0; r < rows; r++) { const row = x.subarray(r*cols,(r+1)*cols); for (let c=0;c<cols;c++) row[c]=rng.normal(); y[r] = which==='svr' ? Math.sin(row[0]!) + 0.5*row[1]!*row[2]! - 0.3*row[3]! + 0.1*rng.normal() : (row[0]!*row[0]! + row[1]!*row[2]! - row[3]! + 0.5*rng.normal() > 0.5 ? 1 : 0); }
if (process.argv[4] === 'nofit') process.exit(0);
const m = which === 'svr' ? new SVR().fitSync({data:x, shape:[rows,cols]}, y) : new SVC().fitSync({data:x, shape:[rows,cols]}, y);
console.log(which, m.fitInfo.iterations, m.support.length);
