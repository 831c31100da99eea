import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { fanInAndOut, init } from './init.js';
import { checkPositiveInt } from './checks.js';
import { Module } from './module.js';
import { type Rng, resolveRng } from './rng.js';

/** A size given once for both spatial axes (`3`) or per axis (`[kh, kw]`). */
export type Size2d = number | readonly [number, number];

/** Conv2d padding: symmetric zeros per axis (`1`, `[1, 2]`), `'valid'` (none) or `'same'` (stride 1 only, as PyTorch). */
export type Conv2dPadding = Size2d | 'same' | 'valid';

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: Size2d;
  /** Default 1. */
  stride?: Size2d;
  /** Default 0. */
  padding?: Conv2dPadding;
  /** Spacing between kernel taps (default 1). */
  dilation?: Size2d;
  /** Split channels into this many independent groups (default 1); `groups = inChannels` is a depthwise conv. */
  groups?: number;
  /** Add a learned bias (default true). */
  bias?: boolean;
  /** Randomness for the initial weights; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link Conv2dOptions}. */
export const DEFAULT_CONV2D_OPTIONS = { stride: 1, padding: 0, dilation: 1, groups: 1, bias: true } as const;

/** `3` → [3, 3]; `[3, 5]` stays. Each entry must be an integer ≥ `min` (a ConfigError naming `name` otherwise). */
export function toPair(where: string, name: string, value: Size2d, min: number): [number, number] {
  const pair: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  const ok =
    (Array.isArray(value) ? value.length === 2 : typeof value === 'number') &&
    pair.every((v) => Number.isInteger(v) && v >= min);
  if (!ok) {
    const what = min === 0 ? 'non-negative' : 'positive';
    throw new ConfigError(
      `${where}: ${name} must be a ${what} integer or a pair of them, got ${JSON.stringify(value)}`,
    );
  }
  return pair;
}

/**
 * Inserts (d − 1) zeros between the taps of a [kh, kw, cin, cout] kernel: a dilated convolution as
 * a plain one. tfjs has no gradient for dilated convolutions; this path is differentiable and costs
 * d² more multiply-adds on the kernel, which only dilated layers pay.
 */
function dilateKernel(w: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const [kh, kw, cin, cout] = w.shape;
  let k: tf.Tensor = w;
  if (dh > 1) {
    const h = tf.pad(tf.reshape(k, [kh, 1, kw * cin * cout]), [
      [0, 0],
      [0, dh - 1],
      [0, 0],
    ]); // [kh, dh, kw·cin·cout]
    k = tf.slice(tf.reshape(h, [kh * dh, kw, cin, cout]), 0, [(kh - 1) * dh + 1, kw, cin, cout]); // [khe, kw, cin, cout]
  }
  const khe = k.shape[0];
  if (dw > 1) {
    const v = tf.pad(tf.reshape(k, [khe, kw, 1, cin * cout]), [
      [0, 0],
      [0, 0],
      [0, dw - 1],
      [0, 0],
    ]); // [khe, kw, dw, cin·cout]
    k = tf.slice(tf.reshape(v, [khe, kw * dw, cin, cout]), 0, [khe, (kw - 1) * dw + 1, cin, cout]); // [khe, kwe, cin, cout]
  }
  return k as tf.Tensor4D;
}

