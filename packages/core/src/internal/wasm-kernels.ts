import * as tf from '@tensorflow/tfjs-core';

import { gemm, instantiateSimdKernels, type SimdKernels } from './wasm-simd.js';

// Kernels registered on tfjs-backend-wasm 4.22 so that training runs there with nothing falling back
// or failing: the backprops it lacks (Conv2DBackpropFilter, depthwise backprops, UnsortedSegmentSum for
// gather's gradient, Einsum), and faster versions of the ones it has but runs slowly (BatchMatMul
// with transposes or a batch, Conv2DBackpropInput, 2-D Transpose). Each kernel reads and writes the
// wasm heap in place or composes the backend's own fast kernels (XNNPACK convolution and matmul).

type TensorInfo = tf.TensorInfo;
type DataId = TensorInfo['dataId'];

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use (it does not export the type). */
interface WasmBackend {
  wasm: {
    HEAPF32: Float32Array;
    HEAP32: Int32Array;
    HEAPU8: Uint8Array;
    _malloc(bytes: number): number;
    _free(ptr: number): void;
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, ptr: number): void; disposeData(id: number): void };
    asm?: { memory?: WebAssembly.Memory };
    wasmMemory?: WebAssembly.Memory;
  };
  dataIdMap: { get(dataId: DataId): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: DataId, force?: boolean): boolean;
}

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: WasmBackend;
}

const ptrOf = (be: WasmBackend, t: TensorInfo): number => be.dataIdMap.get(t.dataId).memoryOffset;
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const input = (args: KernelArgs, name: string): TensorInfo => {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`wasm kernel: missing input '${name}'`);
  return t;
};

// ---- per-backend state: the SIMD module and the stock BatchMatMul entry point ----
interface BackendState {
  simd: SimdKernels;
  xnnMatMul: (...args: unknown[]) => void;
}
const states = new WeakMap<object, BackendState>();

function stateOf(be: WasmBackend): BackendState {
  let s = states.get(be);
  if (s === undefined) {
    const memory = be.wasm.asm?.memory ?? be.wasm.wasmMemory;
    if (memory === undefined) throw new Error('wasm kernels: cannot find the memory of the tfjs wasm module');
    s = {
      simd: instantiateSimdKernels(memory),
      xnnMatMul: be.wasm.cwrap('BatchMatMul', null, [
        'number',
        'array',
        'number',
        'number',
        'array',
        'number',
        'number',
        'number',
        'number',
      ]),
    };
    states.set(be, s);
  }
  return s;
}

