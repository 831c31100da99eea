import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { useBackend } from '../../backend.js';
import { wasmBackend } from '../tfjs-seam.js';

import { batchGemm, type BatchProduct } from './batch.js';
import {
  packB,
  packedASize,
  packedBSize,
  packRows,
  panels,
  rowBlocks,
  wideWalk,
  type GatherOperand,
} from './gemm.js';
import { GEMM_FUNCTIONS, type GemmPath } from './gemm-module.js';
import { GemmPool } from './pool.js';
import { gemmExports, gemmPath } from './probe.js';

// @ml's GEMM on both paths (relaxed-SIMD FMA and plain SIMD128) against tfjs-cpu's matMul (≤ 1e-4
// relative to the largest magnitude), on the 2-D, transposed and broadcast-batched products training
// emits, including sizes that are not whole 4×8 tiles and k longer than one block; and the thread pool
// against one thread (bit-identical).

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) % 2147483647 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    out[i] = (s / 2147483647) * 2 - 1;
  }
  return out;
}

interface Case {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
  aBatch: number[];
  bBatch: number[];
}

const CASES: Case[] = [
  { m: 8, k: 16, n: 16, transposeA: false, transposeB: false, aBatch: [], bBatch: [] },
  { m: 13, k: 300, n: 21, transposeA: false, transposeB: false, aBatch: [], bBatch: [] },
  { m: 7, k: 5, n: 3, transposeA: true, transposeB: false, aBatch: [], bBatch: [] },
  { m: 33, k: 70, n: 17, transposeA: false, transposeB: true, aBatch: [], bBatch: [] },
  { m: 9, k: 12, n: 40, transposeA: true, transposeB: true, aBatch: [], bBatch: [] },
  { m: 6, k: 8, n: 10, transposeA: false, transposeB: true, aBatch: [2, 3], bBatch: [2, 3] },
  { m: 5, k: 9, n: 12, transposeA: false, transposeB: false, aBatch: [4], bBatch: [] },
  { m: 4, k: 6, n: 9, transposeA: true, transposeB: false, aBatch: [], bBatch: [3] },
  { m: 2, k: 520, n: 264, transposeA: false, transposeB: false, aBatch: [], bBatch: [] },
  // Walks down k of over 1 MiB: a transposed A (rows 1688 bytes apart) and a row-major B (1616 bytes)
  // packed WIDE blocks or panels at a time, then the rest one by one (a partial block and panel last).
  { m: 422, k: 2050, n: 21, transposeA: true, transposeB: false, aBatch: [], bBatch: [] },
  { m: 5, k: 2050, n: 404, transposeA: false, transposeB: false, aBatch: [], bBatch: [] },
];

const label = (c: Case): string =>
  `[${[...c.aBatch, c.transposeA ? c.k : c.m, c.transposeA ? c.m : c.k].join(',')}]${c.transposeA ? 'ᵀ' : ''}·` +
  `[${[...c.bBatch, c.transposeB ? c.n : c.k, c.transposeB ? c.k : c.n].join(',')}]${c.transposeB ? 'ᵀ' : ''}`;

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Element offsets of each broadcast batch into an operand with batch shape `shape` (leading 1s aligned). */
function offsets(outBatch: number[], shape: number[], matrix: number): number[] {
  const lead = outBatch.length - shape.length;
  const out: number[] = [];
  for (let t = 0; t < size(outBatch); t++) {
    let rest = t;
    let off = 0;
    let stride = 1;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const i = rest % outBatch[d]!;
      rest = Math.floor(rest / outBatch[d]!);
      const s = d - lead >= 0 ? shape[d - lead]! : 1;
      if (s !== 1) off += i * stride;
      stride *= s;
    }
    out.push(off * matrix);
  }
  return out;
}

function shapes(c: Case): { a: number[]; b: number[]; out: number[] } {
  const outBatch = c.aBatch.length >= c.bBatch.length ? c.aBatch : c.bBatch;
  return {
    a: [...c.aBatch, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])],
    b: [...c.bBatch, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])],
    out: [...outBatch, c.m, c.n],
  };
}

function reference(c: Case): Float32Array {
  const s = shapes(c);
  return tf.tidy(() => {
    void tf.setBackend('cpu');
    const a = tf.tensor(values(size(s.a), 1), s.a);
    const b = tf.tensor(values(size(s.b), 2), s.b);
    return tf.matMul(a, b, c.transposeA, c.transposeB).dataSync() as Float32Array;
  });
}

