import { MR, NR, WIDE, type GemmExports } from './gemm-module.js';

// The GEMM driver: packs A into MR-row blocks and B into 8-column panels (each once per product, or
// once per distinct operand of a batch), then runs the micro-kernel over blocks of panels and of k.
// Rows of C can be split across threads (`computeRows`); the blocking of k and of panels is fixed, so
// every element of C comes out of the same instruction sequence whatever the split.

/** Panels per block of columns (8 columns each). */
export const PANELS_PER_BLOCK = 32;
/** Length of a block of k. */
export const KC = 256;

/** Memory the GEMM runs in: allocation, and a float view of it (re-read after every allocation). */
export interface GemmMemory {
  malloc(bytes: number): number;
  free(ptr: number): void;
  f32(): Float32Array;
}

/** A strided matrix operand: element (i, j) lies at byte ptr + 4·(i·rowStride + j·colStride). */
export interface Operand {
  ptr: number;
  rowStride: number;
  colStride: number;
}

/**
 * An operand no pair of strides describes, such as the patches a convolution reads from an image:
 * element (i, j) lies at byte ptr + 4·(rowOffsets[i] + colOffsets[j]). Gathered while packing.
 */
export interface GatherOperand {
  ptr: number;
  rowOffsets: Int32Array;
  colOffsets: Int32Array;
}

/** The left operand of a product: strided, or gathered through offset tables. */
export type LeftOperand = Operand | GatherOperand;

export const isGather = (a: LeftOperand): a is GatherOperand => 'rowOffsets' in a;

/** Floats a packed A of m×k takes. */
export const packedASize = (m: number, k: number): number => Math.ceil(m / MR) * MR * k;
/** Floats a packed B of k×n takes. */
export const packedBSize = (k: number, n: number): number => Math.ceil(n / NR) * NR * k;

/** Row blocks (MR rows each) of a product with m rows. */
export const rowBlocks = (m: number): number => Math.ceil(m / MR);

/**
 * How the rows of an m×k A are packed: from a strided source (x, y: the row and column strides in
 * bytes) or gathered (x, y: byte addresses of the row and column offset tables, i32 bytes, in the
 * memory the GEMM runs in). Plain numbers so that a worker can be handed them.
 */
export interface RowPacking {
  kind: 'strided' | 'gathered';
  m: number;
  src: number;
  x: number;
  y: number;
}

/**
 * Bytes of a walk down k (k rows of the source at `strideBytes`) from which A's blocks or B's panels are
 * packed WIDE at a time. Shorter walks stay in cache between the narrow passes: at 1 MiB the wide ones
 * measured from 8 % faster (A) to 20 % slower (B), at 0.4 MiB up to 1.4× slower; from 1.5 MiB on they
 * measured 1.2–2.8× faster (bench/pack.ts).
 */
export const WIDE_MIN_WALK_BYTES = 3 << 19;

/** Whether a walk down k of k rows `strideBytes` apart is long enough to pack wide. */
export const wideWalk = (k: number, strideBytes: number): boolean =>
  k * Math.abs(strideBytes) >= WIDE_MIN_WALK_BYTES;

/** Packs row blocks [rb0, rb1) of A into the packed A at `pa` (MR-row blocks of k, rows past m zero). */
export function packRows(
  ex: GemmExports,
  r: RowPacking,
  pa: number,
  k: number,
  rb0: number,
  rb1: number,
): void {
  let rb = rb0;
  if (r.kind === 'strided' && r.x === 4 && wideWalk(k, r.y)) {
    // Rows are adjacent floats (a transposed operand) and the walk down k is long: WIDE blocks per pass.
    const full = Math.min(rb1, Math.floor(r.m / MR));
    for (; rb + WIDE <= full; rb += WIDE)
      ex.packAWide(r.src + 4 * rb * MR, pa + 4 * rb * MR * k, k, r.y, 4 * MR * k);
  }
  for (; rb < rb1; rb++) {
    const i = rb * MR;
    const rows = Math.min(MR, r.m - i);
    if (r.kind === 'strided') ex.packA(r.src + i * r.x, pa + 4 * i * k, rows, k, r.x, r.y);
    else ex.packAGather(r.src, pa + 4 * i * k, rows, k, r.x + 4 * i, r.y);
  }
}

