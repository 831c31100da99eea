import { packBatch, type BatchProduct } from './batch.js';
import {
  computeRows,
  packRows,
  rowPacking,
  type RowPacking,
  KC,
  PANELS_PER_BLOCK,
  panels,
  rowBlocks,
  type GemmMemory,
  type PackedProduct,
} from './gemm.js';
import { gemmModuleBytes, MR, NR, type GemmPath } from './gemm-module.js';
import { gemmExports, nodeBuiltin, SHARED_MAX_PAGES } from './probe.js';

// Worker threads for large products: worker_threads in Node, Web Workers in cross-origin isolated
// browser workers (Atomics.wait cannot block a browser's main thread, so there the pool is never made).
// tfjs' wasm heap is not shared, so a product's operands are copied into one shared WebAssembly.Memory,
// B is packed there by the calling thread, and the row blocks of C are split between the caller and
// the workers, each packing the rows of A it computes (a single product; a batch's distinct A are packed
// by the caller); then C is copied back. Rows are computed whole (never a split of k), so any thread count
// gives the same bits. Workers block in Atomics.wait between products, are unref'd (they never keep a
// process alive) and are terminated by dispose().

// Control words (Int32 indices) at the start of the shared memory.
const GEN = 0; // bumped by the caller to start a round
const REMAINING = 1; // workers still busy in this round
const JOBS = 2; // byte address of the job table
const STOP = 3; // 1 = workers exit
const STARTS = 8; // STARTS + t: first job of thread t (STARTS + threads: the end)
/** Bytes reserved for the control words; scratch starts after them. */
const CONTROL_BYTES = 1024;
/** Most threads a pool runs (callers cap lower). */
export const MAX_THREADS = 64;
/**
 * Ints per job: pa, pb, pc, ldc, n, k, rb0, rb1, pn0, pn1, accumulate (1: C holds a bias to add to), then
 * how the job packs its rows of A first: kind (0: A is packed already, 1: strided, 2: gathered), m, src,
 * and the byte strides (row, column) or the byte addresses of the offset tables (rows, columns).
 */
const JOB_INTS = 16;
const A_PACKED = 0;
const A_STRIDED = 1;
const A_GATHERED = 2;