/** Runs case `c` through @ml's GEMM on wasm, on one thread or on `pool`. */
function ours(c: Case, path: GemmPath, pool?: GemmPool): Float32Array {
  void tf.setBackend('wasm');
  const be = wasmBackend(tf.backend());
  const s = shapes(c);
  const a = tf.tensor(values(size(s.a), 1), s.a);
  const b = tf.tensor(values(size(s.b), 2), s.b);
  const out = tf.tensor(new Float32Array(size(s.out)), s.out);
  try {
    const outBatch = s.out.slice(0, -2);
    const p: BatchProduct = {
      m: c.m,
      n: c.n,
      k: c.k,
      a: { ptr: be.ptr(a), rowStride: c.transposeA ? 1 : c.k, colStride: c.transposeA ? c.m : 1 },
      b: { ptr: be.ptr(b), rowStride: c.transposeB ? 1 : c.n, colStride: c.transposeB ? c.k : 1 },
      aOffsets: offsets(outBatch, c.aBatch, c.m * c.k),
      bOffsets: offsets(outBatch, c.bBatch, c.k * c.n),
      c: be.ptr(out),
    };
    const memory = be.memory();
    if (pool !== undefined) pool.run(be, p, size(s.a), size(s.b));
    else
      batchGemm(
        gemmExports(memory, path),
        { malloc: (n) => be.malloc(n), free: (q) => be.free(q), f32: () => new Float32Array(memory.buffer) },
        p,
      );
    return out.dataSync() as Float32Array;
  } finally {
    tf.dispose([a, b, out]);
  }
}

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst / scale).toBeLessThanOrEqual(1e-4);
}

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

test('the probe picks relaxed-SIMD FMA on this engine (Node 20 after the V8 flag) or plain SIMD128', () => {
  const path = gemmPath();
  expect(['relaxed-simd-fma', 'simd128']).toContain(path);
  // Node ≥ 20 validates relaxed SIMD once the flag is set, so the fast path must be taken here.
  if (typeof process !== 'undefined' && Number(process.versions.node.split('.')[0]) >= 20)
    expect(path).toBe('relaxed-simd-fma');
});

describe.each<GemmPath>(['relaxed-simd-fma', 'simd128'])('GEMM on the %s path matches tfjs-cpu', (path) => {
  test.each(CASES.map((c) => [label(c), c] as const))('%s', (_, c) => {
    if (path === 'relaxed-simd-fma' && gemmPath() !== path) return;
    expectClose(ours(c, path), reference(c));
  });
});

// A gathered left operand (a convolution's patches): element (i, j) at rowOffsets[i] + colOffsets[j].
// 'pixel rows': rows 12 floats apart, runs of 4 contiguous columns (the 4×4 transposing path) mixed
// with scattered ones and a tail; 'channel rows': rows 1 float apart (one f32x4 per k) except a last
// partial block.
interface GatherCase {
  name: string;
  rows: number[];
  cols: number[];
  n: number;
}
const runs = (starts: number[], len: number): number[] =>
  starts.flatMap((s) => Array.from({ length: len }, (_, i) => s + i));
const GATHER_CASES: GatherCase[] = [
  {
    name: 'pixel rows',
    rows: Array.from({ length: 13 }, (_, i) => 12 * i),
    cols: [...runs([0, 40, 80], 4), 7, 3, 99, ...runs([20], 4), 5, 6],
    n: 11,
  },
  {
    name: 'channel rows',
    rows: [...runs([0, 30], 4), 60, 61, 62, 70, 71],
    cols: runs([0, 100, 200], 7),
    n: 9,
  },
];

function gatherReference(c: GatherCase, src: Float32Array, b: Float32Array): Float32Array {
  const a = new Float32Array(c.rows.length * c.cols.length);
  c.rows.forEach((r, i) => c.cols.forEach((o, j) => (a[i * c.cols.length + j] = src[r + o]!)));
  return tf.tidy(() => {
    void tf.setBackend('cpu');
    return tf
      .matMul(tf.tensor2d(a, [c.rows.length, c.cols.length]), tf.tensor2d(b, [c.cols.length, c.n]))
      .dataSync() as Float32Array;
  });
}

