import { batchGemm, type BatchProduct } from './batch.js';
import { canUseThreads, GemmPool, MAX_THREADS, type Heap } from './pool.js';
import { gemmExports, gemmPath, nodeBuiltin } from './probe.js';

// The process-wide thread setting of @ml's GEMM (useBackend's `threads` option) and the entry point
// the wasm kernels call: large products go to the worker pool, the rest run on the calling thread in
// the tfjs heap.

/** Default cap on threads (more rarely pays off for the products training emits). */
export const DEFAULT_MAX_THREADS = 8;

/**
 * Products with at least this many multiply-adds go to the pool: below it, copying operands into
 * shared memory and waking workers costs more than the second core saves (measured with
 * bench/gemm-threads.ts).
 */
export const THREADED_MIN_MACS = 1 << 22;

/**
 * The workers, kept (blocked, idle) while threads are set back to 1 so that a later switch back reuses
 * them: a fresh worker starts on baseline-compiled wasm until V8 tiers it up, which skews the first
 * products after every switch.
 */
let pool: GemmPool | null = null;
/** Whether large products use `pool` now. */
let active = false;
let threadedRuns = 0;

/** How many products the pool has run (for tests that must know the threads were used). */
export function threadedProducts(): number {
  return threadedRuns;
}

/** The machine's cores, capped at {@link DEFAULT_MAX_THREADS}; 1 where threads cannot be used. */
export function defaultThreads(): number {
  if (!canUseThreads()) return 1;
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  const cores =
    os !== undefined ? (os.availableParallelism?.() ?? os.cpus().length) : (nav?.hardwareConcurrency ?? 1);
  return Math.max(1, Math.min(DEFAULT_MAX_THREADS, cores));
}

/**
 * Sets the threads large products use (1: the calling thread only). Starts or stops workers as
 * needed; where threads cannot be used (a browser main thread, no cross-origin isolation) it keeps 1.
 * With `heap` (the tensors' heap) in a shared memory, the workers compute there in place. Returns the
 * threads in effect.
 */
export async function setGemmThreads(threads: number, heap?: Heap): Promise<number> {
  const wanted = canUseThreads() ? Math.min(MAX_THREADS, Math.max(1, Math.floor(threads))) : 1;
  active = false;
  if (wanted === 1) return 1;
  const path = gemmPath();
  const placed = heap === undefined || pool?.inPlace(heap.memory()) === true;
  if (pool === null || pool.threads !== wanted || pool.path !== path || !placed) {
    await stopGemmThreads();
    pool = await GemmPool.create(wanted, path, heap);
  }
  active = true;
  return wanted;
}

/** The pool, when it is in use and works in place on `memory` (so it can run other kernels' functions there). */
export function inPlacePool(memory: WebAssembly.Memory): GemmPool | null {
  return active && pool?.inPlace(memory) === true ? pool : null;
}

/** How many rounds of calls (kernels other than products, split across threads) the pool has run. */
export function poolCallRounds(): number {
  return pool?.callRounds ?? 0;
}

/** Whether large products run in place in the tensors' heap (no copies in and out of the pool). */
export function gemmInPlace(memory: WebAssembly.Memory): boolean {
  return inPlacePool(memory) !== null;
}

/** Threads in effect for large products. */
export function gemmThreads(): number {
  return active && pool !== null ? pool.threads : 1;
}

/** Terminates the workers (threads back to 1). */
export async function stopGemmThreads(): Promise<void> {
  const old = pool;
  pool = null;
  active = false;
  if (old !== null) await old.dispose();
}

/**
 * Runs a batched product whose operands live in `heap` (A spans aFloats floats from a.ptr, B bFloats
 * from b.ptr): on the pool when it is large, else here.
 */
export function runGemm(heap: Heap, p: BatchProduct, aFloats: number, bFloats: number): void {
  const memory = heap.memory();
  if (active && pool?.accepts(memory) === true && p.m * p.n * p.k * p.aOffsets.length >= THREADED_MIN_MACS) {
    pool.run(heap, p, aFloats, bFloats);
    threadedRuns++;
    return;
  }
  batchGemm(
    gemmExports(memory),
    {
      malloc: (n) => heap.malloc(n),
      free: (q) => heap.free(q),
      f32: () => new Float32Array(heap.memory().buffer),
    },
    p,
  );
}
