import {
  computeRows,
  copyOut,
  fillRows,
  packLeft,
  packB,
  packRows,
  rowPacking,
  packedASize,
  packedBSize,
  paddedBias,
  paddedCSize,
  rowBlocks,
  tilesFit,
  type GemmMemory,
  type LeftOperand,
  type Operand,
  type PackedProduct,
} from './gemm.js';
import { MR, NR, type GemmExports } from './gemm-module.js';

// A batch of products C[t] = A[aOffsets[t]]·B[bOffsets[t]], plus a bias row when given (the broadcast
// batches BatchMatMul emits), on one thread (./pool splits them across threads). An operand several
// products read (a weight shared by the whole batch) is packed once, first. One that only one product
// reads is packed right before that product runs, into a buffer every product reuses — an A in runs of
// MC_BLOCKS row blocks, each run computed right after it is packed — so packed operands are read back from
// the cache, not from memory (a convolution's gathered A is ~30 MB packed whole; attention's 128 products
// of 64×32·64 would otherwise write 2 MB of packed copies before reading them back), and a padded C is
// one product's, copied out as soon as that product is done.

/** Row blocks of an A packed and computed at a time (128 rows: 128·k floats stay in a core's cache). */
export const MC_BLOCKS = 32;

/** A batched product in one memory: batch t reads A at a.ptr + 4·aOffsets[t] (likewise B) and writes C at c + 4·t·m·n. */
export interface BatchProduct {
  m: number;
  n: number;
  k: number;
  a: LeftOperand;
  b: Operand;
  aOffsets: readonly number[];
  bOffsets: readonly number[];
  c: number;
  /** When set: n floats added to every row of C (C = bias + A·B: the accumulators start from the bias). */
  bias?: number;
}

/** How many products of a batch read each operand (by its offset). */
export function readers(offsets: readonly number[]): Map<number, number> {
  const count = new Map<number, number>();
  for (const o of offsets) count.set(o, (count.get(o) ?? 0) + 1);
  return count;
}

/** Runs a batch of products on this thread. */
export function batchGemm(ex: GemmExports, mem: GemmMemory, p: BatchProduct): void {
  const { m, n, k } = p;
  const batches = p.aOffsets.length;
  if (m === 0 || n === 0 || batches === 0) return;
  if (k === 0) {
    if (p.bias === undefined) mem.f32().fill(0, p.c / 4, p.c / 4 + m * n * batches);
    else fillRows(ex, p.bias, p.c, n, m * batches, n);
    return;
  }
  const scratch: number[] = [];
  const alloc = (floats: number): number => {
    const ptr = mem.malloc(floats * 4);
    scratch.push(ptr);
    return ptr;
  };
  try {
    const [readersA, readersB] = [readers(p.aOffsets), readers(p.bOffsets)];
    const ownA = p.aOffsets.map((o) => readersA.get(o) === 1);
    const ownB = p.bOffsets.map((o) => readersB.get(o) === 1);
    // Shared operands, packed once each, first.
    const packedA = new Map<number, number>();
    const packedB = new Map<number, number>();
    for (let t = 0; t < batches; t++) {
      const [ao, bo] = [p.aOffsets[t]!, p.bOffsets[t]!];
      if (!ownA[t] && !packedA.has(ao)) {
        const pa = alloc(packedASize(m, k));
        packLeft(ex, mem, { ...p.a, ptr: p.a.ptr + 4 * ao }, pa, m, k);
        packedA.set(ao, pa);
      }
      if (!ownB[t] && !packedB.has(bo)) {
        const pb = alloc(packedBSize(k, n));
        packB(ex, { ...p.b, ptr: p.b.ptr + 4 * bo }, pb, k, n);
        packedB.set(bo, pb);
      }
    }
    const chunk = ownA.includes(true) ? alloc(Math.min(MC_BLOCKS, rowBlocks(m)) * MR * k) : 0;
    const ownPb = ownB.includes(true) ? alloc(packedBSize(k, n)) : 0;
    const fit = tilesFit(m, n);
    const ldp = Math.ceil(n / NR) * NR;
    const padded = fit ? 0 : alloc(paddedCSize(m, n));
    const bias = p.bias === undefined ? undefined : paddedBias(mem, alloc, p.bias, n);
    for (let t = 0; t < batches; t++) {
      const [ao, bo] = [p.aOffsets[t]!, p.bOffsets[t]!];
      let pb = packedB.get(bo)!;
      if (ownB[t]) {
        pb = ownPb;
        packB(ex, { ...p.b, ptr: p.b.ptr + 4 * bo }, pb, k, n);
      }
      const out = p.c + 4 * t * m * n;
      const prod: PackedProduct = { pa: 0, pb, pc: fit ? out : padded, ldc: fit ? n : ldp, m, n, k, bias };
      if (!ownA[t]) computeRows(ex, { ...prod, pa: packedA.get(ao)! }, 0, rowBlocks(m));
      else {
        const rows = rowPacking(mem, { ...p.a, ptr: p.a.ptr + 4 * ao }, m, k);
        if (rows.tables !== undefined) scratch.push(rows.tables);
        for (let r0 = 0; r0 < rowBlocks(m); r0 += MC_BLOCKS) {
          const r1 = Math.min(rowBlocks(m), r0 + MC_BLOCKS);
          // Row block r0 lands at the chunk's start: the packed A's base is taken back by r0 blocks.
          const base = chunk - 4 * r0 * MR * k;
          packRows(ex, rows, base, k, r0, r1);
          computeRows(ex, { ...prod, pa: base }, r0, r1);
        }
      }
      if (!fit) copyOut(ex, padded, ldp, out, n, m, n);
    }
  } finally {
    for (const ptr of scratch) mem.free(ptr);
  }
}
