import {
  input,
  size,
  runStock,
  simdOf,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// Transpose: the stock kernel is slow on large 2-D and batched-2-D permutations.
/** If `perm` on `shape` is a batch of 2-D transposes, returns [batch, rows, cols]; otherwise null. */
function asBatched2d(shape: number[], perm: number[]): [number, number, number] | null {
  const dims = shape.map((d, i) => [d, i] as const).filter(([d]) => d !== 1);
  const p = perm.filter((i) => shape[i] !== 1).map((i) => dims.findIndex(([, j]) => j === i));
  // p must be [0, 1, …, r-1 | s+1…, | r…s] — a prefix kept, then two blocks swapped.
  let lead = 0;
  while (lead < p.length && p[lead] === lead) lead++;
  const rest = p.slice(lead);
  if (rest.length < 2) return null;
  const split = rest[0]!;
  const second = rest.findIndex((v) => v === lead);
  if (second <= 0) return null;
  for (let i = 0; i < second; i++) if (rest[i] !== split + i) return null;
  for (let i = second; i < rest.length; i++) if (rest[i] !== lead + i - second) return null;
  if (split + second !== dims.length) return null; // the first block must run to the last axis
  const sizes = dims.map(([d]) => d);
  return [size(sizes.slice(0, lead)), size(sizes.slice(lead, split)), size(sizes.slice(split))];
}

function transpose(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const x = input(args, 'x');
  const { perm } = args.attrs as unknown as { perm: number[] };
  const plan = x.dtype === 'float32' || x.dtype === 'int32' ? asBatched2d(x.shape, perm) : null;
  if (plan === null || size(x.shape) < 4096) return runStock('Transpose', args);
  const [batch, rows, cols] = plan;
  const out = be.makeOutput(
    perm.map((i) => x.shape[i]!),
    x.dtype,
  );
  const simd = simdOf(be);
  const src = be.ptr(x);
  const dst = be.ptr(out);
  for (let i = 0; i < batch; i++)
    simd.transpose(src + i * rows * cols * 4, dst + i * rows * cols * 4, rows, cols);
  return out;
}

/** @ml's wasm `Transpose` kernel. */
export const transposeConfig: WasmKernel = { kernelName: 'Transpose', kernelFunc: transpose };
