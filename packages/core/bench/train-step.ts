// One training step (forward, backward, Adam update) of each benchmark model on tfjs-wasm with @ml/core's
// kernels, at 1 thread and at all cores, side by side with PyTorch 1.13 at the same thread counts. The
// two sides are interleaved (rounds of a few steps each, PyTorch kept running in a server process), so
// both see the same machine load; each cell is the median of its steps. Besides wall-clock time it
// records each step's process CPU time, which a loaded machine disturbs far less (at 1 thread the CPU
// ratio is the work ratio; at more threads CPU time adds up the threads, so only wall time shows a
// speed-up). At one thread both sides' stepping threads are pinned to the same core, a different one each
// round (./pin.ts; `--unpinned` leaves placement to the scheduler).
//
//   pnpm --filter @ml/core bench [-- --reps 6 --rounds 2 --models mlp,cnn,transformer,lstm,vit --threads 1,2 --unpinned --json]
//   pnpm bench:core --json   (from the root: the last line is {"rows": [{model, threads, ml_ms, torch_ms, ratio, …}]})
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { Adam, backendInfo, useBackend } from '../src/index.js';

import { BUILDERS, packageBuilders, type Model } from './models.js';
import { startPin } from './pin.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const cores = Math.min(8, availableParallelism());
const extra = await packageBuilders();
const ALL: Record<string, () => Model> = { ...BUILDERS, ...extra.builders };
const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '2' },
    models: { type: 'string', default: [...Object.keys(BUILDERS), 'lstm', 'vit'].join(',') },
    threads: { type: 'string', default: cores > 1 ? `1,${cores}` : '1' },
    'skip-torch': { type: 'boolean', default: false },
    unpinned: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const ROUNDS = Math.max(1, Number(args.rounds));
const PER_ROUND = Math.max(1, Math.round(Number(args.reps) / ROUNDS));
const MODELS = args.models.split(',').filter((m) => {
  if (m in ALL) return true;
  log(`${m}: skipped (${extra.missing[m] ?? 'unknown model'})`);
  return false;
});
const THREADS = args.threads.split(',').map(Number);

const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round2 = (v: number | null): number | null => (v === null ? null : Number(v.toFixed(2)));
const ratio = (a: number | null, b: number | null): number | null =>
  a !== null && b !== null ? Number((a / b).toFixed(2)) : null;

/** Per-step wall-clock and process CPU times (ms). */
interface Times {
  wall: number[];
  cpu: number[];
}

interface Torch {
  /** Steps of `model` at `threads`, the stepping thread pinned to core `cpu` (-1: any). */
  measure(model: string, threads: number, reps: number, cpu: number): Promise<Times>;
  close(): void;
}

/** PyTorch in a server process (torch_train_step.py --serve), or the reason it is unavailable. */
function startTorch(): Torch | string {
  if (args['skip-torch']) return 'skipped (--skip-torch)';
  if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0)
    return 'PyTorch not importable by /usr/bin/python3 (install python3-torch); skipped';
  const script = fileURLToPath(new URL('./torch_train_step.py', import.meta.url));
  const proc = spawn('/usr/bin/python3', [script, '--serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    async measure(model, threads, reps, cpu) {
      proc.stdin.write(`${model} ${threads} ${reps} ${cpu}\n`);
      const next = await lines.next();
      if (next.done === true) throw new Error('PyTorch server exited');
      const r = JSON.parse(next.value) as { ms: number[]; cpu_ms: number[] };
      return { wall: r.ms, cpu: r.cpu_ms };
    },
    close: () => proc.stdin.end(),
  };
}

/** One model with its optimizer, kept across rounds. */
interface Cell {
  model: Model;
  opt: Adam;
}

async function stepTimes(cell: Cell, reps: number): Promise<Times> {
  const step = async () => {
    const loss = cell.opt.minimize(cell.model.loss);
    await loss.data();
    loss.dispose();
  };
  await step(); // warm-up after a thread switch: kernel setup, JIT
  const before = tf.memory().numTensors;
  const out: Times = { wall: [], cpu: [] };
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await step();
    const c = process.cpuUsage(c0);
    out.wall.push(performance.now() - t0);
    out.cpu.push((c.user + c.system) / 1000);
  }
  if (tf.memory().numTensors !== before) throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  return out;
}

