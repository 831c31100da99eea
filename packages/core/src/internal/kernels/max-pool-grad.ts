import * as tf from '@tensorflow/tfjs-core';

import {
  add,
  F32,
  f32Load,
  f32Store,
  f32x4,
  fAdd,
  fConst,
  fGt,
  flat,
  geS,
  get,
  gtS,
  I32,
  i32,
  i32x4,
  iAnd,
  ifElse,
  inc,
  ltS,
  mul,
  select,
  set,
  sub,
  V128,
  vAdd,
  vAnd,
  vBitselect,
  vGt,
  vI32Eq,
  vI32Splat,
  vLoad,
  vStore,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import {
  input,
  size,
  wasmBackend,
  type ConvAttrs,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';
import { cachedModule } from './simd-map.js';

// MaxPoolGrad (NHWC) as SIMD WebAssembly: the stock kernel loses gradients (at padded borders, among
// others), and a JS loop with a data-dependent branch per element was the CNN's slowest kernel. Per
// output position and group of 4 channels, one pass over the window's taps (those inside the input, in
// (i, j) order) keeps the best value and the winning tap's offset per lane: a tap wins only if strictly
// greater than the best so far, from −∞, so the first maximum wins (as the stock forward's argmax), NaN
// never wins, and a window with no winner sends nothing. A second pass adds dy, masked to the lanes
// each tap won, into dx: windows may overlap, so gradients accumulate, in output-position order (adding
// the +0 of a lost lane leaves dx unchanged, and dx, starting at +0, is never −0). Channels past the last
// multiple of 4 take the same steps one float at a time. The geometry is passed as parameters: one
// module serves every pool.

// Parameters: byte addresses of x, dy, dx (dx zeroed), then the geometry.
const [X, DY, DX] = [0, 1, 2];
const [BATCH, IN_H, IN_W, C, OUT_H, OUT_W] = [3, 4, 5, 6, 7, 8];
const [FH, FW, SH, SW, TOP, LEFT] = [9, 10, 11, 12, 13, 14];
// i32 locals. Bytes per pixel, per its whole channel groups, per input row, per image:
const [PIX, PIX4, ROW, IMG] = [15, 16, 17, 18];
// Loop counters (batch, output row, output column; W0: the window's first column, maybe negative):
const [B, OH, OW, W0] = [19, 20, 21, 22];
// The window's rows inside the input as byte offsets into the image (RLO..RHI), and its taps (LO: the
// first tap, HI: the end of its rows, SPAN: the length of a row's taps), also in bytes:
const [RLO, RHI, LO, HI, SPAN] = [23, 24, 25, 26, 27];
// The current image of x and dx, dy's current pixel; the channel's byte offset G and x, dx at it:
const [XI, DXI, DYP, G, XG, DXG] = [28, 29, 30, 31, 32, 33];
// The current row's first tap (first, h0 = oh·sh − top) and end, the current tap, the scalar path's winner:
const [R, END, OFF, ARG] = [34, 35, 36, 37];
const [BEST, ARGV, V, M] = [38, 39, 40, 41]; // v128 locals
const [BEST_S, V_S] = [42, 43]; // f32 locals

/** max(a, b) and min(a, b) of two signed i32 expressions, each evaluated twice (keep them cheap). */
const max = (a: Code, b: Code): Code => flat(a, b, a, b, gtS, select);
const min = (a: Code, b: Code): Code => flat(a, b, a, b, ltS, select);

/** Runs `body` with local OFF at each tap's byte offset into the image, in (i, j) order. */
const taps = (...body: Code[]): Code =>
  flat(
    get(LO),
    set(R),
    whileLoop(
      flat(get(R), get(HI), ltS),
      flat(get(R), set(OFF), get(R), get(SPAN), add, set(END)),
      whileLoop(flat(get(OFF), get(END), ltS), ...body, inc(OFF, get(PIX))),
      inc(R, get(ROW)),
    ),
  );

/** Four channels at byte offset G: best and winning offset per lane, then dy into dx at the winners. */
const group = flat(
  f32x4(-Infinity),
  set(BEST),
  i32x4(-1),
  set(ARGV),
  taps(
    flat(get(XG), get(OFF), add, vLoad(), set(V)),
    flat(get(V), get(BEST), vGt, set(M)),
    flat(get(V), get(BEST), get(M), vBitselect, set(BEST)),
    flat(get(OFF), vI32Splat, get(ARGV), get(M), vBitselect, set(ARGV)),
  ),
  flat(get(DYP), get(G), add, vLoad(), set(V)),
  taps(
    flat(get(DXG), get(OFF), add, get(DXG), get(OFF), add, vLoad()),
    flat(get(V), get(ARGV), get(OFF), vI32Splat, vI32Eq, vAnd, vAdd, vStore()),
  ),
);

/** One channel at byte offset G (past the whole groups), the same steps as `group` on scalars. */
const single = flat(
  fConst(-Infinity),
  set(BEST_S),
  i32(-1),
  set(ARG),
  taps(
    flat(get(XG), get(OFF), add, f32Load(), set(V_S)),
    ifElse(flat(get(V_S), get(BEST_S), fGt), flat(get(V_S), set(BEST_S), get(OFF), set(ARG))),
  ),
  ifElse(
    flat(get(ARG), i32(0), geS),
    flat(
      flat(get(DXG), get(ARG), add),
      flat(get(DXG), get(ARG), add, f32Load(), get(DYP), get(G), add, f32Load(), fAdd),
      f32Store(),
    ),
  ),
);

/** Points XG and DXG at channel byte offset G of the current images. */
const atChannel = flat(get(XI), get(G), add, set(XG), get(DXI), get(G), add, set(DXG));

const backwardFn: FnDef = {
  name: 'backward',
  params: 15,
  locals: [
    [23, I32],
    [4, V128],
    [2, F32],
  ],
  body: flat(
    flat(get(C), i32(4), mul, set(PIX), get(PIX), i32(-16), iAnd, set(PIX4)),
    flat(get(IN_W), get(PIX), mul, set(ROW), get(IN_H), get(ROW), mul, set(IMG)),
    flat(get(X), set(XI), get(DX), set(DXI), get(DY), set(DYP), i32(0), set(B)),
    whileLoop(
      flat(get(B), get(BATCH), ltS),
      flat(i32(0), set(OH)),
      whileLoop(
        flat(get(OH), get(OUT_H), ltS),
        // Rows [max(h0, 0), min(h0 + fh, inH)) with h0 = oh·sh − top.
        flat(get(OH), get(SH), mul, get(TOP), sub, set(R)),
        flat(max(get(R), i32(0)), get(ROW), mul, set(RLO)),
        flat(min(flat(get(R), get(FH), add), get(IN_H)), get(ROW), mul, set(RHI)),
        flat(i32(0), set(OW)),
        whileLoop(
          flat(get(OW), get(OUT_W), ltS),
          // Columns [max(w0, 0), min(w0 + fw, inW)) with w0 = ow·sw − left.
          flat(get(OW), get(SW), mul, get(LEFT), sub, set(W0)),
          flat(max(get(W0), i32(0)), get(PIX), mul, set(END)),
          flat(get(RLO), get(END), add, set(LO), get(RHI), get(END), add, set(HI)),
          flat(min(flat(get(W0), get(FW), add), get(IN_W)), get(PIX), mul, get(END), sub, set(SPAN)),
          flat(i32(0), set(G)),
          whileLoop(flat(get(G), get(PIX4), ltS), atChannel, group, inc(G, i32(16))),
          whileLoop(flat(get(G), get(PIX), ltS), atChannel, single, inc(G, i32(4))),
          inc(DYP, get(PIX)),
          inc(OW, i32(1)),
        ),
        inc(OH, i32(1)),
      ),
      inc(XI, get(IMG)),
      inc(DXI, get(IMG)),
      inc(B, i32(1)),
    ),
  ),
};

type BackwardFn = (...args: number[] & { length: 15 }) => void;

const poolModule = (memory: WebAssembly.Memory): { backward: BackwardFn } =>
  cachedModule<{ backward: BackwardFn }>(memory, 'max-pool-grad', () => [backwardFn]);

function maxPoolGrad(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
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
  const out = be.makeOutput(x.shape, 'float32');
  const dx = be.ptr(out);
  be.heapF32().fill(0, dx >> 2, (dx >> 2) + size(x.shape)); // after makeOutput: the heap may have grown
  poolModule(be.memory()).backward(
    be.ptr(x),
    be.ptr(dy),
    dx,
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
  );
  return out;
}

/** @ml's wasm `MaxPoolGrad` kernel. */
export const maxPoolGradConfig: WasmKernel = { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGrad };
