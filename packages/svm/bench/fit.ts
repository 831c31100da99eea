// Fit time of @ml/svm against scikit-learn (Debian python3-sklearn, libsvm in C++) on the same data in
// the same run: SVC rbf on digits (1797×64, 10 classes), SVC rbf on a synthetic 5000×20 two-class set,
// SVR rbf on a synthetic 5000×20 set. Prints medians and ratios (ours / scikit-learn's).
//   pnpm --filter @ml/svm bench [-- --repeats 3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Rng } from '@ml/core';

import { SVC, SVR } from '../src/index.js';
import { loadSvmFixture } from '../test/fixtures.js';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' }, python: { type: 'string', default: '/usr/bin/python3' } } });
const repeats = Number(values.repeats);

interface Case {
  name: string;
  model: 'SVC' | 'SVR';
  params: Record<string, unknown>;
  rows: number;
  cols: number;
  x: Float64Array;
  y: Float64Array;
}

function digits(): Case {
  const f = loadSvmFixture('digits');
  const a = f.matrix('x_train');
  const b = f.matrix('x_test');
  const x = new Float64Array(a.data.length + b.data.length);
  x.set(a.data);
  x.set(b.data, a.data.length);
  const y = Float64Array.from([...f.values('y_train'), ...f.values('y_test')]);
  return { name: 'svc-rbf-digits', model: 'SVC', params: { kernel: 'rbf', C: 1 }, rows: a.shape[0] + b.shape[0], cols: 64, x, y };
}

/** 5000×20 standard normal features; `target` maps a row to its label or value. */
function synthetic(name: string, model: 'SVC' | 'SVR', seed: number, target: (r: Float64Array, rng: Rng) => number): Case {
  const rng = new Rng(seed);
  const rows = 5000;
  const cols = 20;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * cols, (r + 1) * cols);
    for (let c = 0; c < cols; c++) row[c] = rng.normal();
    y[r] = target(row, rng);
  }
  return { name, model, params: model === 'SVC' ? { kernel: 'rbf', C: 1 } : { kernel: 'rbf', C: 1, epsilon: 0.1 }, rows, cols, x, y };
}

const v = (r: Float64Array, i: number): number => r[i] as number;
const cases: Case[] = [
  digits(),
  // A curved boundary with label noise: a realistic share of the rows end up as support vectors.
  synthetic('svc-rbf-5000x20', 'SVC', 1, (r, rng) => (v(r, 0) * v(r, 0) + v(r, 1) * v(r, 2) - v(r, 3) + 0.5 * rng.normal() > 0.5 ? 1 : 0)),
  synthetic('svr-rbf-5000x20', 'SVR', 2, (r, rng) => Math.sin(v(r, 0)) + 0.5 * v(r, 1) * v(r, 2) - 0.3 * v(r, 3) + 0.1 * rng.normal()),
];

const dir = mkdtempSync(join(tmpdir(), 'ml-svm-bench-'));
try {
  for (const c of cases) {
    writeFileSync(join(dir, `${c.name}.x.bin`), new Uint8Array(c.x.buffer));
    writeFileSync(join(dir, `${c.name}.y.bin`), new Uint8Array(c.y.buffer));
  }
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases.map(({ name, model, params, rows, cols }) => ({ name, model, params, rows, cols }))));
  const py = spawnSync(values.python, [new URL('./sklearn_fit.py', import.meta.url).pathname, dir, String(repeats)], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`scikit-learn side failed (${values.python}): ${py.stderr}`);
  const sk = JSON.parse(py.stdout) as { sklearn: string; cases: Record<string, { wall: number; cpu: number; n_support: number }> };

  console.log(`@ml/svm vs scikit-learn ${sk.sklearn}: fit time, median of ${repeats} after warm-up fits (node ${process.version})`);
  console.log('ratio = ours / scikit-learn on process CPU time (both are single-threaded; CPU time is steadier than wall time on a shared machine)\n');
  console.log('case                 rows×cols   ours cpu / wall (s)   sklearn cpu / wall (s)   ratio   nSV ours/sklearn');
  for (const c of cases) {
    const make = (): SVC | SVR => (c.model === 'SVC' ? new SVC(c.params) : new SVR(c.params));
    const input = { data: c.x, shape: [c.rows, c.cols] };
    // Two warm-up fits: V8 compiles the hot loops on the first.
    make().fitSync(input, c.y);
    make().fitSync(input, c.y);
    const wall: number[] = [];
    const cpu: number[] = [];
    let model = make();
    for (let i = 0; i < repeats; i++) {
      model = make();
      const w0 = performance.now();
      const c0 = process.cpuUsage();
      model.fitSync(input, c.y);
      const used = process.cpuUsage(c0);
      cpu.push((used.user + used.system) / 1e6);
      wall.push((performance.now() - w0) / 1000);
    }
    const median = (v: number[]): number => v.sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
    const ref = sk.cases[c.name] as { wall: number; cpu: number; n_support: number };
    const ours = median(cpu);
    console.log(
      `${c.name.padEnd(20)} ${`${c.rows}×${c.cols}`.padEnd(11)} ${`${ours.toFixed(3)} / ${median(wall).toFixed(3)}`.padStart(19)} ${`${ref.cpu.toFixed(3)} / ${ref.wall.toFixed(3)}`.padStart(24)} ${`${(ours / ref.cpu).toFixed(2)}×`.padStart(7)}   ${model.support.length}/${ref.n_support}`,
    );
  }
  console.log('\nfloor ≤ 3×, goal ≤ 1.5×');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
