// Fit time of @ml/svm against scikit-learn (Debian python3-sklearn, libsvm in C++) on the same data in
// the same run: SVC rbf on digits (1797×64, 10 classes), SVC rbf on a synthetic 5000×20 two-class set,
// SVR rbf on a synthetic 5000×20 set, and SVR rbf on Mackey-Glass windows (20 values → the next one,
// standardised, as a time-series demo fits them). The two sides take turns fit by fit (scikit-learn in a
// long-lived /usr/bin/python3 child), so a busy machine slows both alike; prints best and median CPU
// times and ratios.
//   pnpm --filter @ml/svm bench [-- --repeats 3] [-- --only mackey]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import { Rng } from '@ml/core/plain';

import { SVC, SVR } from '../src/index.js';
import { loadSvmFixture } from '../test/fixtures.js';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string', default: '5' },
    python: { type: 'string', default: '/usr/bin/python3' },
    only: { type: 'string' },
  },
});
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
  return {
    name: 'svc-rbf-digits',
    model: 'SVC',
    params: { kernel: 'rbf', C: 1 },
    rows: a.shape[0] + b.shape[0],
    cols: 64,
    x,
    y,
  };
}

/** 5000×20 standard normal features; `target` maps a row to its label or value. */
function synthetic(
  name: string,
  model: 'SVC' | 'SVR',
  seed: number,
  target: (r: Float64Array, rng: Rng) => number,
): Case {
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
  return {
    name,
    model,
    params: model === 'SVC' ? { kernel: 'rbf', C: 1 } : { kernel: 'rbf', C: 1, epsilon: 0.1 },
    rows,
    cols,
    x,
    y,
  };
}

/**
 * The Mackey-Glass series dx/dt = β·x(t−τ)/(1 + x(t−τ)ⁿ) − γ·x(t) with τ = 17, β = 0.2, γ = 0.1, n = 10,
 * constant history 1.2, RK4 with step 0.1 (delayed values at half steps interpolated), one sample per
 * time unit after 200 discarded: the equation and solver of @ml/data-loaders' `mackeyGlass`.
 */
function mackeyGlassSeries(length: number): Float64Array {
  const [tau, beta, gamma, n, dt, discard] = [17, 0.2, 0.1, 10, 0.1, 200];
  const delay = Math.round(tau / dt);
  const perUnit = Math.round(1 / dt);
  const x = new Float64Array(delay + 2 + (length + discard) * perUnit).fill(1.2);
  const at = (pos: number): number => {
    const lo = Math.floor(pos);
    const frac = pos - lo;
    return (x[lo] as number) * (1 - frac) + (frac > 0 ? (x[lo + 1] as number) * frac : 0);
  };
  const f = (xt: number, xd: number): number => (beta * xd) / (1 + xd ** n) - gamma * xt;
  for (let k = delay + 1; k < x.length - 1; k++) {
    const xt = x[k] as number;
    const [d0, dh, d1] = [at(k - delay), at(k + 0.5 - delay), at(k + 1 - delay)];
    const k1 = f(xt, d0);
    const k2 = f(xt + 0.5 * dt * k1, dh);
    const k3 = f(xt + 0.5 * dt * k2, dh);
    const k4 = f(xt + dt * k3, d1);
    x[k + 1] = xt + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = x[delay + 1 + (discard + i) * perUnit] as number;
  return out;
}

/**
 * SVR on Mackey-Glass windows: `window` values → the next one, the first 70 % of the windows of a
 * `length`-sample series (a chronological training split), standardised with the training statistics.
 */
function mackeyGlassWindows(name: string, length: number, params: Record<string, unknown>): Case {
  const window = 20;
  const series = mackeyGlassSeries(length);
  const rows = Math.floor((length - window) * 0.7);
  const train = series.subarray(0, rows + window);
  const mean = train.reduce((a, b) => a + b, 0) / train.length;
  const std = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / train.length);
  const z = series.map((v) => (v - mean) / std);
  const x = new Float64Array(rows * window);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    x.set(z.subarray(r, r + window), r * window);
    y[r] = z[r + window] as number;
  }
  return { name, model: 'SVR', params: { kernel: 'rbf', ...params }, rows, cols: window, x, y };
}