/** Runs another registered wasm kernel; the caller disposes the result with `be.disposeData`. */
function run(
  be: WasmBackend,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernels: '${name}' is not registered on wasm`);
  return kernel.kernelFunc({ inputs, attrs, backend: be as unknown as tf.KernelBackend }) as TensorInfo;
}

/** Runs `fn` with a list that collects intermediate results, and disposes all but the returned one. */
function scoped(be: WasmBackend, fn: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  try {
    const out = fn((t) => {
      temps.push(t);
      return t;
    });
    for (const t of temps) if (t !== out) be.disposeData(t.dataId);
    return out;
  } catch (e) {
    for (const t of temps) be.disposeData(t.dataId);
    throw e;
  }
}

// ---- matrix products ----

// Products at least this big (multiply-adds) go to XNNPACK, whose packed GEMM wins on large operands;
// smaller ones (attention heads, small batches) go to the strided SIMD kernel, which has no setup cost.
const XNN_MIN_MACS = 1 << 20;

/** Registers a temporary tensor id that views `count` floats at `ptr` (no copy, freed by the owner). */
function view(be: WasmBackend, ptr: number, count: number): number {
  const id = be.dataIdNextNumber++;
  be.wasm.tfjs.registerTensor(id, count, ptr);
  return id;
}

const shapeBytes = (shape: number[]): Uint8Array => new Uint8Array(new Int32Array(shape).buffer);

/** out[M,N] = a[M,K]·b[K,N], both row-major, through XNNPACK's fully-connected operator. */
function xnnProduct(
  be: WasmBackend,
  st: BackendState,
  pa: number,
  pb: number,
  pc: number,
  m: number,
  k: number,
  n: number,
): void {
  const ia = view(be, pa, m * k);
  const ib = view(be, pb, k * n);
  const ic = view(be, pc, m * n);
  st.xnnMatMul(ia, shapeBytes([1, m, k]), 3, ib, shapeBytes([1, k, n]), 3, 0, 0, ic);
  be.wasm.tfjs.disposeData(ia);
  be.wasm.tfjs.disposeData(ib); // also frees the XNNPACK operator cached on this id
  be.wasm.tfjs.disposeData(ic);
}

/** Index of each broadcast batch element into an operand with batch shape `shape`. */
function batchOffsets(outBatch: number[], shape: number[]): number[] {
  const total = size(outBatch);
  const lead = outBatch.length - shape.length;
  const strides: number[] = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  const out: number[] = [];
  const idx = new Array<number>(outBatch.length).fill(0);
  for (let t = 0; t < total; t++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) if (shape[d] !== 1) off += idx[lead + d]! * strides[d]!;
    out.push(off);
    for (let d = outBatch.length - 1; d >= 0; d--) {
      if (++idx[d]! < outBatch[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

// tfjs' own wasm kernels that ours replace and still delegate to.
const stock = new Map<string, tf.KernelConfig>();

function runStock(name: string, args: KernelArgs, attrs?: tf.NamedAttrMap): TensorInfo {
  const kernel = stock.get(name);
  if (kernel === undefined) throw new Error(`wasm kernels: stock '${name}' kernel missing`);
  return kernel.kernelFunc({
    ...args,
    attrs: attrs ?? args.attrs ?? {},
  } as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo;
}

function batchMatMul(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const a = input(args, 'a');
  const b = input(args, 'b');
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const ar = a.shape.length;
  const br = b.shape.length;
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const plain = !transposeA && !transposeB && size(aBatch) === 1 && size(bBatch) === 1;
  if (plain || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return runStock('BatchMatMul', args); // XNNPACK fast path, or its dtype error
  }
  const m = transposeA ? a.shape[ar - 1]! : a.shape[ar - 2]!;
  const k = transposeA ? a.shape[ar - 2]! : a.shape[ar - 1]!;
  const kb = transposeB ? b.shape[br - 1]! : b.shape[br - 2]!;
  const n = transposeB ? b.shape[br - 2]! : b.shape[br - 1]!;
  if (k !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const st = stateOf(be);
  // [B, M, K]·[K, N] with B broadcast and no transposes is one 2-D product over B·M rows.
  if (!transposeA && !transposeB && size(bBatch) === 1 && aBatch.length >= bBatch.length) {
    return scoped(be, (keep) => {
      const a2 = keep(run(be, 'Reshape', { x: a }, { shape: [size(aBatch) * m, k] }));
      const b2 = keep(run(be, 'Reshape', { x: b }, { shape: [k, n] }));
      const y = keep(
        runStock(
          'BatchMatMul',
          { inputs: { a: a2, b: b2 }, backend: be },
          { transposeA: false, transposeB: false },
        ),
      );
      return run(be, 'Reshape', { x: y }, { shape: [...outBatch, m, n] });
    });
  }
  const batches = size(outBatch);
  const aOff = batchOffsets(outBatch, aBatch);
  const bOff = batchOffsets(outBatch, bBatch);
  const out = be.makeOutput([...outBatch, m, n], 'float32');
  const big = m * n * k >= XNN_MIN_MACS;
  // A transposed B (and, for XNNPACK, a transposed A) is first transposed into scratch memory, once per
  // distinct batch element of that operand.
  const scratchB = transposeB ? be.wasm._malloc(size(bBatch) * k * n * 4) : 0;
  const scratchA = transposeA && big ? be.wasm._malloc(size(aBatch) * m * k * 4) : 0;
  try {
    const pa0 = ptrOf(be, a);
    const pb0 = ptrOf(be, b);
    const pc = ptrOf(be, out);
    if (transposeB)
      for (let i = 0; i < size(bBatch); i++)
        st.simd.transpose(pb0 + i * k * n * 4, scratchB + i * k * n * 4, n, k);
    if (scratchA !== 0)
      for (let i = 0; i < size(aBatch); i++)
        st.simd.transpose(pa0 + i * m * k * 4, scratchA + i * m * k * 4, k, m);
    const pa = scratchA !== 0 ? scratchA : pa0;
    const pb = transposeB ? scratchB : pb0;
    for (let t = 0; t < batches; t++) {
      const ia = pa + aOff[t]! * m * k * 4;
      const ib = pb + bOff[t]! * k * n * 4;
      const ic = pc + t * m * n * 4;
      if (big) xnnProduct(be, st, ia, ib, ic, m, k, n);
      else if (transposeA) gemm(st.simd, ia, ib, ic, m, n, k, 1, m, n, n);
      else gemm(st.simd, ia, ib, ic, m, n, k, k, 1, n, n);
    }
  } finally {
    if (scratchB !== 0) be.wasm._free(scratchB);
    if (scratchA !== 0) be.wasm._free(scratchA);
  }
  return out;
}

// ---- transpose: the stock kernel is slow on large 2-D and batched-2-D permutations ----

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
  const be = args.backend;
  const x = input(args, 'x');
  const { perm } = args.attrs as unknown as { perm: number[] };
  const plan = x.dtype === 'float32' || x.dtype === 'int32' ? asBatched2d(x.shape, perm) : null;
  if (plan === null || size(x.shape) < 4096) return runStock('Transpose', args);
  const [batch, rows, cols] = plan;
  const out = be.makeOutput(
    perm.map((i) => x.shape[i]!),
    x.dtype,
  );
  const st = stateOf(be);
  const src = ptrOf(be, x);
  const dst = ptrOf(be, out);
  for (let i = 0; i < batch; i++)
    st.simd.transpose(src + i * rows * cols * 4, dst + i * rows * cols * 4, rows, cols);
  return out;
}

// ---- Identity: tfjs clones every tensor a gradient saves; on wasm that copied the data ----
function identity(args: KernelArgs): TensorInfo {
  const x = input(args, 'x');
  // Tensors are immutable (no kernel writes into its inputs), so a clone can share the buffer, as
  // tfjs-backend-cpu's Identity does.
  (args.backend as unknown as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

// ---- Sum over leading axes (bias and norm-weight gradients) without the stock transpose ----
function sum(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const x = input(args, 'x');
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((p, q) => p - q);
  const lead = axes.every((a, i) => a === i) ? axes.length : 0;
  const rows = size(x.shape.slice(0, lead));
  const cols = size(x.shape.slice(lead));
  if (x.dtype !== 'float32' || lead === 0 || cols % 4 !== 0 || rows * cols < 4096)
    return runStock('Sum', args);
  const outShape = keepDims ? x.shape.map((d, i) => (i < lead ? 1 : d)) : x.shape.slice(lead);
  const out = be.makeOutput(outShape, 'float32');
  stateOf(be).simd.colSum(ptrOf(be, x), ptrOf(be, out), rows, cols / 4);
  return out;
}

// ---- convolution backprops, as convolutions (XNNPACK) of transposed operands ----
interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

type Shape4 = [number, number, number, number];

/** tfjs' NHWC convolution geometry for the kernels below (one place for computeConv2DInfo's many arguments). */
function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
  dilations: number | [number, number],
  depthwise = false,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

function checkNhwc(name: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC')
    throw new Error(`wasm ${name}: dataFormat must be 'NHWC', got '${dataFormat}'`);
}

/** Crops (negative) or zero-pads (positive) axes 1 and 2 of an NHWC tensor. */
function padOrCrop(
  be: WasmBackend,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  top: number,
  bottom: number,
  left: number,
  right: number,
): TensorInfo {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  let y = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const t = Math.max(0, -top);
    const l = Math.max(0, -left);
    y = keep(
      run(
        be,
        'Slice',
        { x: y },
        { begin: [0, t, l, 0], size: [n, h - t - Math.max(0, -bottom), w - l - Math.max(0, -right), c] },
      ),
    );
  }
  if (top > 0 || bottom > 0 || left > 0 || right > 0) {
    const p = (v: number) => Math.max(0, v);
    y = keep(
      run(
        be,
        'PadV2',
        { x: y },
        {
          paddings: [
            [0, 0],
            [p(top), p(bottom)],
            [p(left), p(right)],
            [0, 0],
          ],
          constantValue: 0,
        },
      ),
    );
  }
  return y;
}

/** Inserts s−1 zeros between the rows (axis 1) and columns (axis 2) of an NHWC tensor: [N, (H−1)s+1, …]. */
function dilate(
  be: WasmBackend,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  sh: number,
  sw: number,
): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  let y = keep(run(be, 'Reshape', { x }, { shape: [n, h, 1, w * c] }));
  y = keep(
    run(
      be,
      'PadV2',
      { x: y },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sh - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    ),
  );
  y = keep(run(be, 'Reshape', { x: y }, { shape: [n * h * sh, w, 1, c] }));
  y = keep(
    run(
      be,
      'PadV2',
      { x: y },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    ),
  );
  y = keep(run(be, 'Reshape', { x: y }, { shape: [n, h * sh, w * sw, c] }));
  return keep(
    run(be, 'Slice', { x: y }, { begin: [0, 0, 0, 0], size: [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c] }),
  );
}

/**
 * The stock Conv2D hands 'same' padding to XNNPACK as a flag, which silently writes nothing when the
 * stride exceeds the filter size; explicit pads (the same numbers tfjs computes) always work.
 */
function conv2D(args: KernelArgs): TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs;
  if (attrs.pad !== 'same') return runStock('Conv2D', args);
  const x = input(args, 'x');
  const filter = input(args, 'filter');
  const info = convInfo(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
  const { top, bottom, left, right } = info.padInfo;
  return runStock('Conv2D', args, {
    ...(args.attrs ?? {}),
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
  });
}

/**
 * dx of a stride-s convolution: the stride-1 convolution of dy (dilated by s, padded by K−1−pad) with
 * the filter rotated 180° and its in/out channels swapped.
 */
function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  checkNhwc('Conv2DBackpropInput', attrs.dataFormat);
  const info = convInfo(attrs.inputShape, filter.shape, attrs, 1);
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    inHeight: h,
    inWidth: w,
  } = info;
  return scoped(be, (keep) => {
    const rot = keep(run(be, 'Reverse', { x: filter }, { dims: [0, 1] }));
    const f = keep(run(be, 'Transpose', { x: rot }, { perm: [0, 1, 3, 2] })); // [KH, KW, CO, CI]
    const d = dilate(be, keep, dy, sh, sw);
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h + kh - 1 - top - d.shape[1]!;
    const right = w + kw - 1 - left - d.shape[2]!;
    const p = padOrCrop(be, keep, d, top, bottom, left, right);
    return run(
      be,
      'Conv2D',
      { x: p, filter: f },
      { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
    );
  });
}

/**
 * dW of a stride-s convolution: a convolution whose batch is the input channels and whose filter is dy,
 * with dilation s: dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n, oh·s+kh, ow·s+kw, ci]·dy[n,oh,ow,co].
 */
function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  checkNhwc('Conv2DBackpropFilter', attrs.dataFormat);
  const info = convInfo(x.shape, attrs.filterShape, attrs, 1);
  const {
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
  } = info;
  return scoped(be, (keep) => {
    const xt = keep(run(be, 'Transpose', { x }, { perm: [3, 1, 2, 0] })); // [CI, H, W, N]
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const xp = padOrCrop(
      be,
      keep,
      xt,
      top,
      kh + (oh - 1) * sh - h - top,
      left,
      kw + (ow - 1) * sw - w - left,
    );
    const f = keep(run(be, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] })); // [OH, OW, N, CO]
    const g = keep(
      run(
        be,
        'Conv2D',
        { x: xp, filter: f },
        { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] },
      ),
    ); // [CI, KH, KW, CO]
    return run(be, 'Transpose', { x: g }, { perm: [1, 2, 0, 3] });
  });
}

// ---- depthwise convolution backprops, direct loops over the heap ----
interface DepthwiseGeometry {
  info: tf.backend_util.Conv2DInfo;
  mult: number;
}

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): DepthwiseGeometry {
  const info = convInfo(xShape, filterShape, attrs, attrs.dilations ?? 1, true);
  return { info, mult: info.outChannels / info.inChannels };
}

/** Calls `body(xBase, yBase, fBase)` for every (n, oh, ow, kh, kw) whose input pixel lies inside x. */
function forEachTap(
  info: tf.backend_util.Conv2DInfo,
  body: (xBase: number, yBase: number, fBase: number) => void,
): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    outChannels: co,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
  } = info;
  const { top, left } = info.padInfo;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const yBase = ((n * outHeight + oh) * outWidth + ow) * co;
        for (let i = 0; i < filterHeight; i++) {
          const ih = oh * strideHeight - top + i * dilationHeight;
          if (ih < 0 || ih >= inHeight) continue;
          for (let j = 0; j < filterWidth; j++) {
            const iw = ow * strideWidth - left + j * dilationWidth;
            if (iw < 0 || iw >= inWidth) continue;
            body(((n * inHeight + ih) * inWidth + iw) * c, yBase, (i * filterWidth + j) * co);
          }
        }
      }
    }
  }
}

function depthwiseBackpropInput(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const dy = input(args, 'dy');
  const filter = input(args, 'filter');
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const { info, mult } = depthwiseInfo(attrs.inputShape, filter.shape, attrs);
  const out = be.makeOutput(attrs.inputShape, 'float32');
  const heap = be.wasm.HEAPF32; // read after makeOutput: allocation may grow (and replace) the heap
  const dx = ptrOf(be, out) >> 2;
  const g = ptrOf(be, dy) >> 2;
  const f = ptrOf(be, filter) >> 2;
  heap.fill(0, dx, dx + size(attrs.inputShape));
  const c = info.inChannels;
  forEachTap(info, (xb, yb, fb) => {
    for (let ci = 0; ci < c; ci++) {
      let s = 0;
      for (let q = 0; q < mult; q++) s += heap[g + yb + ci * mult + q]! * heap[f + fb + ci * mult + q]!;
      heap[dx + xb + ci] = heap[dx + xb + ci]! + s;
    }
  });
  return out;
}

function depthwiseBackpropFilter(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const x = input(args, 'x');
  const dy = input(args, 'dy');
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const { info, mult } = depthwiseInfo(x.shape, attrs.filterShape, attrs);
  const out = be.makeOutput(attrs.filterShape, 'float32');
  const heap = be.wasm.HEAPF32;
  const dw = ptrOf(be, out) >> 2;
  const g = ptrOf(be, dy) >> 2;
  const xs = ptrOf(be, x) >> 2;
  heap.fill(0, dw, dw + size(attrs.filterShape));
  const c = info.inChannels;
  forEachTap(info, (xb, yb, fb) => {
    for (let ci = 0; ci < c; ci++) {
      const xv = heap[xs + xb + ci]!;
      for (let q = 0; q < mult; q++)
        heap[dw + fb + ci * mult + q] = heap[dw + fb + ci * mult + q]! + xv * heap[g + yb + ci * mult + q]!;
    }
  });
  return out;
}

// ---- MaxPoolGrad: the stock kernel loses gradients (at padded borders, among others) ----
function maxPoolGrad(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const dy = input(args, 'dy');
  const x = input(args, 'input');
  const attrs = args.attrs as unknown as {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: ConvAttrs['pad'];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { top, left } = info.padInfo;
  const out = be.makeOutput(x.shape, 'float32');
  const heap = be.wasm.HEAPF32;
  const dx = ptrOf(be, out) >> 2;
  const g = ptrOf(be, dy) >> 2;
  const xs = ptrOf(be, x) >> 2;
  heap.fill(0, dx, dx + size(x.shape));
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: c,
    outHeight,
    outWidth,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
  } = info;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < filterHeight; i++) {
            const ih = oh * strideHeight - top + i;
            if (ih < 0 || ih >= inHeight) continue;
            for (let j = 0; j < filterWidth; j++) {
              const iw = ow * strideWidth - left + j;
              if (iw < 0 || iw >= inWidth) continue;
              const idx = ((n * inHeight + ih) * inWidth + iw) * c + ch;
              if (heap[xs + idx]! > best) {
                best = heap[xs + idx]!;
                at = idx;
              }
            }
          }
          if (at >= 0)
            heap[dx + at] = heap[dx + at]! + heap[g + ((n * outHeight + oh) * outWidth + ow) * c + ch]!;
        }
      }
    }
  }
  return out;
}

// ---- UnsortedSegmentSum (the gradient of gather, so of trainable embeddings) ----
function unsortedSegmentSum(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const x = input(args, 'x');
  const ids = input(args, 'segmentIds');
  const { numSegments } = args.attrs as unknown as { numSegments: number };
  const inner = size(x.shape.slice(ids.shape.length));
  const rows = size(ids.shape);
  const outShape = [numSegments, ...x.shape.slice(ids.shape.length)];
  const out = be.makeOutput(outShape, x.dtype);
  const heap = x.dtype === 'float32' ? be.wasm.HEAPF32 : be.wasm.HEAP32;
  const ih = be.wasm.HEAP32;
  const po = ptrOf(be, out) >> 2;
  const px = ptrOf(be, x) >> 2;
  const pi = ptrOf(be, ids) >> 2;
  heap.fill(0, po, po + numSegments * inner);
  for (let r = 0; r < rows; r++) {
    const id = ih[pi + r]!;
    if (id < 0 || id >= numSegments) continue; // as TensorFlow: out-of-range ids are dropped
    const dst = po + id * inner;
    const src = px + r * inner;
    for (let i = 0; i < inner; i++) heap[dst + i] = heap[dst + i]! + heap[src + i]!;
  }
  return out;
}

// ---- Einsum: the same contraction plan as tfjs-backend-cpu, on wasm kernels ----
function einsum(args: KernelArgs): TensorInfo {
  const be = args.backend;
  const { equation } = args.attrs as unknown as { equation: string };
  const tensors = args.inputs as unknown as TensorInfo[];
  const bu = tf.backend_util;
  const { allDims, summedDims, idDims } = bu.decodeEinsumEquation(equation, tensors.length);
  bu.checkEinsumDimSizes(allDims.length, idDims, tensors as unknown as tf.Tensor[]);
  const { path, steps } = bu.getEinsumComputePath(summedDims, idDims);
  return scoped(be, (keep) => {
    let out: TensorInfo | null = null;
    let remaining = allDims.length;
    for (let i = 0; i < steps.length; i++) {
      for (const term of steps[i]!) {
        const { permutationIndices: perm, expandDims } = bu.getEinsumPermutation(remaining, idDims[term]!);
        let x = tensors[term]!;
        if (!bu.isIdentityPermutation(perm)) x = keep(run(be, 'Transpose', { x }, { perm }));
        const target = x.shape.slice();
        for (const d of expandDims) target.splice(d, 0, 1);
        if (target.length !== x.shape.length) x = keep(run(be, 'Reshape', { x }, { shape: target }));
        out = out === null ? x : keep(run(be, 'Multiply', { a: x, b: out }));
      }
      if (i < steps.length - 1) {
        if (path[i]! >= 0)
          out = keep(
            run(be, 'Sum', { x: out! }, { axis: path[i]! - (allDims.length - remaining), keepDims: false }),
          );
        remaining--;
      }
    }
    // A lone input with an identity plan is returned as a fresh copy the engine can own.
    return out === tensors[0] ? run(be, 'Identity', { x: out! }) : out!;
  });
}

// ---- install / uninstall ----
type KernelFn = (args: KernelArgs) => TensorInfo;
const KERNELS: Record<string, KernelFn> = {
  BatchMatMul: batchMatMul,
  Transpose: transpose,
  Conv2D: conv2D,
  Identity: identity,
  Sum: sum,
  MaxPoolGrad: maxPoolGrad,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  UnsortedSegmentSum: unsortedSegmentSum,
  Einsum: einsum,
};

const replaced = new Map<string, tf.KernelConfig | undefined>();

// tfjs warns on the console when a kernel is registered twice; libraries must not print.
/* eslint-disable no-console -- silences tfjs' re-registration warning; prints nothing itself */
function quietly(fn: () => void): void {
  const warn = console.warn;
  console.warn = () => {};
  try {
    fn();
  } finally {
    console.warn = warn;
  }
}
/* eslint-enable no-console */

/** Registers @ml's wasm kernels (once; call after @tensorflow/tfjs-backend-wasm is loaded). */
export function installWasmKernels(): void {
  if (replaced.size > 0) return;
  if (tf.getKernel('BatchMatMul', 'wasm') === undefined)
    throw new Error('installWasmKernels: @tensorflow/tfjs-backend-wasm must be loaded first');
  quietly(() => {
    for (const [name, fn] of Object.entries(KERNELS)) {
      const original = tf.getKernel(name, 'wasm');
      replaced.set(name, original);
      if (original !== undefined) {
        stock.set(name, original);
        tf.unregisterKernel(name, 'wasm');
      }
      const config: tf.KernelConfig = {
        kernelName: name,
        backendName: 'wasm',
        kernelFunc: fn as unknown as tf.KernelFunc,
      };
      // The stock kernel's setup (binding its C entry point) must still run when a wasm backend starts.
      if (original?.setupFunc !== undefined) config.setupFunc = original.setupFunc;
      tf.registerKernel(config);
    }
  });
}

/** Restores tfjs' stock wasm kernels (for benchmarks that compare against plain tfjs). */
export function uninstallWasmKernels(): void {
  quietly(() => {
    for (const [name, original] of replaced) {
      tf.unregisterKernel(name, 'wasm');
      if (original !== undefined) tf.registerKernel(original);
    }
  });
  replaced.clear();
  stock.clear();
}

/** Whether {@link installWasmKernels} is in effect. */
export function wasmKernelsInstalled(): boolean {
  return replaced.size > 0;
}

/** Names of the kernels @ml registers on wasm. */
export const WASM_KERNEL_NAMES: readonly string[] = Object.keys(KERNELS);