/**
 * 2-D convolution, like `torch.nn.Conv2d`, on channels-last activations.
 *
 * Layout: input [N, H, W, inChannels] → output [N, H', W', outChannels] (NHWC, tfjs' native layout;
 * convert PyTorch NCHW tensors with `toNHWC` / `toNCHW`). The weight is stored in PyTorch's layout
 * [outChannels, inChannels / groups, kh, kw] and the bias as [outChannels], so PyTorch state dicts load
 * directly; forward transposes the weight to tfjs' [kh, kw, in, out].
 *
 * H' = ⌊(H + padTop + padBottom − dilation·(kh − 1) − 1) / stride⌋ + 1, as PyTorch. Init is PyTorch's:
 * kaiming-uniform with a = √5 (U(±1/√fanIn)), bias U(±1/√fanIn), fanIn = inChannels/groups·kh·kw.
 * Defaults: {@link DEFAULT_CONV2D_OPTIONS} (stride 1, padding 0, dilation 1, groups 1, bias).
 */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  /** Zero padding [top, bottom, left, right], resolved from the `padding` option. */
  readonly padding: [number, number, number, number];
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(options: Conv2dOptions) {
    super();
    const d = DEFAULT_CONV2D_OPTIONS;
    const { inChannels, outChannels, groups = d.groups, bias = d.bias } = options;
    checkPositiveInt('Conv2d', 'inChannels', inChannels);
    checkPositiveInt('Conv2d', 'outChannels', outChannels);
    checkPositiveInt('Conv2d', 'groups', groups);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ConfigError(
        `Conv2d: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${groups})`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.kernelSize = toPair('Conv2d', 'kernelSize', options.kernelSize, 1);
    this.stride = toPair('Conv2d', 'stride', options.stride ?? d.stride, 1);
    this.dilation = toPair('Conv2d', 'dilation', options.dilation ?? d.dilation, 1);
    this.padding = this.#resolvePadding(options.padding ?? d.padding);

    const rng = resolveRng(options.rng, options.seed);
    const shape = [outChannels, inChannels / groups, ...this.kernelSize]; // PyTorch layout
    this.weight = this.registerParameter('weight', init.kaimingUniform(rng, shape, { a: Math.sqrt(5) }));
    const bound = 1 / Math.sqrt(fanInAndOut(shape).fanIn);
    this.bias = bias ? this.registerParameter('bias', init.uniform(rng, [outChannels], -bound, bound)) : null;
  }

  #resolvePadding(padding: Conv2dPadding): [number, number, number, number] {
    if (padding === 'valid') return [0, 0, 0, 0];
    if (padding === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) {
        throw new ConfigError(
          `Conv2d: padding 'same' needs stride 1 (as in PyTorch), got stride ${formatShape(this.stride)}`,
        );
      }
      // PyTorch puts the odd pixel of an even total at the end (bottom/right).
      const [th, tw] = [0, 1].map(
        (i) => (this.dilation[i] as number) * ((this.kernelSize[i] as number) - 1),
      ) as [number, number];
      return [Math.floor(th / 2), th - Math.floor(th / 2), Math.floor(tw / 2), tw - Math.floor(tw / 2)];
    }
    if (typeof padding === 'string')
      throw new ConfigError(
        `Conv2d: padding must be a number, a pair, 'same' or 'valid', got '${String(padding)}'`,
      );
    const [ph, pw] = toPair('Conv2d', 'padding', padding, 0);
    return [ph, ph, pw, pw];
  }

  /** Output spatial size [H', W'] for an input of spatial size [H, W]. */
  outputSize(h: number, w: number): [number, number] {
    const [pt, pb, pl, pr] = this.padding;
    const eh = this.dilation[0] * (this.kernelSize[0] - 1) + 1;
    const ew = this.dilation[1] * (this.kernelSize[1] - 1) + 1;
    return [
      Math.floor((h + pt + pb - eh) / this.stride[0]) + 1,
      Math.floor((w + pl + pr - ew) / this.stride[1]) + 1,
    ];
  }

  /** Convolves x [N, H, W, inChannels] (NHWC) → [N, H', W', outChannels]. */
  forward(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      const hint =
        x.rank === 4 && x.shape[1] === this.inChannels
          ? ' (this looks like NCHW; convert it with toNHWC)'
          : '';
      throw new ShapeError(
        `Conv2d: input must be [N, H, W, ${this.inChannels}] (NHWC), got ${formatShape(x.shape)}${hint}`,
      );
    }
    const [, h, w] = x.shape as [number, number, number, number];
    const [ho, wo] = this.outputSize(h, w);
    if (ho < 1 || wo < 1) {
      throw new ShapeError(
        `Conv2d: input of spatial size [${h}, ${w}] with padding ${formatShape(this.padding)} is smaller than the kernel ${formatShape(this.kernelSize)} at dilation ${formatShape(this.dilation)}`,
      );
    }
    return tf.tidy(() => {
      const x4 = x as tf.Tensor4D;
      const [pt, pb, pl, pr] = this.padding;
      const pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
        pt + pb + pl + pr === 0
          ? 'valid'
          : [
              [0, 0],
              [pt, pb],
              [pl, pr],
              [0, 0],
            ];
      let k = tf.transpose(this.weight, [2, 3, 1, 0]) as tf.Tensor4D; // [kh, kw, in/groups, out]
      if (this.dilation[0] > 1 || this.dilation[1] > 1) k = dilateKernel(k, ...this.dilation); // [khe, kwe, in/groups, out]
      let y: tf.Tensor4D;
      if (this.groups === 1) {
        y = tf.conv2d(x4, k, this.stride, pad); // [N, H', W', out]
      } else if (this.groups === this.inChannels) {
        // Output channel o of a depthwise conv reads input channel ⌊o / multiplier⌋, as tfjs' depthwise filter [kh, kw, in, mult].
        const [kh, kw] = k.shape;
        const dk = tf.reshape<tf.Rank.R4>(k, [kh, kw, this.inChannels, this.outChannels / this.inChannels]); // [kh, kw, in, mult]
        y = tf.depthwiseConv2d(x4, dk, this.stride, pad); // [N, H', W', out]
      } else {
        const xs = tf.split(x4, this.groups, 3); // groups × [N, H, W, in/groups]
        const ks = tf.split(k, this.groups, 3); // groups × [kh, kw, in/groups, out/groups]
        y = tf.concat(
          xs.map((xg, g) => tf.conv2d(xg as tf.Tensor4D, ks[g] as tf.Tensor4D, this.stride, pad)),
          3,
        ); // [N, H', W', out]
      }
      return this.bias === null ? y : tf.add<tf.Tensor4D>(y, this.bias);
    });
  }
}
