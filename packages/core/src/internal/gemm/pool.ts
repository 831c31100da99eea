import { fillRows, type BatchProduct } from './batch.js';
import {
  computeRows,
  KC,
  packB,
  packRows,
  PANELS_PER_BLOCK,
  packedASize,
  packedBSize,
  paddedCSize,
  panels,
  rowBlocks,
  rowPacking,
  tilesFit,
  type GemmMemory,
} from './gemm.js';
import { gemmModuleBytes, MR, NR, type GemmExports, type GemmPath } from './gemm-module.js';
import { gemmExports, nodeBuiltin, SHARED_MAX_PAGES } from './probe.js';

// Worker threads for large products: worker_threads in Node, Web Workers in cross-origin isolated
// browser workers (Atomics.wait cannot block a browser's main thread, so there the pool is never made).
// Where the tensors' heap is a shared memory (tfjs' binary made shared, ../shared-heap.ts) the workers
// instantiate the GEMM on it and work on tensors in place; otherwise a product's operands are copied into
// the pool's own shared memory and C is copied back.
// A round has two phases. First every thread packs its share of the operands (row blocks of each
// distinct A, column panels of each distinct B); a barrier; then every thread computes its share of C:
// whole row blocks (or, for a product with fewer row blocks than column panels, whole column panels),
// starting from the bias where there is one and copying a padded C out. Rows are computed whole (never a
// split of k), so any thread count gives the same bits. A round can instead be a list of calls per thread
// to any wasm module @ml emits (other kernels split by disjoint parts of their output; ../kernels/simd-map
// splitCall). Workers block in Atomics.wait between rounds (after a short spin: products come in bursts),
// are unref'd (they never keep a process alive) and are terminated by dispose().

// Control words (Int32 indices) at the start of the pool's control block.
const GEN = 0; // bumped by the caller to start a round
const REMAINING = 1; // workers still busy in this round
const TASKS = 2; // byte address of the packing task table
const STOP = 3; // 1 = workers exit
const PACKED = 4; // threads done packing in this round (the barrier)
const JOBS = 5; // byte address of the compute job table
const MODE = 6; // what a round runs: ROUND_GEMM, or ROUND_CALLS (a list of function calls per thread)
const ROUND_GEMM = 0;
const ROUND_CALLS = 1;
const FAILED = 7; // set by a worker whose part of a round threw
/** Most threads a pool runs (callers cap lower). */
export const MAX_THREADS = 64;
const STARTS = 8; // STARTS + t: first job of thread t (STARTS + threads: the end)
const TASK_STARTS = STARTS + MAX_THREADS + 1; // likewise for packing tasks
/** Bytes of the control block. */
const CONTROL_BYTES = 1024;
/**
 * Milliseconds a thread spins on a control word before blocking in Atomics.wait (waking from it costs
 * ~0.1 ms): a worker keeps spinning this long after a round, since a training step's products come in
 * bursts, and a thread at the barrier or awaiting the others spins as long.
 */
const SPIN_MS = 0.5;
/**
 * Ints per packing task: kind (1 rows of a strided A, 2 rows of a gathered A, 3 panels of B), src, dst,
 * size (A's rows m, or B's columns n), k, x, y (A: as RowPacking; B: its row and column strides in
 * bytes), and the range [b0, b1) of row blocks or panels to pack.
 */
const TASK_INTS = 10;
const PACK_A = 1;
const PACK_A_GATHER = 2;
const PACK_B = 3;
/**
 * Ints per compute job: pa, pb, pc, ldc, n, k, rb0, rb1, pn0, pn1 (row blocks × column panels of C),
 * bias (byte address of n floats C starts from, 0: none), dst, ldd, m (dst ≠ 0: C is padded scratch,
 * copy the job's part of its m×n corner to dst, row stride ldd).
 */
const JOB_INTS = 16;
/**
 * A ROUND_CALLS round: thread t makes the calls at ints [STARTS + t, STARTS + t + 1) of the table at JOBS,
 * each: module id (0: the GEMM module itself), byte address and length of the module's bytes in the
 * memory, the export's index, the argument count, then the i32 arguments.
 */