// The worker: instantiates the GEMM module on the shared memory, says 'ready', then runs its jobs
// every round. Plain JavaScript (no imports) so the same text runs as a Node eval worker or a Blob worker.
const WORKER_SOURCE = `
const start = (data, post) => {
  const ex = new WebAssembly.Instance(new WebAssembly.Module(data.bytes), { env: { memory: data.memory } }).exports;
  const ctrl = new Int32Array(data.memory.buffer, 0, ${CONTROL_BYTES / 4});
  const index = data.index;
  post('ready');
  let gen = 0;
  for (;;) {
    Atomics.wait(ctrl, ${GEN}, gen);
    const g = Atomics.load(ctrl, ${GEN});
    if (g === gen) continue;
    gen = g;
    if (Atomics.load(ctrl, ${STOP}) === 1) return;
    const jobs = new Int32Array(data.memory.buffer, Atomics.load(ctrl, ${JOBS}));
    for (let j = ctrl[${STARTS} + index]; j < ctrl[${STARTS} + index + 1]; j++) {
      const [pa, pb, pc, ldc, n, k, rb0, rb1, pn0, pn1, acc, kind, m, src, x, y] = jobs.subarray(j * ${JOB_INTS}, j * ${JOB_INTS} + ${JOB_INTS});
      for (let rb = rb0; rb < rb1 && kind !== ${A_PACKED}; rb++) {
        const i = rb * ${MR};
        const rows = Math.min(${MR}, m - i);
        if (kind === ${A_STRIDED}) ex.packA(src + i * x, pa + i * k * 4, rows, k, x, y);
        else ex.packAGather(src, pa + i * k * 4, rows, k, x + 4 * i, y);
      }
      const panelBytes = k * ${NR * 4};
      for (let jb = pn0; jb < pn1; jb += ${PANELS_PER_BLOCK}) {
        const npb = Math.min(${PANELS_PER_BLOCK}, pn1 - jb);
        for (let kb = 0; kb < k; kb += ${KC}) {
          const kc = Math.min(${KC}, k - kb);
          const b = pb + jb * panelBytes + kb * ${NR * 4};
          for (let rb = rb0; rb < rb1; rb++)
            ex.kernel(pa + (rb * k + kb) * ${MR * 4}, b, pc + (rb * ${MR} * ldc + jb * ${NR}) * 4, kc, npb, panelBytes, ldc * 4, kb > 0 || acc === 1 ? 1 : 0);
        }
      }
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

/** Row blocks [rb0, rb1) × column panels [pn0, pn1) of one product, and how to pack those rows of A first. */
type Job = [
  product: PackedProduct,
  rb0: number,
  rb1: number,
  pn0: number,
  pn1: number,
  rows: RowPacking | null,
];

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
  index: number;
}): Promise<AnyWorker> {
  const wt = nodeBuiltin<NodeWorkerThreads>('node:worker_threads');
  if (wt !== undefined) {
    const w = new wt.Worker(WORKER_SOURCE, { eval: true, workerData: data });
    w.unref();
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    return w;
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
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

/** A pool of `threads − 1` workers plus the calling thread, computing products in shared memory. */
export class GemmPool {
  private readonly memory: WebAssembly.Memory;
  private readonly ctrl: Int32Array;
  private top = CONTROL_BYTES;
  private disposed = false;

  private constructor(
    readonly threads: number,
    readonly path: GemmPath,
    memory: WebAssembly.Memory,
    private readonly workers: AnyWorker[],
  ) {
    this.memory = memory;
    this.ctrl = new Int32Array(memory.buffer, 0, CONTROL_BYTES / 4);
  }

  /** Starts `threads − 1` workers (threads ≥ 2, ≤ MAX_THREADS) computing with `path`. */
  static async create(threads: number, path: GemmPath): Promise<GemmPool> {
    const memory = new WebAssembly.Memory({ initial: 16, maximum: SHARED_MAX_PAGES, shared: true });
    const bytes = gemmModuleBytes(path, { shared: true, maxPages: SHARED_MAX_PAGES });
    const workers: AnyWorker[] = [];
    try {
      for (let i = 1; i < threads; i++) workers.push(await startWorker({ bytes, memory, index: i }));
    } catch (e) {
      for (const w of workers) await w.terminate();
      throw e;
    }
    return new GemmPool(threads, path, memory, workers);
  }

  private readonly mem: GemmMemory = {
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
   * Runs `p`, whose pointers are byte offsets into `heap` (another memory; A spans `aFloats` floats
   * from a.ptr, B `bFloats` from b.ptr), writing C into `heap`.
   */
  run(heap: ArrayBuffer | SharedArrayBuffer, p: BatchProduct, aFloats: number, bFloats: number): void {
    if (this.disposed) throw new Error('GemmPool: used after dispose()');
    const { m, n } = p;
    const batches = p.aOffsets.length;
    this.top = CONTROL_BYTES;
    const sa = this.mem.malloc(aFloats * 4);
    const sb = this.mem.malloc(bFloats * 4);
    const sc = this.mem.malloc(m * n * batches * 4);
    const sbias = p.bias === undefined ? undefined : this.mem.malloc(n * 4);
    let f = this.mem.f32();
    f.set(new Float32Array(heap, p.a.ptr, aFloats), sa / 4);
    f.set(new Float32Array(heap, p.b.ptr, bFloats), sb / 4);
    if (p.bias !== undefined && sbias !== undefined) f.set(new Float32Array(heap, p.bias, n), sbias / 4);
    const ex = gemmExports(this.memory, this.path);
    const shared: BatchProduct = { ...p, a: { ...p.a, ptr: sa }, b: { ...p.b, ptr: sb }, c: sc, bias: sbias };
    // One product split by rows: each thread packs the rows of A it computes.
    const byRows = batches === 1 && rowBlocks(m) >= panels(n);
    const rows = byRows ? rowPacking(this.mem, shared.a, m, p.k) : null;
    const packed = packBatch(ex, this.mem, shared, byRows);
    const jobs = this.split(packed.products, rows);
    this.dispatch(jobs);
    packed.finish();
    f = this.mem.f32();
    new Float32Array(heap, p.c, m * n * batches).set(f.subarray(sc / 4, sc / 4 + m * n * batches));
  }

  /**
   * Splits the work evenly over the threads: one job list per thread. A single product with fewer row
   * blocks than column panels is split by columns (each thread then reads only its part of B);
   * otherwise the row blocks of all products are split.
   */
  private split(products: PackedProduct[], rows: RowPacking | null): Job[][] {
    if (products.length === 1 && rowBlocks(products[0]!.m) < panels(products[0]!.n)) {
      const p = products[0]!;
      const np = panels(p.n);
      return Array.from({ length: this.threads }, (_, t) => {
        const pn0 = Math.floor((np * t) / this.threads);
        const pn1 = Math.floor((np * (t + 1)) / this.threads);
        return pn1 > pn0 ? [[p, 0, rowBlocks(p.m), pn0, pn1, null] as Job] : [];
      });
    }
    const total = products.reduce((s, p) => s + rowBlocks(p.m), 0);
    const lists: Job[][] = [];
    let prod = 0;
    let rb = 0;
    for (let t = 0; t < this.threads; t++) {
      let left = Math.floor((total * (t + 1)) / this.threads) - Math.floor((total * t) / this.threads);
      const list: Job[] = [];
      while (left > 0) {
        const p = products[prod]!;
        const take = Math.min(left, rowBlocks(p.m) - rb);
        list.push([p, rb, rb + take, 0, panels(p.n), rows]);
        left -= take;
        rb += take;
        if (rb === rowBlocks(p.m)) {
          prod++;
          rb = 0;
        }
      }
      lists.push(list);
    }
    return lists;
  }

  private dispatch(lists: Job[][]): void {
    const count = lists.reduce((s, l) => s + l.length, 0);
    const table = this.mem.malloc(count * JOB_INTS * 4);
    const jobs = new Int32Array(this.memory.buffer, table, count * JOB_INTS);
    let j = 0;
    for (let t = 0; t < lists.length; t++) {
      this.ctrl[STARTS + t] = j;
      for (const [p, rb0, rb1, pn0, pn1, r] of lists[t]!) {
        const a =
          r === null
            ? [A_PACKED, 0, 0, 0, 0]
            : [r.kind === 'strided' ? A_STRIDED : A_GATHERED, r.m, r.src, r.x, r.y];
        jobs.set(
          [p.pa, p.pb, p.pc, p.ldc, p.n, p.k, rb0, rb1, pn0, pn1, p.accumulate === true ? 1 : 0, ...a],
          JOB_INTS * j++,
        );
      }
    }
    this.ctrl[STARTS + lists.length] = j;
    Atomics.store(this.ctrl, JOBS, table);
    Atomics.store(this.ctrl, REMAINING, this.threads - 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    const ex = gemmExports(this.memory, this.path);
    for (const [p, rb0, rb1, pn0, pn1, r] of lists[0]!) {
      if (r !== null) packRows(ex, r, p.pa, p.k, rb0, rb1);
      computeRows(ex, p, rb0, rb1, pn0, pn1);
    }
    for (;;) {
      const left = Atomics.load(this.ctrl, REMAINING);
      if (left === 0) break;
      Atomics.wait(this.ctrl, REMAINING, left);
    }
  }

  /** Stops and terminates the workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