/**
 * The packing of `a` (m×k): strided as is; gathered with its offset tables written into `mem` (the
 * caller frees `tables` when given).
 */
export function rowPacking(
  mem: GemmMemory,
  a: LeftOperand,
  m: number,
  k: number,
): RowPacking & { tables?: number } {
  if (!isGather(a)) return { kind: 'strided', m, src: a.ptr, x: 4 * a.rowStride, y: 4 * a.colStride };
  const tables = mem.malloc((m + k) * 4);
  const t = new Int32Array(mem.f32().buffer, tables, m + k);
  for (let i = 0; i < m; i++) t[i] = 4 * a.rowOffsets[i]!;
  for (let j = 0; j < k; j++) t[m + j] = 4 * a.colOffsets[j]!;
  return { kind: 'gathered', m, src: a.ptr, x: tables, y: tables + 4 * m, tables };
}

/** Packs the m×k strided operand `a` into `dst`. */
export function packA(ex: GemmExports, a: Operand, dst: number, m: number, k: number): void {
  packRows(
    ex,
    { kind: 'strided', m, src: a.ptr, x: 4 * a.rowStride, y: 4 * a.colStride },
    dst,
    k,
    0,
    rowBlocks(m),
  );
}

/** Packs the m×k operand `a` (strided or gathered) into `dst`. */
export function packLeft(
  ex: GemmExports,
  mem: GemmMemory,
  a: LeftOperand,
  dst: number,
  m: number,
  k: number,
): void {
  if (!isGather(a)) return packA(ex, a, dst, m, k);
  const r = rowPacking(mem, a, m, k);
  try {
    packRows(ex, r, dst, k, 0, rowBlocks(m));
  } finally {
    if (r.tables !== undefined) mem.free(r.tables);
  }
}

/** Packs panels [pn0, pn1) of the k×n operand `b` into `dst` (8-column panels, columns past n zero). */
export function packB(
  ex: GemmExports,
  b: Operand,
  dst: number,
  k: number,
  n: number,
  pn0 = 0,
  pn1 = Math.ceil(n / NR),
): void {
  let j = pn0 * NR;
  if (b.colStride === 1 && wideWalk(k, 4 * b.rowStride)) {
    // Row-major with a long walk down k: WIDE panels per pass.
    const full = Math.min(pn1, Math.floor(n / NR)) * NR;
    for (; j + WIDE * NR <= full; j += WIDE * NR)
      ex.packBWide(b.ptr + 4 * j, dst + 4 * j * k, k, 4 * b.rowStride, 4 * NR * k);
  }
  for (; j < Math.min(n, pn1 * NR); j += NR) {
    ex.packB(
      b.ptr + 4 * j * b.colStride,
      dst + 4 * j * k,
      Math.min(NR, n - j),
      k,
      4 * b.rowStride,
      4 * b.colStride,
    );
  }
}

/**
 * A product whose operands are packed: C (row stride ldc, padded to whole tiles) = A·B, or bias + A·B
 * when `bias` is set.
 */
export interface PackedProduct {
  pa: number;
  pb: number;
  pc: number;
  ldc: number;
  m: number;
  n: number;
  k: number;
  /**
   * Byte address of a bias row the accumulators start from, padded to whole panels (column c at
   * bias + 4c; see {@link paddedBias}).
   */
  bias?: number;
}

/** Column panels (8 columns each) of a product with n columns. */
export const panels = (n: number): number => Math.ceil(n / NR);

/**
 * The micro-kernel calls (their eight arguments, in order) that compute row blocks [rb0, rb1) × column
 * panels [pn0, pn1) of C for a packed product. Panels are blocked from pn0 on; the blocking changes which
 * calls compute an element, never its instructions.
 */
