import { MC_BLOCKS, readers, type BatchProduct } from './batch.js';
import {
  computeRows,
  copyOut,
  fillRows,
  KC,
  packB,
  packRows,
  PANELS_PER_BLOCK,
  packedASize,
  packedBSize,
  paddedBias,
  paddedCSize,
  panels,
  rowBlocks,
  rowPacking,
  tilesFit,
  WIDE_MIN_WALK_BYTES,
  type GemmMemory,
} from './gemm.js';
import { gemmModuleBytes, MR, NR, WIDE, type GemmExports, type GemmPath } from './gemm-module.js';
import { gemmExports, nodeBuiltin, SHARED_MAX_PAGES } from './probe.js';

// Worker threads for large products: worker_threads in Node, Web Workers in cross-origin isolated
// browser workers (Atomics.wait cannot block a browser's main thread, so there the pool is never made).
// Where the tensors' heap is a shared memory (tfjs' binary made shared, ../shared-heap.ts) the workers
// instantiate the GEMM on it and work on tensors in place; otherwise a product's operands are copied into
// the pool's own shared memory and C is copied back.
// A round is a list of units of work that every thread, the calling one included, claims one at a time
// (an atomic counter) until none is left; the caller then waits only for units already claimed. A worker
// that wakes late, or that the OS or another thread keeps off a core, so takes fewer units instead of
// holding the round up (a 2-core machine running V8's own helper threads does that often). A product's
// round has two phases: units that pack the operands several products share (shares of their row blocks
// or column panels), then, once every packing unit is done, units that compute C: runs of whole row
// blocks (or, for a product with fewer row blocks than column panels, runs of whole column panels; for a
// batch of many products, runs of whole products), starting from the bias where there is one and copying
// a padded C out. A compute unit packs the operands only its products read itself, just before using
// them: an A in runs of at most MC_BLOCKS row blocks into a buffer of its own, so packed rows are read
// back from the thread's cache. Rows are computed
// whole (never a split of k), so whichever thread computes a unit, the bits are the same. A round can
// instead be a list of parts, each a list of calls to any wasm module @ml emits (other kernels split by
// disjoint parts of their output; ../kernels/simd-map splitCall). Workers block in Atomics.wait between
// rounds (after a short spin: products come in bursts), are unref'd (they never keep a process alive) and
// are terminated by dispose().

// Control words (Int32 indices) at the start of the pool's control block.
const GEN = 0; // bumped by the caller to start a round
/**
 * The next unit to claim, tagged with the round: (GEN mod 2^TAG_BITS) << UNIT_BITS | unit. A thread that
 * read an older round's GEN cannot claim a unit of a newer one (the tag would repeat only after 2^20
 * rounds, all within one thread's single stall between two instructions).
 */
const CLAIM = 1;
const TABLE = 2; // byte address of the unit table: [from, to) of each unit's items, 2 ints per unit
const STOP = 3; // 1 = workers exit
const DONE = 4; // units finished in this round
const UNITS = 5; // units in this round
const MODE = 6; // what a round runs: ROUND_GEMM, or ROUND_CALLS (parts of function calls)
const ROUND_GEMM = 0;
const ROUND_CALLS = 1;
const FAILED = 7; // set by a worker whose unit threw
const PACK_UNITS = 8; // ROUND_GEMM: units [0, PACK_UNITS) pack, the rest compute once all of those are done
const TASKS = 9; // ROUND_GEMM: byte address of the packing task table
const JOBS = 10; // byte address of the compute job table, or of the calls of a ROUND_CALLS round
const UNIT_BITS = 12;
const UNIT_MASK = (1 << UNIT_BITS) - 1;
const TAG_MASK = (1 << (32 - UNIT_BITS)) - 1;
/** Most units in a round (UNIT_MASK itself marks a round being set up: nothing to claim). */
const MAX_UNITS = UNIT_MASK - 1;
/** Compute units per thread of a product: enough that a late thread's share is taken by the others. */
const COMPUTE_UNITS_PER_THREAD = 4;
/** Packing shares of each operand per thread. */
const PACK_UNITS_PER_THREAD = 2;
/** Most threads a pool runs (callers cap lower). */
export const MAX_THREADS = 64;
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
 * bias (byte address of the bias C starts from, padded to whole panels, 0: none), dst, ldd, m (dst ≠ 0: C is padded scratch,
 * copy the job's part of its m×n corner to dst, row stride ldd), t0, t1 (packing tasks [t0, t1) the job
 * runs first: its rows of an A only its product reads, and such a B in a batch split by whole products).
 */