await useBackend('wasm', { threads: 1 });
const torch = startTorch();
const pin = startPin(args.unpinned);
const cells = new Map<string, Cell>();
for (const name of MODELS) {
  const model = ALL[name]!();
  cells.set(name, { model, opt: new Adam(model.module, { lr: 1e-3 }) });
}
const results = new Map<string, { ml: Times; torch: Times; failed?: string }>();
for (let round = 0; round < ROUNDS; round++) {
  // Thread counts alternate within each model's turn, so a model's 1- and N-thread steps run seconds
  // apart, not a whole round apart (this machine's speed drifts over seconds).
  for (const name of MODELS) {
    for (const threads of THREADS) {
      const cpu = pin.turn(round, threads); // before useBackend, which may start workers
      await useBackend('wasm', { threads });
      const cell = cells.get(name)!;
      const key = `${name}@${threads}`;
      const r = results.get(key) ?? { ml: { wall: [], cpu: [] }, torch: { wall: [], cpu: [] } };
      results.set(key, r);
      if (r.failed !== undefined) continue;
      try {
        const ml = await stepTimes(cell, PER_ROUND);
        r.ml.wall.push(...ml.wall);
        r.ml.cpu.push(...ml.cpu);
        if (typeof torch !== 'string') {
          const t = await torch.measure(name, threads, PER_ROUND, cpu);
          r.torch.wall.push(...t.wall);
          r.torch.cpu.push(...t.cpu);
        }
      } catch (e) {
        r.failed = (e as Error).message.split('\n')[0]!.slice(0, 80);
      }
      const fmt = (v: number | null) => (v === null ? '–' : v.toFixed(1));
      log(
        `round ${round + 1}/${ROUNDS} ${key}: ml ${fmt(median(r.ml.wall))} ms (cpu ${fmt(median(r.ml.cpu))}), ` +
          `torch ${fmt(median(r.torch.wall))} ms (cpu ${fmt(median(r.torch.cpu))})`,
      );
    }
  }
}
if (typeof torch !== 'string') torch.close();
pin.release();
for (const cell of cells.values()) {
  cell.opt.dispose();
  cell.model.module.dispose();
  cell.model.dispose();
}
const info = backendInfo()?.wasm;
await useBackend('wasm', { threads: 1 }); // stops the workers

const rows = MODELS.flatMap((model) =>
  THREADS.map((threads) => {
    const r = results.get(`${model}@${threads}`)!;
    const ml = r.failed === undefined ? median(r.ml.wall) : null;
    const th = median(r.torch.wall);
    const mlCpu = r.failed === undefined ? median(r.ml.cpu) : null;
    const thCpu = median(r.torch.cpu);
    return {
      model,
      threads,
      ml_ms: round2(ml),
      torch_ms: round2(th),
      ratio: ratio(ml, th),
      ml_cpu_ms: round2(mlCpu),
      torch_cpu_ms: round2(thCpu),
      cpu_ratio: ratio(mlCpu, thCpu),
      ...(r.failed !== undefined ? { error: r.failed } : {}),
    };
  }),
);

const one = new Map(rows.filter((r) => r.threads === 1).map((r) => [r.model, r.ml_ms]));
const ms = (v: number | null) => (v === null ? '–' : `${v.toFixed(1)} ms`);
const times = (v: number | null) => (v === null ? '–' : `${v.toFixed(2)}×`);
console.log(
  '| model | threads | @ml/core wasm | PyTorch | ratio | @ml speed-up over 1 thread | CPU time: @ml | PyTorch | ratio |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const base = one.get(r.model) ?? null;
  console.log(
    `| ${r.model} | ${r.threads} | ${r.error ?? ms(r.ml_ms)} | ${ms(r.torch_ms)} | ${times(r.ratio)} | ` +
      `${times(ratio(base, r.ml_ms))} | ${ms(r.ml_cpu_ms)} | ${ms(r.torch_cpu_ms)} | ${times(r.cpu_ratio)} |`,
  );
}
if (typeof torch === 'string') console.log(`\nPyTorch: ${torch}`);
for (const [m, why] of Object.entries(extra.missing)) console.log(`${m}: ${why}`);
console.log(
  `\nmedian of ${ROUNDS}×${PER_ROUND} steps per cell, interleaved with PyTorch; ` +
    `1 thread: ${pin.placement}; GEMM ${info?.gemm ?? '?'}; ` +
    `tfjs ${tf.version_core}, node ${process.version}`,
);
if (args.json) console.log(JSON.stringify({ rows }));