export function kernelCalls(
  p: PackedProduct,
  rb0: number,
  rb1: number,
  pn0: number,
  pn1: number,
  call: (
    pa: number,
    pb: number,
    pc: number,
    kc: number,
    np: number,
    panelBytes: number,
    ldc: number,
    acc: number,
  ) => void,
): void {
  const panelBytes = p.k * NR * 4;
  for (let jb = pn0; jb < pn1; jb += PANELS_PER_BLOCK) {
    const npb = Math.min(PANELS_PER_BLOCK, pn1 - jb);
    for (let kb = 0; kb < p.k; kb += KC) {
      const kc = Math.min(KC, p.k - kb);
      const pb = p.pb + jb * panelBytes + kb * NR * 4;
      for (let rb = rb0; rb < rb1; rb++) {
        call(
          p.pa + (rb * p.k + kb) * MR * 4,
          pb,
          p.pc + (rb * MR * p.ldc + jb * NR) * 4,
          kc,
          npb,
          panelBytes,
          p.ldc * 4,
          kb > 0 ? 1 : p.bias !== undefined ? p.bias + jb * NR * 4 : 0,
        );
      }
    }
  }
}

/** Computes row blocks [rb0, rb1) × column panels [pn0, pn1) of C for a packed product. */
export function computeRows(
  ex: GemmExports,
  p: PackedProduct,
  rb0: number,
  rb1: number,
  pn0 = 0,
  pn1 = panels(p.n),
): void {
  kernelCalls(p, rb0, rb1, pn0, pn1, ex.kernel);
}

/** Whether C can be written in place: whole tiles, contiguous rows. */
export const tilesFit = (m: number, n: number): boolean => m % MR === 0 && n % NR === 0;

/** Floats of the padded C a product needs when it cannot write in place. */
export const paddedCSize = (m: number, n: number): number => rowBlocks(m) * MR * Math.ceil(n / NR) * NR;

/** Copies the m×n top-left corner of a padded C at `src` (row stride ldp) to `dst` (row stride ldc). */
export function copyOut(
  ex: GemmExports,
  src: number,
  ldp: number,
  dst: number,
  ldc: number,
  m: number,
  n: number,
): void {
  ex.copyRows(src, 4 * ldp, dst, 4 * ldc, m, 4 * n);
}

/**
 * A bias of n floats as the kernel reads it, whole panels of 8: `bias` itself when n is a multiple of 8,
 * else a copy padded with zeros, allocated from `alloc` (the caller frees it with its other scratch).
 */
export function paddedBias(
  mem: GemmMemory,
  alloc: (floats: number) => number,
  bias: number,
  n: number,
): number {
  if (n % NR === 0) return bias;
  const padded = alloc(panels(n) * NR);
  const f32 = mem.f32();
  f32.copyWithin(padded / 4, bias / 4, bias / 4 + n);
  f32.fill(0, padded / 4 + n, padded / 4 + panels(n) * NR);
  return padded;
}

/** Copies the n floats at `src` into each of the m rows (row stride ldc) of C at `dst`. */
export function fillRows(ex: GemmExports, src: number, dst: number, ldc: number, m: number, n: number): void {
  ex.copyRows(src, 0, dst, 4 * ldc, m, 4 * n);
}

/**
 * C = A·B on one thread: A is m×k (strided or gathered), B is k×n (any strides), C is m×n row-major at
 * `c` (row stride n).
 * Packed copies and a padded C (when tiles do not fit) are allocated in `mem` and freed.
 */
export function gemm(
  ex: GemmExports,
  mem: GemmMemory,
  a: LeftOperand,
  b: Operand,
  c: number,
  m: number,
  n: number,
  k: number,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    mem.f32().fill(0, c / 4, c / 4 + m * n);
    return;
  }
  const pa = mem.malloc(packedASize(m, k) * 4);
  const pb = mem.malloc(packedBSize(k, n) * 4);
  const fit = tilesFit(m, n);
  const ldp = Math.ceil(n / NR) * NR;
  const pc = fit ? c : mem.malloc(paddedCSize(m, n) * 4);
  try {
    packLeft(ex, mem, a, pa, m, k);
    packB(ex, b, pb, k, n);
    computeRows(ex, { pa, pb, pc, ldc: fit ? n : ldp, m, n, k }, 0, rowBlocks(m));
    if (!fit) copyOut(ex, pc, ldp, c, n, m, n);
  } finally {
    mem.free(pa);
    mem.free(pb);
    if (!fit) mem.free(pc);
  }
}
