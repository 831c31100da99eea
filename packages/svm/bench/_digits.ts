import { SVC } from '../src/index.js';
import { loadSvmFixture } from '../test/fixtures.js';
const f = loadSvmFixture('digits');
const a = f.matrix('x_train'), b = f.matrix('x_test');
const x = new Float64Array([...a.data, ...b.data]); const y = [...f.values('y_train'), ...f.values('y_test')];
const cache = Number(process.argv[2] ?? 200);
const t: number[] = [];
for (let i = 0; i < 15; i++) { const c0 = process.cpuUsage(); new SVC({ cacheSize: cache }).fitSync({ data: x, shape: [1797, 64] }, y); const u = process.cpuUsage(c0); t.push((u.user + u.system) / 1000); }
console.log('cache', cache, 'cpu ms per fit (sorted):', t.sort((p, q) => p - q).map((v) => v.toFixed(0)).join(' '));
