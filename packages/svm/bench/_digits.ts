import { SVC } from '../src/index.js';
import { KernelRows } from '../src/internal/q-matrix.js';
import { loadSvmFixture } from '../test/fixtures.js';
let evals = 0;
const f0 = KernelRows.prototype.fill; KernelRows.prototype.fill = function (i, out, s, e, y) { evals += e - s; return f0.call(this, i, out, s, e, y); };
const f = loadSvmFixture('digits');
const a = f.matrix('x_train'), b = f.matrix('x_test');
const x = new Float64Array([...a.data, ...b.data]); const y = [...f.values('y_train'), ...f.values('y_test')];
for (let i = 0; i < 15; i++) { const c0 = process.cpuUsage(); evals = 0; const m = new SVC().fitSync({ data: x, shape: [1797, 64] }, y); const u = process.cpuUsage(c0); if (i % 5 === 4) console.log(((u.user + u.system) / 1000).toFixed(1), 'ms cpu', m.fitInfo.iterations.reduce((p, q) => p + q), 'iters', evals, 'evals'); }