const v = (r: Float64Array, i: number): number => r[i] as number;
const allCases: Case[] = [
  digits(),
  // A curved boundary with label noise: a realistic share of the rows end up as support vectors.
  synthetic('svc-rbf-5000x20', 'SVC', 1, (r, rng) =>
    v(r, 0) * v(r, 0) + v(r, 1) * v(r, 2) - v(r, 3) + 0.5 * rng.normal() > 0.5 ? 1 : 0,
  ),
  synthetic(
    'svr-rbf-5000x20',
    'SVR',
    2,
    (r, rng) => Math.sin(v(r, 0)) + 0.5 * v(r, 1) * v(r, 2) - 0.3 * v(r, 3) + 0.1 * rng.normal(),
  ),
  // scikit-learn's defaults (C 1, ε 0.1), and a tighter fit (C 10, ε 0.01) as a forecaster would use.
  mackeyGlassWindows('svr-rbf-mackey-glass', 5000, { C: 1, epsilon: 0.1 }),
  mackeyGlassWindows('svr-rbf-mackey-glass-tight', 5000, { C: 10, epsilon: 0.01 }),
];
const cases =
  values.only === undefined ? allCases : allCases.filter((c) => c.name.includes(values.only as string));

const dir = mkdtempSync(join(tmpdir(), 'ml-svm-bench-'));
for (const c of cases) {
  writeFileSync(join(dir, `${c.name}.x.bin`), new Uint8Array(c.x.buffer));
  writeFileSync(join(dir, `${c.name}.y.bin`), new Uint8Array(c.y.buffer));
}
writeFileSync(
  join(dir, 'cases.json'),
  JSON.stringify(cases.map(({ name, model, params, rows, cols }) => ({ name, model, params, rows, cols }))),
);
const py = spawn(values.python, [new URL('./sklearn_fit.py', import.meta.url).pathname, dir], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const replies = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
async function reply<T>(): Promise<T> {
  const next = await replies.next();
  if (next.done) throw new Error(`scikit-learn side (${values.python}) exited early`);
  return JSON.parse(next.value) as T;
}

interface Timing {
  cpu: number;
  wall: number;
  nSupport: number;
}

function fitOurs(c: Case): Timing {
  const model = c.model === 'SVC' ? new SVC(c.params) : new SVR(c.params);
  const w0 = performance.now();
  const c0 = process.cpuUsage();
  model.fitSync({ data: c.x, shape: [c.rows, c.cols] }, c.y);
  const used = process.cpuUsage(c0);
  return {
    cpu: (used.user + used.system) / 1e6,
    wall: (performance.now() - w0) / 1000,
    nSupport: model.support.length,
  };
}

async function fitSklearn(c: Case): Promise<Timing> {
  py.stdin.write(`${c.name}\n`);
  const r = await reply<{ cpu: number; wall: number; n_support: number }>();
  return { cpu: r.cpu, wall: r.wall, nSupport: r.n_support };
}

try {
  const { sklearn } = await reply<{ sklearn: string }>();
  console.log(
    `@ml/svm vs scikit-learn ${sklearn}: fit time (node ${process.version}), ${repeats} rounds after a warm-up, the two sides taking turns`,
  );
  console.log(
    'times are process CPU seconds, best / median of the rounds; ratio = ours / scikit-learn on the medians\n',
  );
  console.log(
    'case                        rows×cols   ours best / median   sklearn best / median   ratio   nSV ours/sklearn',
  );
  const best = (v: number[]): number => Math.min(...v);
  const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
  for (const c of cases) {
    // Warm-up: V8 compiles the hot loops during the first fits.
    fitOurs(c);
    fitOurs(c);
    await fitSklearn(c);
    const ours: Timing[] = [];
    const theirs: Timing[] = [];
    for (let i = 0; i < repeats; i++) {
      ours.push(fitOurs(c));
      theirs.push(await fitSklearn(c));
    }
    const o = ours.map((t) => t.cpu);
    const s = theirs.map((t) => t.cpu);
    console.log(
      `${c.name.padEnd(27)} ${`${c.rows}×${c.cols}`.padEnd(11)} ${`${best(o).toFixed(3)} / ${median(o).toFixed(3)}`.padStart(18)} ${`${best(s).toFixed(3)} / ${median(s).toFixed(3)}`.padStart(23)} ${`${(median(o) / median(s)).toFixed(2)}×`.padStart(7)}   ${ours[0]?.nSupport}/${theirs[0]?.nSupport}`,
    );
  }
  console.log('\nfloor ≤ 3×, goal ≤ 1.5×');
} finally {
  py.stdin.end();
  rmSync(dir, { recursive: true, force: true });
}
