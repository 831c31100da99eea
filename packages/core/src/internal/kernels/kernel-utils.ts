import * as tf from '@tensorflow/tfjs-core';

import { wasmBackend, type WasmBackend } from '../tfjs-seam.js';

// Helpers shared by @ml's wasm kernels (as tfjs-backend-wasm's own kernel_utils): argument access, running
// other wasm kernels, scoped intermediates, and the convolution geometry several kernels need.

export type TensorInfo = tf.TensorInfo;

/** What tfjs passes a kernel function; `backend` is the wasm backend (read it through `wasmBackend`). */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: unknown;
}

/** A kernel @ml registers on the wasm backend. */
export interface WasmKernel {
  kernelName: string;
  kernelFunc: (args: KernelArgs) => TensorInfo | TensorInfo[];
}

export { wasmBackend, type WasmBackend };

export const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export const input = (args: KernelArgs, name: string): TensorInfo => {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`wasm kernel: missing input '${name}'`);
  return t;
};

/** Runs another registered wasm kernel; the caller disposes the result with `be.dispose`. */
export function run(
  be: WasmBackend,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm kernels: '${name}' is not registered on wasm`);
  return kernel.kernelFunc({ inputs, attrs, backend: be.kernelBackend }) as TensorInfo;
}

// tfjs' own wasm kernels that ours replace and still delegate to (filled by installWasmKernels).
const stock = new Map<string, tf.KernelConfig>();

/** Remembers tfjs' kernel `name` so that ours can delegate to it; null forgets every one. */
export function setStockKernel(name: string, config: tf.KernelConfig | undefined): void {
  if (config === undefined) stock.delete(name);
  else stock.set(name, config);
}

/** Runs tfjs' own kernel that ours replaced (with other attrs if given). */
export function runStock<R extends TensorInfo | TensorInfo[] = TensorInfo>(
  name: string,
  args: KernelArgs,
  attrs?: tf.NamedAttrMap,
): R {
  const kernel = stock.get(name);
  if (kernel === undefined) throw new Error(`wasm kernels: stock '${name}' kernel missing`);
  return kernel.kernelFunc({
    ...args,
    attrs: attrs ?? args.attrs ?? {},
  } as unknown as Parameters<tf.KernelFunc>[0]) as R;
}

/** Runs `fn` with a list that collects intermediate results, and disposes all but the returned one. */
export function scoped(be: WasmBackend, fn: (keep: (t: TensorInfo) => TensorInfo) => TensorInfo): TensorInfo {
  const temps: TensorInfo[] = [];
  try {
    const out = fn((t) => {
      temps.push(t);
      return t;
    });
    for (const t of temps) if (t !== out) be.dispose(t);
    return out;
  } catch (e) {
    for (const t of temps) be.dispose(t);
    throw e;
  }
}

// ---- convolution geometry ----
export interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

type Shape4 = [number, number, number, number];

/** tfjs' NHWC convolution geometry for the kernels below (one place for computeConv2DInfo's many arguments). */
export function convInfo(
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

export function checkNhwc(name: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC')
    throw new Error(`wasm ${name}: dataFormat must be 'NHWC', got '${dataFormat}'`);
}

/** Crops (negative) or zero-pads (positive) axes 1 and 2 of an NHWC tensor. */
export function padOrCrop(
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
export function dilate(
  be: WasmBackend,
  keep: (t: TensorInfo) => TensorInfo,
  x: TensorInfo,
  sh: number,
  sw: number,
): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape as [number, number, number, number];
  // Appends `by` zeros along axis 2 of a 4-D tensor.
  const padAxis2 = (t: TensorInfo, by: number): TensorInfo =>
    keep(
      run(
        be,
        'PadV2',
        { x: t },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, by],
            [0, 0],
          ],
          constantValue: 0,
        },
      ),
    );
  let y = padAxis2(keep(run(be, 'Reshape', { x }, { shape: [n, h, 1, w * c] })), sh - 1); // [N, H, sh, W·C]
  y = padAxis2(keep(run(be, 'Reshape', { x: y }, { shape: [n * h * sh, w, 1, c] })), sw - 1); // [N·H·sh, W, sw, C]
  y = keep(run(be, 'Reshape', { x: y }, { shape: [n, h * sh, w * sw, c] }));
  return keep(
    run(be, 'Slice', { x: y }, { begin: [0, 0, 0, 0], size: [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c] }),
  );
}

export interface DepthwiseGeometry {
  info: tf.backend_util.Conv2DInfo;
  mult: number;
}

export function depthwiseInfo(xShape: number[], filterShape: number[], attrs: ConvAttrs): DepthwiseGeometry {
  const info = convInfo(xShape, filterShape, attrs, attrs.dilations ?? 1, true);
  return { info, mult: info.outChannels / info.inChannels };
}

/** Calls `body(xBase, yBase, fBase)` for every (n, oh, ow, kh, kw) whose input pixel lies inside x. */
export function forEachTap(
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