function gatherOurs(
  c: GatherCase,
  src: Float32Array,
  b: Float32Array,
  path: GemmPath,
  pool?: GemmPool,
): Float32Array {
  void tf.setBackend('wasm');
  const be = wasmBackend(tf.backend());
  const [m, k] = [c.rows.length, c.cols.length];
  const st = tf.tensor1d(src);
  const bt = tf.tensor1d(b);
  const out = tf.tensor1d(new Float32Array(m * c.n));
  try {
    const a: GatherOperand = {
      ptr: be.ptr(st),
      rowOffsets: Int32Array.from(c.rows),
      colOffsets: Int32Array.from(c.cols),
    };
    const p: BatchProduct = {
      m,
      n: c.n,
      k,
      a,
      b: { ptr: be.ptr(bt), rowStride: c.n, colStride: 1 },
      aOffsets: [0],
      bOffsets: [0],
      c: be.ptr(out),
    };
    const memory = be.memory();
    if (pool !== undefined) pool.run(be, p, src.length, b.length);
    else
      batchGemm(
        gemmExports(memory, path),
        { malloc: (q) => be.malloc(q), free: (q) => be.free(q), f32: () => new Float32Array(memory.buffer) },
        p,
      );
    return out.dataSync() as Float32Array;
  } finally {
    tf.dispose([st, bt, out]);
  }
}

describe.each<GemmPath>(['relaxed-simd-fma', 'simd128'])(
  'gathered A on the %s path matches tfjs-cpu',
  (path) => {
    test.each(GATHER_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
      if (path === 'relaxed-simd-fma' && gemmPath() !== path) return;
      const src = values(400, 5);
      const b = values(c.cols.length * c.n, 6);
      expectClose(gatherOurs(c, src, b, path), gatherReference(c, src, b));
    });
  },
);

describe.each(['copying into its own memory', 'in place in the shared heap'] as const)(
  'GemmPool %s',
  (mode) => {
    let pool: GemmPool;
    beforeAll(async () => {
      const be = wasmBackend(tf.findBackend('wasm'));
      // useBackend in Node loads tfjs' binary with a shared memory: the heap a pool can compute in.
      expect(be.memory().buffer).toBeInstanceOf(SharedArrayBuffer);
      pool = await GemmPool.create(3, gemmPath(), mode === 'in place in the shared heap' ? be : undefined);
      expect(pool.inPlace(be.memory())).toBe(mode === 'in place in the shared heap');
    });
    afterAll(async () => {
      await pool.dispose();
    });

    test.each(CASES.map((c) => [label(c), c] as const))('%s: 3 threads give the bits of 1 thread', (_, c) => {
      const one = ours(c, gemmPath());
      const three = ours(c, gemmPath(), pool);
      expect(Array.from(three)).toEqual(Array.from(one));
      expectClose(three, reference(c));
    });

    test.each(GATHER_CASES.map((c) => [c.name, c] as const))(
      'gathered A, %s: 3 threads give the bits of 1 thread',
      (_, c) => {
        const src = values(400, 7);
        const b = values(c.cols.length * c.n, 8);
        const one = gatherOurs(c, src, b, gemmPath());
        expect(Array.from(gatherOurs(c, src, b, gemmPath(), pool))).toEqual(Array.from(one));
      },
    );
  },
);

