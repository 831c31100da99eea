import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from './errors.js';
import { toPair } from './conv2d.js';
import type { Size2d } from './conv2d.js';
import { Module } from './module.js';

/** Options of {@link MaxPool2d} and {@link AvgPool2d}. */
export interface Pool2dOptions {
  kernelSize: Size2d;
  /** Default: `kernelSize` (non-overlapping windows), as PyTorch. */
  stride?: Size2d;
  /** Implicit padding on each side, at most half the kernel (default 0). */
  padding?: Size2d;
}

/** Options of {@link AvgPool2d}. */
export interface AvgPool2dOptions extends Pool2dOptions {
  /** Count padded zeros in each window's divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/** Defaults of {@link Pool2dOptions} / {@link AvgPool2dOptions} (`stride` defaults to `kernelSize`). */
export const DEFAULT_POOL2D_OPTIONS = { padding: 0, countIncludePad: true } as const;

/** Shared option checks, shape checks and output sizes of the 2-D pooling layers (NHWC). */
export abstract class Pool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(where: string, options: Pool2dOptions) {
    super();
    this.kernelSize = toPair(where, 'kernelSize', options.kernelSize, 1);
    this.stride = toPair(where, 'stride', options.stride ?? options.kernelSize, 1);
    this.padding = toPair(where, 'padding', options.padding ?? DEFAULT_POOL2D_OPTIONS.padding, 0);
    if (this.padding.some((p, i) => p > (this.kernelSize[i] as number) / 2)) {
      throw new ConfigError(
        `${where}: padding ${formatShape(this.padding)} must be at most half the kernel size ${formatShape(this.kernelSize)}`,
      );
    }
  }

  /** Output spatial size [H', W'] = ⌊(H + 2p − k) / s⌋ + 1 per axis, as PyTorch (floor mode). */
  outputSize(h: number, w: number): [number, number] {
    const out = (n: number, i: 0 | 1) =>
      Math.floor((n + 2 * this.padding[i] - this.kernelSize[i]) / this.stride[i]) + 1;
    return [out(h, 0), out(w, 1)];
  }

  protected checkInput(x: tf.Tensor): tf.Tensor4D {
    const name = this.constructor.name;
    if (x.rank !== 4)
      throw new ShapeError(`${name}: input must be [N, H, W, C] (NHWC), got ${formatShape(x.shape)}`);
    const [ho, wo] = this.outputSize(x.shape[1] as number, x.shape[2] as number);
    if (ho < 1 || wo < 1) {
      throw new ShapeError(
        `${name}: input of spatial size [${x.shape[1]}, ${x.shape[2]}] with padding ${formatShape(this.padding)} is smaller than the kernel ${formatShape(this.kernelSize)}`,
      );
    }
    return x as tf.Tensor4D;
  }

  /**
   * tfjs padding for the layer's implicit padding. Always explicit: tfjs sizes a numeric padding's
   * output with the kernel height and stride height on both axes, which is wrong for non-square ones.
   */
  protected tfPad(): 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
    const [ph, pw] = this.padding;
    return ph === 0 && pw === 0
      ? 'valid'
      : [
          [0, 0],
          [ph, ph],
          [pw, pw],
          [0, 0],
        ];
  }
}

/**
 * Max pooling over NHWC windows, like `torch.nn.MaxPool2d` (padding never wins the max).
 * [N, H, W, C] → [N, H', W', C] with H' = ⌊(H + 2·padding − kernel) / stride⌋ + 1.
 */
export class MaxPool2d extends Pool2d {
  constructor(options: Pool2dOptions) {
    super('MaxPool2d', options);
  }

  forward(x: tf.Tensor): tf.Tensor4D {
    const x4 = this.checkInput(x);
    return tf.maxPool(x4, this.kernelSize, this.stride, this.tfPad()); // [N, H', W', C]
  }
}

/**
 * Average pooling over NHWC windows, like `torch.nn.AvgPool2d`. With padding, PyTorch's default
 * (`countIncludePad: true`) divides by the full window size, counting the padded zeros; `false`
 * divides by the number of real pixels in the window. [N, H, W, C] → [N, H', W', C].
 */
export class AvgPool2d extends Pool2d {
  readonly countIncludePad: boolean;

  constructor(options: AvgPool2dOptions) {
    super('AvgPool2d', options);
    this.countIncludePad = options.countIncludePad ?? DEFAULT_POOL2D_OPTIONS.countIncludePad;
  }

  forward(x: tf.Tensor): tf.Tensor4D {
    const x4 = this.checkInput(x);
    const [ph, pw] = this.padding;
    if (ph === 0 && pw === 0) return tf.avgPool(x4, this.kernelSize, this.stride, 'valid');
    // tfjs' own padded average pool leaves the padding out of the divisor but not out of its gradient's,
    // so both modes pad with zeros explicitly and pool 'valid' (whose gradient is right): that is
    // PyTorch's count_include_pad=True; for False, divide by the share of real pixels in each window.
    return tf.tidy(() => {
      const paddings: [number, number][] = [
        [0, 0],
        [ph, ph],
        [pw, pw],
        [0, 0],
      ];
      const y = tf.avgPool(tf.pad(x4, paddings), this.kernelSize, this.stride, 'valid'); // [N, H', W', C]
      if (this.countIncludePad) return y;
      const [, h, w] = x4.shape;
      const real = tf.pad(tf.ones([1, h, w, 1]), paddings); // [1, H + 2ph, W + 2pw, 1]: 1 on real pixels
      return tf.div(y, tf.avgPool(real as tf.Tensor4D, this.kernelSize, this.stride, 'valid')); // [N, H', W', C]
    });
  }
}