const JOB_INTS = 16;
/**
 * A ROUND_CALLS round: unit u makes the calls at ints [from, to) of the table at JOBS, each: module id (0:
 * the GEMM module itself), byte address and length of the module's bytes in the memory, the export's
 * index, the argument count, then the i32 arguments.
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
  t0: number,
  t1: number,
];

/** The tensors' heap: its memory and allocator (main thread only). */
export interface Heap {
  memory(): WebAssembly.Memory;
  malloc(bytes: number): number;
  free(ptr: number): void;
}

// A thread's side of a round: claiming units, packing, computing. Plain JavaScript shared by the worker
// text below and (through the same text's semantics) GemmPool's calling-thread code: keep in step.
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
const claim = (ctrl, tag) => {
  for (;;) {
    const w = Atomics.load(ctrl, ${CLAIM});
    const u = w & ${UNIT_MASK};
    if (w >>> ${UNIT_BITS} !== tag || u >= Atomics.load(ctrl, ${UNITS})) return -1;
    if (Atomics.compareExchange(ctrl, ${CLAIM}, w, w + 1) === w) return u;
  }
};
const unitDone = (ctrl) => {
  const done = Atomics.add(ctrl, ${DONE}, 1) + 1;
  if (done === ctrl[${PACK_UNITS}] || done === ctrl[${UNITS}]) Atomics.notify(ctrl, ${DONE});
};
const pack = (ex, i32, q) => {
  // Fields read one by one: destructuring a subarray goes through an iterator, ~9× slower.
  const kind = i32[q], src = i32[q + 1], dst = i32[q + 2], size = i32[q + 3], k = i32[q + 4];
  const x = i32[q + 5], y = i32[q + 6], b0 = i32[q + 7], b1 = i32[q + 8];
  let b = b0;
  if (kind === ${PACK_B} && y === 4 && k * Math.abs(x) >= ${WIDE_MIN_WALK_BYTES})
    for (const full = Math.min(b1, Math.floor(size / ${NR})); b + ${WIDE} <= full; b += ${WIDE})
      ex.packBWide(src + 4 * b * ${NR}, dst + 4 * b * ${NR} * k, k, x, ${4 * NR} * k);
  if (kind === ${PACK_A} && x === 4 && k * Math.abs(y) >= ${WIDE_MIN_WALK_BYTES})
    for (const full = Math.min(b1, Math.floor(size / ${MR})); b + ${WIDE} <= full; b += ${WIDE})
      ex.packAWide(src + 4 * b * ${MR}, dst + 4 * b * ${MR} * k, k, y, ${4 * MR} * k);
  for (; b < b1; b++) {
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
const compute = (ex, i32, tasks, q) => {
  const pa = i32[q], pb = i32[q + 1], pc = i32[q + 2], ldc = i32[q + 3], n = i32[q + 4], k = i32[q + 5];
  const rb0 = i32[q + 6], rb1 = i32[q + 7], pn0 = i32[q + 8], pn1 = i32[q + 9], bias = i32[q + 10];
  const dst = i32[q + 11], ldd = i32[q + 12], m = i32[q + 13], t0 = i32[q + 14], t1 = i32[q + 15];
  for (let t = t0; t < t1; t++) pack(ex, i32, tasks + t * ${TASK_INTS});
  const c0 = pn0 * ${NR};
  const c1 = Math.min(pn1 * ${NR}, n);
  const panelBytes = k * ${NR * 4};
  for (let jb = pn0; jb < pn1; jb += ${PANELS_PER_BLOCK}) {
    const npb = Math.min(${PANELS_PER_BLOCK}, pn1 - jb);
    for (let kb = 0; kb < k; kb += ${KC}) {
      const kc = Math.min(${KC}, k - kb);
      const b = pb + jb * panelBytes + kb * ${NR * 4};
      for (let rb = rb0; rb < rb1; rb++)
        ex.kernel(pa + (rb * k + kb) * ${MR * 4}, b, pc + (rb * ${MR} * ldc + jb * ${NR}) * 4, kc, npb, panelBytes, ldc * 4, kb > 0 ? 1 : bias !== 0 ? bias + jb * ${NR * 4} : 0);
    }
  }
  const r0 = rb0 * ${MR};
  if (dst !== 0 && r0 < m)
    ex.copyRows(pc + 4 * (r0 * ldc + c0), 4 * ldc, dst + 4 * (r0 * ldd + c0), 4 * ldd, Math.min(rb1 * ${MR}, m) - r0, 4 * (c1 - c0));
};
const gemmUnit = (ex, memory, ctrl, u) => {
  const i32 = new Int32Array(memory.buffer);
  const from = i32[(ctrl[${TABLE}] >> 2) + 2 * u], to = i32[(ctrl[${TABLE}] >> 2) + 2 * u + 1];
  const packUnits = ctrl[${PACK_UNITS}];
  if (u < packUnits) {
    for (let t = from; t < to; t++) pack(ex, i32, (ctrl[${TASKS}] >> 2) + t * ${TASK_INTS});
    return;
  }
  spinWait(ctrl, ${DONE}, (v) => v >= packUnits);
  for (let j = from; j < to; j++) compute(ex, i32, ctrl[${TASKS}] >> 2, (ctrl[${JOBS}] >> 2) + j * ${JOB_INTS});
};
`;

// The worker: instantiates the GEMM module on the shared memory, says 'ready', then, every time GEN
// moves, claims units of the round until none is left: a product's, or parts of calls of functions of
// another module @ml emitted (compiled from its bytes in the memory on first use). Plain JavaScript (no
// imports) so the same text runs as a Node eval worker or a Blob worker.
const WORKER_MAIN = `${WORKER_SOURCE}
const modules = new Map();
const callsUnit = (memory, ctrl, u) => {
  const i32 = new Int32Array(memory.buffer);
  const base = ctrl[${JOBS}] >> 2;
  const from = i32[(ctrl[${TABLE}] >> 2) + 2 * u], to = i32[(ctrl[${TABLE}] >> 2) + 2 * u + 1];
  for (let q = base + from; q < base + to; ) {
    const id = i32[q], ptr = i32[q + 1], len = i32[q + 2], fn = i32[q + 3], nargs = i32[q + 4];
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
    const tag = gen & ${TAG_MASK};
    for (let u = claim(ctrl, tag); u >= 0; u = claim(ctrl, tag)) {
      // A unit that throws (a trap) marks the round failed; it still counts as done, so the caller never
      // waits forever and throws instead.
      try {
        if (ctrl[${MODE}] === ${ROUND_CALLS}) callsUnit(data.memory, ctrl, u);
        else gemmUnit(ex, data.memory, ctrl, u);
      } catch {
        Atomics.store(ctrl, ${FAILED}, 1);
      }
      unitDone(ctrl);
    }
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

/** Packing tasks (TASK_INTS each) and compute jobs (JOB_INTS each) of one round, grouped in units. */
interface Plan {
  tasks: number[][];
  /** Packing unit u packs tasks [packUnits[u], packUnits[u + 1]). */
  packUnits: number[];
  jobs: number[][];
  /** Compute unit u computes jobs [computeUnits[u], computeUnits[u + 1]). */
  computeUnits: number[];
}

/** Splits items of the given costs into `runs` contiguous runs of about equal cost: run starts. */
function evenRuns(cost: number[], runs: number): number[] {
  const total = cost.reduce((s, c) => s + c, 0);
  const starts = [0];
  let acc = 0;
  let i = 0;
  for (let t = 1; t < runs; t++) {
    const goal = (total * t) / runs;
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
      for (let i = 1; i < threads; i++) workers.push(await startWorker({ bytes, memory, ctrl: ctrlPtr }));
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
      else fillRows(gemmExports(this.memory, this.path), p.bias, p.c, n, m * batches, n);
      return;
    }
    const plan = this.plan(mem, p);
    this.dispatch(mem, plan);
  }

  /** The packing tasks and compute jobs of `p` (scratch for packed operands and a padded C from `mem`). */
  private plan(mem: GemmMemory, p: BatchProduct): Plan {
    const { m, n, k } = p;
    const batches = p.aOffsets.length;
    const plan: Plan = { tasks: [], packUnits: [0], jobs: [], computeUnits: [0] };
    const rows = rowPacking(mem, p.a, m, k);
    const kindA = rows.kind === 'strided' ? PACK_A : PACK_A_GATHER;
    const target = COMPUTE_UNITS_PER_THREAD * this.threads;
    // How C is split into units: a batch of at least `target` products by whole products; one product
    // with fewer row blocks than column panels by runs of panels; otherwise by runs of row blocks.
    const byProduct = batches >= target;
    const byColumns = !byProduct && batches === 1 && rowBlocks(m) < panels(n);
    const units = byProduct
      ? target
      : byColumns
        ? Math.min(panels(n), target)
        : Math.min(rowBlocks(m) * batches, target);
    // An operand only one product reads is packed by the unit computing with it, just before (no wait for
    // every thread's packing, and the packed values are still in that thread's cache): an A in runs of at
    // most MC_BLOCKS row blocks, into a buffer of the unit's own (a convolution's A is ~30 MB packed whole),
    // a B (in a batch split by products) whole. Shared operands are packed first, by every thread.
    const [readersA, readersB] = [readers(p.aOffsets), readers(p.bOffsets)];
    const ownA = p.aOffsets.map((o) => !byColumns && readersA.get(o) === 1);
    const ownB = p.bOffsets.map((o) => byProduct && readersB.get(o) === 1);
    const chunk = Math.min(MC_BLOCKS, rowBlocks(m)) * MR * k;
    const unitChunks = ownA.includes(true) ? Array.from({ length: units }, () => mem.malloc(chunk * 4)) : [];
    // An owned B goes to a buffer of its unit's own too (a unit computes its products one after another).
    const unitBs = ownB.includes(true)
      ? Array.from({ length: units }, () => mem.malloc(packedBSize(k, n) * 4))
      : [];
    // Many distinct shared operands: whole operands, in runs of about equal cost. Few (a single
    // product): packing unit s packs the s-th share of the blocks of each.
    const shares = PACK_UNITS_PER_THREAD * this.threads;
    const shared = (offsets: readonly number[], own: boolean[]): number =>
      new Set(offsets.filter((_, t) => !own[t])).size;
    const whole = shared(p.aOffsets, ownA) + shared(p.bOffsets, ownB) >= 2 * shares;
    const shareTasks: number[][][] = Array.from({ length: shares }, () => []);
    const wholeCost: number[] = [];
    const addTasks = (task: number[], blocks: number, blockCost: number): void => {
      if (whole) {
        plan.tasks.push([...task, 0, blocks]);
        wholeCost.push(blocks * blockCost);
        return;
      }
      for (let s = 0; s < shares; s++) {
        const b0 = Math.floor((blocks * s) / shares);
        const b1 = Math.floor((blocks * (s + 1)) / shares);
        if (b1 > b0) shareTasks[s]!.push([...task, b0, b1]);
      }
    };
    const packedA = new Map<number, number>();
    const packedB = new Map<number, number>();
    const fit = tilesFit(m, n);
    const ldp = Math.ceil(n / NR) * NR;
    const padded = fit ? 0 : mem.malloc(paddedCSize(m, n) * batches * 4);
    const bias = p.bias === undefined ? 0 : paddedBias(mem, (floats) => mem.malloc(4 * floats), p.bias, n);
    /** Per product: packed operands (0: packed by its unit, into the unit's buffer), C. */
    const products: { pa: number; pb: number; pc: number; dst: number }[] = [];
    const aTask = (t: number, dst: number): number[] => [
      kindA,
      rows.src + 4 * p.aOffsets[t]!,
      dst,
      m,
      k,
      rows.x,
      rows.y,
    ];
    const bTask = (t: number, dst: number): number[] => [
      PACK_B,
      p.b.ptr + 4 * p.bOffsets[t]!,
      dst,
      n,
      k,
      4 * p.b.rowStride,
      4 * p.b.colStride,
    ];
    for (let t = 0; t < batches; t++) {
      const ao = 4 * p.aOffsets[t]!;
      const bo = 4 * p.bOffsets[t]!;
      let pa = ownA[t] ? 0 : packedA.get(ao);
      if (pa === undefined) {
        pa = mem.malloc(packedASize(m, k) * 4);
        packedA.set(ao, pa);
        addTasks(aTask(t, pa), rowBlocks(m), MR * k);
      }
      let pb = ownB[t] ? 0 : packedB.get(bo);
      if (pb === undefined) {
        pb = mem.malloc(packedBSize(k, n) * 4);
        packedB.set(bo, pb);
        addTasks(bTask(t, pb), panels(n), NR * k);
      }
      const out = p.c + 4 * t * m * n;
      products.push(
        fit ? { pa, pb, pc: out, dst: 0 } : { pa, pb, pc: padded + 4 * t * paddedCSize(m, n), dst: out },
      );
    }
    if (whole) plan.packUnits = wholeCost.length === 0 ? [0] : evenRuns(wholeCost, shares);
    else
      for (const list of shareTasks) {
        if (list.length === 0) continue;
        plan.tasks.push(...list);
        plan.packUnits.push(plan.tasks.length);
      }
    const ldc = fit ? n : ldp;
    const job = (
      pa: number,
      pb: number,
      t: number,
      rb0: number,
      rb1: number,
      pn0: number,
      pn1: number,
      tasks: number[][],
    ) => {
      const q = products[t]!;
      const t0 = plan.tasks.length;
      plan.tasks.push(...tasks);
      plan.jobs.push([pa, pb, q.pc, ldc, n, k, rb0, rb1, pn0, pn1, bias, q.dst, n, m, t0, t0 + tasks.length]);
    };
    /** Jobs of unit u computing row blocks [rb0, rb1) of product t (all columns). */
    const rowsOf = (u: number, t: number, rb0: number, rb1: number): void => {
      const q = products[t]!;
      // The unit packs an owned B before its product's first rows (whole products: the unit's own buffer).
      const pb = ownB[t] ? unitBs[u]! : q.pb;
      const first = rb0 === 0 && ownB[t] ? [[...bTask(t, pb), 0, panels(n)]] : [];
      if (!ownA[t]) return job(q.pa, pb, t, rb0, rb1, 0, panels(n), first);
      for (let c0 = rb0; c0 < rb1; c0 += MC_BLOCKS) {
        const c1 = Math.min(rb1, c0 + MC_BLOCKS);
        // Row block c0 lands at the start of the unit's buffer: the packed A's base is taken back by c0 blocks.
        const base = unitChunks[u]! - 4 * c0 * MR * k;
        job(base, pb, t, c0, c1, 0, panels(n), [...(c0 === rb0 ? first : []), [...aTask(t, base), c0, c1]]);
      }
    };
    for (let u = 0; u < units; u++) {
      if (byProduct) {
        for (let t = Math.floor((batches * u) / units); t < Math.floor((batches * (u + 1)) / units); t++)
          rowsOf(u, t, 0, rowBlocks(m));
      } else if (byColumns) {
        // Few rows, many columns: each unit reads only its part of B.
        const np = panels(n);
        job(
          products[0]!.pa,
          products[0]!.pb,
          0,
          0,
          rowBlocks(m),
          Math.floor((np * u) / units),
          Math.floor((np * (u + 1)) / units),
          [],
        );
      } else {
        // Row blocks of all products in order, cut into runs of whole blocks.
        const per = rowBlocks(m);
        const total = per * batches;
        let r = Math.floor((total * u) / units);
        const end = Math.floor((total * (u + 1)) / units);
        while (r < end) {
          const t = Math.floor(r / per);
          const rb0 = r - t * per;
          const rb1 = Math.min(per, rb0 + end - r);
          rowsOf(u, t, rb0, rb1);
          r += rb1 - rb0;
        }
      }
      plan.computeUnits.push(plan.jobs.length);
    }
    return plan;
  }

  private dispatch(mem: GemmMemory, plan: Plan): void {
    const packUnits = plan.packUnits.length - 1;
    const units = packUnits + plan.computeUnits.length - 1;
    const table = mem.malloc(2 * units * 4);
    const tasks = mem.malloc(plan.tasks.length * TASK_INTS * 4);
    const jobs = mem.malloc(plan.jobs.length * JOB_INTS * 4);
    const i32 = new Int32Array(this.memory.buffer);
    plan.tasks.forEach((t, i) => i32.set(t, tasks / 4 + i * TASK_INTS));
    plan.jobs.forEach((j, i) => i32.set(j, jobs / 4 + i * JOB_INTS));
    const bounds = (starts: number[]) => starts.slice(1).flatMap((to, u) => [starts[u]!, to]);
    i32.set([...bounds(plan.packUnits), ...bounds(plan.computeUnits)], table / 4);
    const ex = gemmExports(this.memory, this.path);
    this.round({ mode: ROUND_GEMM, table, units, packUnits, tasks, jobs }, (u) => this.gemmUnit(ex, u));
  }

  /**
   * Runs a round: publishes it, claims and runs units here (`run`) alongside the workers until none is
   * left, then waits for the units the workers claimed. A unit that throws here is rethrown after the
   * round; one that throws on a worker makes the round throw.
   */
  private round(
    r: { mode: number; table: number; units: number; packUnits: number; tasks: number; jobs: number },
    run: (u: number) => void,
  ): void {
    if (r.units > MAX_UNITS) throw new Error(`GemmPool: ${r.units} units in a round (at most ${MAX_UNITS})`);
    const ctrl = this.ctrl;
    const gen = (ctrl[GEN]! + 1) | 0;
    const tag = gen & TAG_MASK;
    // Close claiming under the new tag before the round's words change: a thread still in the last
    // round, holding its words, can then claim nothing.
    Atomics.store(ctrl, CLAIM, (tag << UNIT_BITS) | UNIT_MASK);
    Atomics.store(ctrl, MODE, r.mode);
    Atomics.store(ctrl, TABLE, r.table);
    Atomics.store(ctrl, UNITS, r.units);
    Atomics.store(ctrl, PACK_UNITS, r.packUnits);
    Atomics.store(ctrl, TASKS, r.tasks);
    Atomics.store(ctrl, JOBS, r.jobs);
    Atomics.store(ctrl, DONE, 0);
    Atomics.store(ctrl, FAILED, 0);
    Atomics.store(ctrl, CLAIM, tag << UNIT_BITS);
    Atomics.store(ctrl, GEN, gen);
    Atomics.notify(ctrl, GEN);
    let failure: Error | null = null;
    for (let u = claim(ctrl, tag); u >= 0; u = claim(ctrl, tag)) {
      try {
        run(u);
      } catch (e) {
        failure ??= e instanceof Error ? e : new Error(`GemmPool: a unit threw ${typeof e}`);
      }
      unitDone(ctrl);
    }
    spinWait(ctrl, DONE, (v) => v === r.units);
    if (failure !== null) throw failure;
    if (Atomics.exchange(ctrl, FAILED, 0) === 1)
      throw new Error('GemmPool: a worker thread failed in its part of a round (a trap in @ml wasm code)');
  }

  /** Runs unit `u` of a product's round here: what the workers' `gemmUnit` does, in TypeScript. */
  private gemmUnit(ex: GemmExports, u: number): void {
    const ctrl = this.ctrl;
    const i32 = new Int32Array(this.memory.buffer);
    const [from, to] = unitRange(i32, ctrl, u);
    const packUnits = ctrl[PACK_UNITS]!;
    const tasks = ctrl[TASKS]! >> 2;
    if (u < packUnits) {
      for (let t = from; t < to; t++) packTask(ex, i32, tasks + t * TASK_INTS);
      return;
    }
    spinWait(ctrl, DONE, (v) => v >= packUnits);
    const jobs = ctrl[JOBS]! >> 2;
    for (let j = from; j < to; j++) {
      const q = jobs + j * JOB_INTS;
      const [pa, pb, pc, ldc, n, k, rb0, rb1, pn0, pn1, bias, dst, ldd, m, t0, t1] = ints<JobFields>(
        i32,
        q,
        JOB_INTS,
      );
      for (let t = t0; t < t1; t++) packTask(ex, i32, tasks + t * TASK_INTS);
      const c0 = pn0 * NR;
      const c1 = Math.min(pn1 * NR, n);
      computeRows(ex, { pa, pb, pc, ldc, m, n, k, bias: bias === 0 ? undefined : bias }, rb0, rb1, pn0, pn1);
      const r0 = rb0 * MR;
      if (dst !== 0 && r0 < m)
        copyOut(
          ex,
          pc + 4 * (r0 * ldc + c0),
          ldc,
          dst + 4 * (r0 * ldd + c0),
          ldd,
          Math.min(rb1 * MR, m) - r0,
          c1 - c0,
        );
    }
  }

  /** How many call rounds this pool has run (for tests that must know the threads were used). */
  callRounds = 0;

  /** Modules whose functions the workers call: id, and where their bytes lie in the memory. */
  private readonly modules = new Map<Uint8Array, { id: number; ptr: number }>();

  /**
   * Makes the calls of every part in `parts`, each part on whichever thread claims it first (a part's
   * calls run in order on one thread; parts run at once and must not depend on each other). The calling
   * thread makes its parts' calls through `own` (with its own instances of the same modules). Only on a
   * pool computing in place: the arguments are addresses in the heap.
   */
  calls(parts: PoolCall[][], own: (c: PoolCall) => void): void {
    if (this.disposed) throw new Error('GemmPool: used after dispose()');
    this.callRounds++;
    if (this.heap === null) throw new Error('GemmPool.calls: only a pool computing in place calls functions');
    const used = parts.filter((list) => list.length > 0);
    const ints: number[] = [];
    const bounds: number[] = [];
    for (const list of used) {
      bounds.push(ints.length);
      for (const c of list) {
        if (c.args.length > MAX_CALL_ARGS) throw new Error(`GemmPool.calls: ${c.args.length} arguments`);
        const m = c.module === null ? { id: 0, ptr: 0 } : this.registered(c.module);
        ints.push(m.id, m.ptr, c.module?.length ?? 0, c.fn, c.args.length, ...c.args);
      }
      bounds.push(ints.length);
    }
    const table = this.heap.malloc(Math.max(1, bounds.length + ints.length) * 4);
    try {
      const i32 = new Int32Array(this.memory.buffer);
      i32.set(bounds, table / 4);
      i32.set(ints, table / 4 + bounds.length);
      const jobs = table + 4 * bounds.length;
      this.round({ mode: ROUND_CALLS, table, units: used.length, packUnits: 0, tasks: 0, jobs }, (u) => {
        for (const c of used[u]!) own(c);
      });
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

/**
 * `n` ints of `i32` from `q`: a task's or a job's fields (an array filled by index; `Array.from` of a
 * subarray allocates through an iterator, ~50× slower, and a round reads hundreds of these).
 */
function ints<T extends number[]>(i32: Int32Array, q: number, n: number): T {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = i32[q + i]!;
  return out as T;
}

/** Runs the packing task at int `q` of `i32` (what the workers' `pack` does). */
function packTask(ex: GemmExports, i32: Int32Array, q: number): void {
  const [kind, src, dst, size, k, x, y, b0, b1] = ints<TaskFields>(i32, q, 9);
  if (kind === PACK_B) packB(ex, { ptr: src, rowStride: x / 4, colStride: y / 4 }, dst, k, size, b0, b1);
  else packRows(ex, { kind: kind === PACK_A ? 'strided' : 'gathered', m: size, src, x, y }, dst, k, b0, b1);
}

/** Claims the next unit of the round tagged `tag`: its index, or −1 when none is left (or the round is over). */
function claim(ctrl: Int32Array, tag: number): number {
  for (;;) {
    const w = Atomics.load(ctrl, CLAIM);
    const u = w & UNIT_MASK;
    if (w >>> UNIT_BITS !== tag || u >= Atomics.load(ctrl, UNITS)) return -1;
    if (Atomics.compareExchange(ctrl, CLAIM, w, w + 1) === w) return u;
  }
}

/** Counts a unit done, waking threads that wait for the packing units or for the whole round. */
function unitDone(ctrl: Int32Array): void {
  const done = Atomics.add(ctrl, DONE, 1) + 1;
  if (done === ctrl[PACK_UNITS] || done === ctrl[UNITS]) Atomics.notify(ctrl, DONE);
}

/** [from, to) of unit `u`'s items in the round's unit table. */
function unitRange(i32: Int32Array, ctrl: Int32Array, u: number): [number, number] {
  const q = (ctrl[TABLE]! >> 2) + 2 * u;
  return [i32[q]!, i32[q + 1]!];
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