test('wide packing (8 blocks of a transposed A, or 8 panels of a row-major B, per k) gives the bits of the narrow packers', () => {
  void tf.setBackend('wasm');
  const be = wasmBackend(tf.backend());
  const ex = gemmExports(be.memory());
  const [rows, cols] = [2050, 422]; // X: k = 2050 rows 1688 bytes apart, a walk of 3.5 MB
  expect(wideWalk(rows, 4 * cols)).toBe(true);
  expect(wideWalk(rows, 4 * 21)).toBe(false);
  const x = tf.tensor2d(values(rows * cols, 9), [rows, cols]);
  const size = Math.max(packedASize(cols, rows), packedBSize(rows, cols));
  const [wide, narrow] = [be.malloc(4 * size), be.malloc(4 * size)];
  try {
    const f32 = () => new Float32Array(be.memory().buffer);
    // Index of the first float where the two packings differ (−1: none), not a diff of 900k floats.
    const firstDifference = () =>
      f32()
        .subarray(wide / 4, wide / 4 + size)
        .findIndex((v, i) => !Object.is(v, f32()[narrow / 4 + i]));
    // Aᵀ (m = 422 rows of adjacent floats, 105 full blocks and a partial one), from block 3 (groups of 8
    // start off the first block) to the end, and B = X (50 full panels and a partial one), from panel 5.
    const rowsA = { kind: 'strided', m: cols, src: be.ptr(x), x: 4, y: 4 * cols } as const;
    f32().fill(7, wide / 4, wide / 4 + size);
    f32().fill(7, narrow / 4, narrow / 4 + size);
    packRows(ex, rowsA, wide, rows, 3, rowBlocks(cols));
    for (let rb = 3; rb < rowBlocks(cols); rb++)
      ex.packA(be.ptr(x) + 16 * rb, narrow + 16 * rb * rows, Math.min(4, cols - 4 * rb), rows, 4, 4 * cols);
    expect(firstDifference()).toBe(-1);
    const b = { ptr: be.ptr(x), rowStride: cols, colStride: 1 };
    f32().fill(7, wide / 4, wide / 4 + size);
    f32().fill(7, narrow / 4, narrow / 4 + size);
    packB(ex, b, wide, rows, cols, 5, panels(cols));
    for (let p = 5; p < panels(cols); p++)
      ex.packB(be.ptr(x) + 32 * p, narrow + 32 * p * rows, Math.min(8, cols - 8 * p), rows, 4 * cols, 4);
    expect(firstDifference()).toBe(-1);
  } finally {
    be.free(wide);
    be.free(narrow);
    x.dispose();
  }
});

describe('GemmPool', () => {
  test('a worker whose part traps makes the round throw, not hang, and the pool goes on working', async () => {
    const be = wasmBackend(tf.findBackend('wasm'));
    const p = await GemmPool.create(2, gemmPath(), be);
    try {
      const packA = GEMM_FUNCTIONS.indexOf('packA');
      // A source address past the end of the memory: packA traps. Two such parts; the calling thread
      // takes one and (its `own`) sleeps instead, so the worker takes the other.
      const outOfBounds = { module: null, fn: packA, args: [0x7ffffff0, 0x7ffffff0, 4, 64, 256, 4] };
      const sleep = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      expect(() => p.calls([[outOfBounds], [outOfBounds]], sleep)).toThrow(
        'GemmPool: a worker thread failed in its part of a round',
      );
      const c = CASES[0]!;
      expect(Array.from(ours(c, gemmPath(), p))).toEqual(Array.from(ours(c, gemmPath())));
    } finally {
      await p.dispose();
    }
  });

  test('runs every part of a round exactly once, whichever thread claims it, round after round', async () => {
    const be = wasmBackend(tf.findBackend('wasm'));
    const p = await GemmPool.create(3, gemmPath(), be);
    const src = be.malloc(4 * 4096);
    const dst = be.malloc(4 * 4096);
    try {
      const ex = gemmExports(be.memory());
      const packA = GEMM_FUNCTIONS.indexOf('packA');
      for (let round = 0; round < 300; round++) {
        const parts = 1 + (round % 37);
        const f32 = new Float32Array(be.memory().buffer);
        for (let u = 0; u < parts; u++) f32.fill(round * 100 + u, src / 4 + 4 * u, src / 4 + 4 * u + 4);
        f32.fill(-1, dst / 4, dst / 4 + 4 * parts);
        // Part u copies a 4×1 column (packA, one row block of k = 1) from slot u of src to slot u of dst.
        const calls = Array.from({ length: parts }, (_, u) => [
          { module: null, fn: packA, args: [src + 16 * u, dst + 16 * u, 4, 1, 4, 4] },
        ]);
        p.calls(calls, (c) => ex.packA(...(c.args as [number, number, number, number, number, number])));
        const out = new Float32Array(be.memory().buffer, dst, 4 * parts);
        expect(Array.from(out)).toEqual(Array.from({ length: 4 * parts }, (_, i) => round * 100 + (i >> 2)));
      }
    } finally {
      be.free(src);
      be.free(dst);
      await p.dispose();
    }
  });

  test('refuses work after dispose()', async () => {
    const p = await GemmPool.create(2, gemmPath());
    await p.dispose();
    expect(() => ours(CASES[0]!, gemmPath(), p)).toThrow('GemmPool: used after dispose()');
  });
});