const CALL_HEADER = 5;
/** Most arguments of a function a pool thread calls. */
const MAX_CALL_ARGS = 12;

/** A call for a pool thread: export `fn` (index in export order) of `module` (null: the GEMM module). */
export interface PoolCall {
  module: Uint8Array | null;
  fn: number;
  args: number[];
}

/** The fields of a packing task, in order. */
type TaskFields = [
  kind: number,
  src: number,
  dst: number,
  size: number,
  k: number,
  x: number,
  y: number,
  b0: number,
  b1: number,
];
/** The fields of a compute job, in order. */
type JobFields = [
  pa: number,
  pb: number,
  pc: number,
  ldc: number,
  n: number,
  k: number,
  rb0: number,
  rb1: number,
  pn0: number,
  pn1: number,
  bias: number,
  dst: number,
  ldd: number,
  m: number,
];

/** The tensors' heap: its memory and allocator (main thread only). */
export interface Heap {
  memory(): WebAssembly.Memory;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

// One round for thread `index`: its packing tasks, the barrier, its compute jobs. Plain JavaScript
// shared by the worker text below and (through the same text's semantics) GemmPool.work: keep in step.
const WORKER_SOURCE = `
const spinWait = (ctrl, i, until) => {
  let since = -1;
  for (let s = 1; ; s++) {
    const v = Atomics.load(ctrl, i);
    if (until(v)) return;
    if ((s & 255) !== 0) continue;
    const now = performance.now();
    if (since < 0) since = now;
    else if (now - since > ${SPIN_MS}) Atomics.wait(ctrl, i, v);
  }
};
const pack = (ex, i32, q) => {
  const [kind, src, dst, size, k, x, y, b0, b1] = i32.subarray(q, q + 9);
  for (let b = b0; b < b1; b++) {
    if (kind === ${PACK_B}) {
      const j = b * ${NR};
      ex.packB(src + j * y, dst + 4 * j * k, Math.min(${NR}, size - j), k, x, y);
      continue;
    }
    const i = b * ${MR};
    if (kind === ${PACK_A}) ex.packA(src + i * x, dst + 4 * i * k, Math.min(${MR}, size - i), k, x, y);
    else ex.packAGather(src, dst + 4 * i * k, Math.min(${MR}, size - i), k, x + 4 * i, y);
  }
};
const arrive = (ctrl, threads) => {
  if (Atomics.add(ctrl, ${PACKED}, 1) === threads - 1) Atomics.notify(ctrl, ${PACKED});
};
const round = (ex, memory, ctrl, index, threads, state) => {
  const i32 = new Int32Array(memory.buffer);
  const f32 = new Float32Array(memory.buffer);
  const tasks = Atomics.load(ctrl, ${TASKS}) >> 2;
  for (let t = ctrl[${TASK_STARTS} + index]; t < ctrl[${TASK_STARTS} + index + 1]; t++)
    pack(ex, i32, tasks + t * ${TASK_INTS});
  state.arrived = true;
  arrive(ctrl, threads);
  spinWait(ctrl, ${PACKED}, (v) => v === threads);
  const jobs = ctrl[${JOBS}] >> 2;
  for (let j = ctrl[${STARTS} + index]; j < ctrl[${STARTS} + index + 1]; j++) {
    const [pa, pb, pc, ldc, n, k, rb0, rb1, pn0, pn1, bias, dst, ldd, m] = i32.subarray(jobs + j * ${JOB_INTS}, jobs + j * ${JOB_INTS} + 14);
    const c0 = pn0 * ${NR};
    const c1 = Math.min(pn1 * ${NR}, n);
    if (bias !== 0) {
      const row = f32.subarray((bias >> 2) + c0, (bias >> 2) + c1);
      for (let r = rb0 * ${MR}; r < rb1 * ${MR}; r++) f32.set(row, (pc >> 2) + r * ldc + c0);
    }
    const panelBytes = k * ${NR * 4};
    for (let jb = pn0; jb < pn1; jb += ${PANELS_PER_BLOCK}) {
      const npb = Math.min(${PANELS_PER_BLOCK}, pn1 - jb);
      for (let kb = 0; kb < k; kb += ${KC}) {
        const kc = Math.min(${KC}, k - kb);
        const b = pb + jb * panelBytes + kb * ${NR * 4};
        for (let rb = rb0; rb < rb1; rb++)
          ex.kernel(pa + (rb * k + kb) * ${MR * 4}, b, pc + (rb * ${MR} * ldc + jb * ${NR}) * 4, kc, npb, panelBytes, ldc * 4, kb > 0 || bias !== 0 ? 1 : 0);
      }
    }
    if (dst !== 0)
      for (let r = rb0 * ${MR}; r < Math.min(rb1 * ${MR}, m); r++) {
        const from = (pc >> 2) + r * ldc;
        f32.copyWithin((dst >> 2) + r * ldd + c0, from + c0, from + c1);
      }
  }
};
`;

// The worker: instantiates the GEMM module on the shared memory, says 'ready', then runs a round every
// time GEN moves: a product's share, or one call of a function of another module @ml emitted (compiled
// from its bytes in the memory on first use). Plain JavaScript (no imports) so the same text runs as a
// Node eval worker or a Blob worker.
const WORKER_MAIN = `${WORKER_SOURCE}
const modules = new Map();
const calls = (memory, ctrl, index) => {
  const i32 = new Int32Array(memory.buffer);
  const base = ctrl[${JOBS}] >> 2;
  for (let q = base + ctrl[${STARTS} + index]; q < base + ctrl[${STARTS} + index + 1]; ) {
    const [id, ptr, len, fn, nargs] = i32.subarray(q, q + ${CALL_HEADER});
    let fns = modules.get(id);
    if (fns === undefined) {
      const mod = new WebAssembly.Module(new Uint8Array(memory.buffer, ptr, len).slice());
      const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports;
      fns = WebAssembly.Module.exports(mod).map((e) => ex[e.name]);
      modules.set(id, fns);
    }
    q += ${CALL_HEADER};
    // Every function here takes at most ${MAX_CALL_ARGS} i32s; wasm ignores the arguments past its own.
    fns[fn](${Array.from({ length: MAX_CALL_ARGS }, (_, i) => `i32[q + ${i}]`).join(', ')});
    q += nargs;
  }
};
const start = (data, post) => {
  const gemm = new WebAssembly.Module(data.bytes);
  const ex = new WebAssembly.Instance(gemm, { env: { memory: data.memory } }).exports;
  modules.set(0, WebAssembly.Module.exports(gemm).map((e) => ex[e.name]));
  const ctrl = new Int32Array(data.memory.buffer, data.ctrl, ${CONTROL_BYTES / 4});
  post('ready');
  let gen = 0;
  for (;;) {
    spinWait(ctrl, ${GEN}, (v) => v !== gen);
    gen = Atomics.load(ctrl, ${GEN});
    if (Atomics.load(ctrl, ${STOP}) === 1) return;
    // A part that throws (a trap) marks the round failed; the thread still reaches the barrier and
    // reports done, so the caller never waits forever and throws instead.
    const state = { arrived: false };
    try {
      if (ctrl[${MODE}] === ${ROUND_CALLS}) calls(data.memory, ctrl, data.index);
      else round(ex, data.memory, ctrl, data.index, data.threads, state);
    } catch {
      Atomics.store(ctrl, ${FAILED}, 1);
      if (ctrl[${MODE}] === ${ROUND_GEMM} && !state.arrived) arrive(ctrl, data.threads);
    }
    if (Atomics.sub(ctrl, ${REMAINING}, 1) === 1) Atomics.notify(ctrl, ${REMAINING});
  }
};
if (typeof require === 'function') {
  const wt = require('node:worker_threads');
  start(wt.workerData, (m) => wt.parentPort.postMessage(m));
} else {
  self.onmessage = (e) => start(e.data, (m) => self.postMessage(m));
}
`;

/** The parts of a Node or browser worker the pool uses. */
interface AnyWorker {
  terminate(): unknown;
}

interface NodeWorker extends AnyWorker {
  unref(): void;
  once(event: 'message' | 'error', fn: (v: unknown) => void): void;
}

interface NodeWorkerThreads {
  Worker: new (src: string, opts: { eval: true; workerData: unknown }) => NodeWorker;
}

/** Whether this thread may block in Atomics.wait and start workers over shared memory. */
export function canUseThreads(): boolean {
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') return false;
  if (nodeBuiltin('node:worker_threads') !== undefined) return true;
  const g = globalThis as { crossOriginIsolated?: boolean; WorkerGlobalScope?: unknown; Worker?: unknown };
  // Browsers: only inside a (dedicated) worker of a cross-origin isolated page.
  return g.crossOriginIsolated === true && g.WorkerGlobalScope !== undefined && g.Worker !== undefined;
}

async function startWorker(data: {
  bytes: Uint8Array;
  memory: WebAssembly.Memory;
  ctrl: number;
  index: number;
  threads: number;
}): Promise<AnyWorker> {
  const wt = nodeBuiltin<NodeWorkerThreads>('node:worker_threads');
  if (wt !== undefined) {
    const w = new wt.Worker(WORKER_MAIN, { eval: true, workerData: data });
    w.unref();
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    return w;
  }
  const url = URL.createObjectURL(new Blob([WORKER_MAIN], { type: 'text/javascript' }));
  try {
    const w = new Worker(url);
    await new Promise<void>((resolve, reject) => {
      w.onmessage = () => resolve();
      w.onerror = (e) => reject(new Error(e.message));
      w.postMessage(data);
    });
    return w;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Packing tasks (TASK_INTS each) and compute jobs (JOB_INTS each) of one round, and their cost. */
interface Plan {
  tasks: number[][];
  /** Thread t packs tasks [taskStarts[t], taskStarts[t + 1]). */
  taskStarts: number[];
  jobs: number[][];
  /** Thread t computes jobs [jobStarts[t], jobStarts[t + 1]). */
  jobStarts: number[];
}

/** Splits items of the given costs into `threads` contiguous runs of about equal cost: run starts. */
function evenRuns(cost: number[], threads: number): number[] {
  const total = cost.reduce((s, c) => s + c, 0);
  const starts = [0];
  let acc = 0;
  let i = 0;
  for (let t = 1; t < threads; t++) {
    const goal = (total * t) / threads;
    while (i < cost.length && acc + cost[i]! / 2 <= goal) acc += cost[i++]!;
    starts.push(i);
  }
  starts.push(cost.length);
  return starts;
}

/** A pool of `threads − 1` workers plus the calling thread, computing products in shared memory. */
export class GemmPool {
  private readonly ctrl: Int32Array;
  private top: number;
  private disposed = false;

  private constructor(
    readonly threads: number,
    readonly path: GemmPath,
    /** The memory the workers compute in: the tensors' heap (in place) or the pool's own. */
    private readonly memory: WebAssembly.Memory,
    private readonly ctrlPtr: number,
    private readonly workers: AnyWorker[],
    private readonly heap: Heap | null,
  ) {
    this.ctrl = new Int32Array(memory.buffer, ctrlPtr, CONTROL_BYTES / 4);
    this.top = ctrlPtr + CONTROL_BYTES;
  }

  /**
   * Starts `threads − 1` workers (threads ≥ 2, ≤ MAX_THREADS) computing with `path`: on `heap` when it
   * is given and its memory is shared (products then run in place), else in a shared memory of their own.
   */
  static async create(threads: number, path: GemmPath, heap?: Heap): Promise<GemmPool> {
    const inPlace = heap !== undefined && isSharedMemory(heap.memory());
    const memory = inPlace
      ? heap.memory()
      : new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true });
    const ctrlPtr = inPlace ? heap.malloc(CONTROL_BYTES) : 0;
    if (inPlace) new Int32Array(memory.buffer, ctrlPtr, CONTROL_BYTES / 4).fill(0);
    const bytes = gemmModuleBytes(path, { shared: true });
    const workers: AnyWorker[] = [];
    try {
      for (let i = 1; i < threads; i++)
        workers.push(await startWorker({ bytes, memory, ctrl: ctrlPtr, index: i, threads }));
    } catch (e) {
      for (const w of workers) await w.terminate();
      if (inPlace) heap.free(ctrlPtr);
      throw e;
    }
    return new GemmPool(threads, path, memory, ctrlPtr, workers, inPlace ? heap : null);
  }

  /** Whether products on `memory` run in place (no copies). */
  inPlace(memory: WebAssembly.Memory): boolean {
    return this.heap !== null && memory === this.memory;
  }

  /** Whether the pool can run products on `memory`: in place, or (a pool of its own memory) by copying. */
  accepts(memory: WebAssembly.Memory): boolean {
    return this.heap === null || memory === this.memory;
  }

  /** Scratch in the pool's own memory: a bump allocator reset every round. */
  private readonly own: GemmMemory = {
    malloc: (bytes) => {
      const ptr = this.top;
      this.top += (bytes + 15) & ~15;
      const need = Math.ceil(this.top / 65536) - this.memory.buffer.byteLength / 65536;
      if (need > 0) this.memory.grow(need);
      return ptr;
    },
    free: () => {},
    f32: () => new Float32Array(this.memory.buffer),
  };

  /**
   * Runs `p`, whose pointers are byte offsets into `heap` (A spans `aFloats` floats from a.ptr, B
   * `bFloats` from b.ptr), writing C into `heap`: in place when the pool computes in that heap, else
   * through copies.
   */
  run(heap: Heap, p: BatchProduct, aFloats: number, bFloats: number): void {
    if (this.disposed) throw new Error('GemmPool: used after dispose()');
    const { m, n } = p;
    const batches = p.aOffsets.length;
    if (m === 0 || n === 0 || batches === 0) return;
    if (this.inPlace(heap.memory())) {
      const scratch: number[] = [];
      const mem: GemmMemory = {
        malloc: (bytes) => {
          const ptr = heap.malloc(bytes);
          scratch.push(ptr);
          return ptr;
        },
        free: () => {},
        f32: () => new Float32Array(this.memory.buffer),
      };
      try {
        this.compute(mem, p);
      } finally {
        for (const ptr of scratch) heap.free(ptr);
      }
      return;
    }
    if (this.heap !== null) throw new Error('GemmPool: a pool computing in place runs only on its own heap');
    const src = heap.memory().buffer;
    this.top = CONTROL_BYTES;
    const mem = this.own;
    const sa = mem.malloc(aFloats * 4);
    const sb = mem.malloc(bFloats * 4);
    const sc = mem.malloc(m * n * batches * 4);
    const sbias = p.bias === undefined ? undefined : mem.malloc(n * 4);
    let f = mem.f32();
    f.set(new Float32Array(src, p.a.ptr, aFloats), sa / 4);
    f.set(new Float32Array(src, p.b.ptr, bFloats), sb / 4);
    if (p.bias !== undefined && sbias !== undefined) f.set(new Float32Array(src, p.bias, n), sbias / 4);
    this.compute(mem, { ...p, a: { ...p.a, ptr: sa }, b: { ...p.b, ptr: sb }, c: sc, bias: sbias });
    f = mem.f32();
    new Float32Array(heap.memory().buffer, p.c, m * n * batches).set(
      f.subarray(sc / 4, sc / 4 + m * n * batches),
    );
  }

  /** Plans and runs `p`, whose pointers all lie in the pool's memory; scratch comes from `mem`. */
  private compute(mem: GemmMemory, p: BatchProduct): void {
    const { m, n, k } = p;
    const batches = p.aOffsets.length;
    if (k === 0) {
      if (p.bias === undefined) mem.f32().fill(0, p.c / 4, p.c / 4 + m * n * batches);
      else fillRows(mem, p.bias, p.c, n, m * batches, n);
      return;
    }
    const plan = this.plan(mem, p);
    this.dispatch(mem, plan);
  }

  /** The packing tasks and compute jobs of `p` (scratch for packed operands and a padded C from `mem`). */
  private plan(mem: GemmMemory, p: BatchProduct): Plan {
    const { m, n, k } = p;
    const batches = p.aOffsets.length;
    const plan: Plan = { tasks: [], taskStarts: [], jobs: [], jobStarts: [] };
    const rows = rowPacking(mem, p.a, m, k);
    const kindA = rows.kind === 'strided' ? PACK_A : PACK_A_GATHER;
    // Many distinct operands (a batch): whole operands, in runs of about equal cost per thread. Few (a
    // single product): thread t packs the t-th share of the blocks of each.
    const whole = new Set(p.aOffsets).size + new Set(p.bOffsets).size >= 4 * this.threads;
    const perThread: number[][][] = Array.from({ length: this.threads }, () => []);
    const wholeTasks: number[][] = [];
    const wholeCost: number[] = [];
    const addTasks = (task: number[], blocks: number, blockCost: number): void => {
      if (whole) {
        wholeTasks.push([...task, 0, blocks]);
        wholeCost.push(blocks * blockCost);
        return;
      }
      for (let t = 0; t < this.threads; t++) {
        const b0 = Math.floor((blocks * t) / this.threads);
        const b1 = Math.floor((blocks * (t + 1)) / this.threads);
        if (b1 > b0) perThread[t]!.push([...task, b0, b1]);
      }
    };
    const packedA = new Map<number, number>();
    const packedB = new Map<number, number>();
    const fit = tilesFit(m, n);
    const ldp = Math.ceil(n / NR) * NR;
    const padded = fit ? 0 : mem.malloc(paddedCSize(m, n) * batches * 4);
    const products: { pa: number; pb: number; pc: number; dst: number }[] = [];
    for (let t = 0; t < batches; t++) {
      const ao = 4 * p.aOffsets[t]!;
      const bo = 4 * p.bOffsets[t]!;
      let pa = packedA.get(ao);
      if (pa === undefined) {
        pa = mem.malloc(packedASize(m, k) * 4);
        packedA.set(ao, pa);
        addTasks([kindA, rows.src + ao, pa, m, k, rows.x, rows.y], rowBlocks(m), MR * k);
      }
      let pb = packedB.get(bo);
      if (pb === undefined) {
        pb = mem.malloc(packedBSize(k, n) * 4);
        packedB.set(bo, pb);
        addTasks([PACK_B, p.b.ptr + bo, pb, n, k, 4 * p.b.rowStride, 4 * p.b.colStride], panels(n), NR * k);
      }
      const out = p.c + 4 * t * m * n;
      products.push(
        fit ? { pa, pb, pc: out, dst: 0 } : { pa, pb, pc: padded + 4 * t * paddedCSize(m, n), dst: out },
      );
    }
    if (whole) {
      const runs = evenRuns(wholeCost, this.threads);
      for (let t = 0; t < this.threads; t++) perThread[t] = wholeTasks.slice(runs[t], runs[t + 1]);
    }
    for (const list of perThread) {
      plan.taskStarts.push(plan.tasks.length);
      plan.tasks.push(...list);
    }
    plan.taskStarts.push(plan.tasks.length);
    const ldc = fit ? n : ldp;
    const job = (q: (typeof products)[number], rb0: number, rb1: number, pn0: number, pn1: number): void => {
      plan.jobs.push([q.pa, q.pb, q.pc, ldc, n, k, rb0, rb1, pn0, pn1, p.bias ?? 0, q.dst, n, m]);
    };
    if (batches === 1 && rowBlocks(m) < panels(n)) {
      // Few rows, many columns: split by columns (each thread then reads only its part of B).
      const np = panels(n);
      for (let t = 0; t < this.threads; t++) {
        plan.jobStarts.push(plan.jobs.length);
        const pn0 = Math.floor((np * t) / this.threads);
        const pn1 = Math.floor((np * (t + 1)) / this.threads);
        if (pn1 > pn0) job(products[0]!, 0, rowBlocks(m), pn0, pn1);
      }
    } else {
      // Row blocks of all products in order, cut into runs of whole blocks.
      const per = rowBlocks(m);
      const total = per * batches;
      for (let t = 0; t < this.threads; t++) {
        plan.jobStarts.push(plan.jobs.length);
        let r = Math.floor((total * t) / this.threads);
        const end = Math.floor((total * (t + 1)) / this.threads);
        while (r < end) {
          const q = Math.floor(r / per);
          const rb0 = r - q * per;
          const rb1 = Math.min(per, rb0 + end - r);
          job(products[q]!, rb0, rb1, 0, panels(n));
          r += rb1 - rb0;
        }
      }
    }
    plan.jobStarts.push(plan.jobs.length);
    return plan;
  }

  private dispatch(mem: GemmMemory, plan: Plan): void {
    const tasks = mem.malloc(plan.tasks.length * TASK_INTS * 4);
    const jobs = mem.malloc(plan.jobs.length * JOB_INTS * 4);
    const i32 = new Int32Array(this.memory.buffer);
    plan.tasks.forEach((t, i) => i32.set(t, tasks / 4 + i * TASK_INTS));
    plan.jobs.forEach((j, i) => i32.set(j, jobs / 4 + i * JOB_INTS));
    for (let t = 0; t <= this.threads; t++) {
      this.ctrl[TASK_STARTS + t] = plan.taskStarts[t]!;
      this.ctrl[STARTS + t] = plan.jobStarts[t]!;
    }
    this.ctrl[TASKS] = tasks;
    this.ctrl[JOBS] = jobs;
    this.ctrl[MODE] = ROUND_GEMM;
    Atomics.store(this.ctrl, PACKED, 0);
    Atomics.store(this.ctrl, REMAINING, this.threads - 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    const state = { arrived: false };
    this.finish(() => this.work(gemmExports(this.memory, this.path), state), state);
  }

  /**
   * Runs the calling thread's part of a round, then waits for the workers. If the part throws, the
   * thread still reaches the barrier (when it has not) and waits; the error is rethrown after, or an
   * error for a worker whose part threw.
   */
  private finish(part: () => void, state: { arrived: boolean }): void {
    let failure: Error | null = null;
    try {
      part();
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
      if (!state.arrived && Atomics.add(this.ctrl, PACKED, 1) === this.threads - 1)
        Atomics.notify(this.ctrl, PACKED);
    }
    spinWait(this.ctrl, REMAINING, (v) => v === 0);
    if (failure !== null) throw failure;
    if (Atomics.exchange(this.ctrl, FAILED, 0) === 1)
      throw new Error('GemmPool: a worker thread failed in its part of a round (a trap in @ml wasm code)');
  }

  /** The calling thread's part of a round (index 0): what the workers' `round` does, in TypeScript. */
  private work(ex: GemmExports, state: { arrived: boolean }): void {
    const ctrl = this.ctrl;
    const i32 = new Int32Array(this.memory.buffer);
    const f32 = new Float32Array(this.memory.buffer);
    const tasks = ctrl[TASKS]! >> 2;
    for (let t = ctrl[TASK_STARTS]!; t < ctrl[TASK_STARTS + 1]!; t++) {
      const q = tasks + t * TASK_INTS;
      const [kind, src, dst, size, k, x, y, b0, b1] = Array.from(i32.subarray(q, q + 9)) as TaskFields;
      if (kind === PACK_B) packB(ex, { ptr: src, rowStride: x / 4, colStride: y / 4 }, dst, k, size, b0, b1);
      else
        packRows(ex, { kind: kind === PACK_A ? 'strided' : 'gathered', m: size, src, x, y }, dst, k, b0, b1);
    }
    state.arrived = true;
    if (Atomics.add(ctrl, PACKED, 1) === this.threads - 1) Atomics.notify(ctrl, PACKED);
    else spinWait(ctrl, PACKED, (v) => v === this.threads);
    const jobs = ctrl[JOBS]! >> 2;
    for (let j = ctrl[STARTS]!; j < ctrl[STARTS + 1]!; j++) {
      const q = jobs + j * JOB_INTS;
      const [pa, pb, pc, ldc, n, k, rb0, rb1, pn0, pn1, bias, dst, ldd, m] = Array.from(
        i32.subarray(q, q + 14),
      ) as JobFields;
      const c0 = pn0 * NR;
      const c1 = Math.min(pn1 * NR, n);
      if (bias !== 0) {
        const row = f32.subarray(bias / 4 + c0, bias / 4 + c1);
        for (let r = rb0 * MR; r < rb1 * MR; r++) f32.set(row, pc / 4 + r * ldc + c0);
      }
      computeRows(ex, { pa, pb, pc, ldc, m, n, k, accumulate: bias !== 0 }, rb0, rb1, pn0, pn1);
      if (dst !== 0)
        for (let r = rb0 * MR; r < Math.min(rb1 * MR, m); r++) {
          const from = pc / 4 + r * ldc;
          f32.copyWithin(dst / 4 + r * ldd + c0, from + c0, from + c1);
        }
    }
  }

  /** How many call rounds this pool has run (for tests that must know the threads were used). */
  callRounds = 0;

  /** Modules whose functions the workers call: id, and where their bytes lie in the memory. */
  private readonly modules = new Map<Uint8Array, { id: number; ptr: number }>();

  /**
   * Makes the calls `lists[t]` on thread t, all threads at once; the calling thread makes `lists[0]`
   * through `own` (with its own instances of the same modules). Only on a pool computing in place: the
   * arguments are addresses in the heap.
   */
  calls(lists: PoolCall[][], own: (c: PoolCall) => void): void {
    if (this.disposed) throw new Error('GemmPool: used after dispose()');
    this.callRounds++;
    if (this.heap === null) throw new Error('GemmPool.calls: only a pool computing in place calls functions');
    const ints: number[] = [];
    const starts: number[] = [];
    for (let t = 0; t < this.threads; t++) {
      starts.push(ints.length);
      if (t === 0) continue;
      for (const c of lists[t] ?? []) {
        if (c.args.length > MAX_CALL_ARGS) throw new Error(`GemmPool.calls: ${c.args.length} arguments`);
        const m = c.module === null ? { id: 0, ptr: 0 } : this.registered(c.module);
        ints.push(m.id, m.ptr, c.module?.length ?? 0, c.fn, c.args.length, ...c.args);
      }
    }
    starts.push(ints.length);
    const table = this.heap.malloc(Math.max(1, ints.length) * 4);
    try {
      new Int32Array(this.memory.buffer).set(ints, table / 4);
      for (let t = 0; t <= this.threads; t++) this.ctrl[STARTS + t] = starts[t]!;
      this.ctrl[JOBS] = table;
      this.ctrl[MODE] = ROUND_CALLS;
      Atomics.store(this.ctrl, REMAINING, this.threads - 1);
      Atomics.add(this.ctrl, GEN, 1);
      Atomics.notify(this.ctrl, GEN);
      this.finish(
        () => {
          for (const c of lists[0] ?? []) own(c);
        },
        { arrived: true },
      );
    } finally {
      this.heap.free(table);
    }
  }

  /** The id of `bytes` among the modules the workers know, copying them into the heap on first use. */
  private registered(bytes: Uint8Array): { id: number; ptr: number } {
    let m = this.modules.get(bytes);
    if (m === undefined) {
      const ptr = this.heap!.malloc(bytes.length);
      new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
      this.modules.set(bytes, (m = { id: this.modules.size + 1, ptr }));
    }
    return m;
  }

  /** Stops and terminates the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
    if (this.heap !== null) {
      this.heap.free(this.ctrlPtr);
      for (const m of this.modules.values()) this.heap.free(m.ptr);
    }
  }
}

/** Waits until `until(ctrl[i])`: spins for SPIN_MS, then blocks in Atomics.wait. */
function spinWait(ctrl: Int32Array, i: number, until: (v: number) => boolean): void {
  let since = -1;
  for (let s = 1; ; s++) {
    const v = Atomics.load(ctrl, i);
    if (until(v)) return;
    if ((s & 255) !== 0) continue;
    const now = performance.now();
    if (since < 0) since = now;
    else if (now - since > SPIN_MS) Atomics.wait(ctrl, i, v);
  }
}

/** Whether `memory` is shared (false where the engine has no SharedArrayBuffer at all). */
export const isSharedMemory = (memory: WebAssembly.Memory): boolean =>
  typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
