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
  type RowPacking,
} from './gemm.js';
import { MR, NR, type GemmExports } from './gemm-module.js';

// A batch of products C[t] = A[aOffsets[t]]·B[bOffsets[t]], plus a bias row when given (the broadcast
// batches BatchMatMul emits):
// each distinct A and B is packed once (a weight shared by the whole batch is packed once), then the
// products run on one thread here (./pool splits them across threads). An A that only one product reads
// and that has more than MC_BLOCKS row blocks is packed MC_BLOCKS row blocks at a time, each run computed
// right after it is packed: the packed rows are then read from the cache, not from memory (a
// convolution's gathered A is ~30 MB packed whole).

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

/**
 * Packed operands of a batch, ready to compute (a product with `rows` packs its A in runs of MC_BLOCKS
 * row blocks into `chunk` as it computes); `finish` writes C (when padded) and frees scratch.
 */
interface PackedBatch {
  products: (PackedProduct & { rows?: RowPacking })[];
  chunk: number;
  finish(): void;
}

/** How many products of a batch read each operand (by its offset). */
export function readers(offsets: readonly number[]): Map<number, number> {
  const count = new Map<number, number>();
  for (const o of offsets) count.set(o, (count.get(o) ?? 0) + 1);
  return count;
}

/** Packs every distinct operand of `p` once, into scratch from `mem`. */
function packBatch(ex: GemmExports, mem: GemmMemory, p: BatchProduct): PackedBatch {
  const { m, n, k } = p;
  const scratch: number[] = [];
  const alloc = (floats: number): number => {
    const ptr = mem.malloc(floats * 4);
    scratch.push(ptr);
    return ptr;
  };
  try {
    const packedA = new Map<number, number>();
    const packedB = new Map<number, number>();
    const fit = tilesFit(m, n);
    const ldp = Math.ceil(n / NR) * NR;
    const batches = p.aOffsets.length;
    const padded = fit ? 0 : alloc(paddedCSize(m, n) * batches);
    const products: PackedBatch['products'] = [];
    const readersA = readers(p.aOffsets);
    const chunked = rowBlocks(m) > MC_BLOCKS;
    const chunk = chunked && [...readersA.values()].some((c) => c === 1) ? alloc(MC_BLOCKS * MR * k) : 0;
    const bias = p.bias === undefined ? undefined : paddedBias(mem, alloc, p.bias, n);
    for (let t = 0; t < batches; t++) {
      const ao = p.aOffsets[t]!;
      const bo = p.bOffsets[t]!;
      let pa = packedA.get(ao);
      let rows: RowPacking | undefined;
      if (chunk !== 0 && readersA.get(ao) === 1) {
        const r = rowPacking(mem, { ...p.a, ptr: p.a.ptr + 4 * ao }, m, k);
        if (r.tables !== undefined) scratch.push(r.tables);
        rows = r;
        pa = chunk;
      } else if (pa === undefined) {
        pa = alloc(packedASize(m, k));
        packLeft(ex, mem, { ...p.a, ptr: p.a.ptr + 4 * ao }, pa, m, k);
        packedA.set(ao, pa);
      }
      let pb = packedB.get(bo);
      if (pb === undefined) {
        pb = alloc(packedBSize(k, n));
        packB(ex, { ...p.b, ptr: p.b.ptr + 4 * bo }, pb, k, n);
        packedB.set(bo, pb);
      }
      const pc = fit ? p.c + 4 * t * m * n : padded + 4 * t * paddedCSize(m, n);
      const ldc = fit ? n : ldp;
      products.push({ pa, pb, pc, ldc, m, n, k, bias, rows });
    }
    return {
      products,
      chunk,
      finish: () => {
        try {
          if (!fit)
            for (let t = 0; t < batches; t++) copyOut(ex, products[t]!.pc, ldp, p.c + 4 * t * m * n, n, m, n);
        } finally {
          for (const ptr of scratch) mem.free(ptr);
        }
      },
    };
  } catch (e) {
    for (const ptr of scratch) mem.free(ptr);
    throw e;
  }
}

/** Runs a batch of products on this thread. */
export function batchGemm(ex: GemmExports, mem: GemmMemory, p: BatchProduct): void {
  const { m, n, k } = p;
  if (m === 0 || n === 0 || p.aOffsets.length === 0) return;
  if (k === 0) {
    const batches = p.aOffsets.length;
    if (p.bias === undefined) mem.f32().fill(0, p.c / 4, p.c / 4 + m * n * batches);
    else fillRows(ex, p.bias, p.c, n, m * batches, n);
    return;
  }
  const packed = packBatch(ex, mem, p);
  try {
    for (const prod of packed.products) {
      if (prod.rows === undefined) {
        computeRows(ex, prod, 0, rowBlocks(m));
        continue;
      }
      for (let r0 = 0; r0 < rowBlocks(m); r0 += MC_BLOCKS) {
        const r1 = Math.min(rowBlocks(m), r0 + MC_BLOCKS);
        // Row block r0 lands at the chunk's start: the packed A's base is taken back by r0 blocks.
        const base = packed.chunk - 4 * r0 * MR * k;
        packRows(ex, prod.rows, base, k, r0, r1);
        computeRows(ex, { ...prod, pa: base }, r0, r1);
      }
    }
  } finally {
    packed.finish();
  }
}
