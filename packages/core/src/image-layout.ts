import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from './errors.js';

/**
 * @ml's image layers (Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d) take channels-last NHWC activations,
 * tfjs' native layout; PyTorch uses NCHW. Convert at the boundary with these two helpers: images
 * and feature maps coming from PyTorch go through `toNHWC`, results going back through `toNCHW`.
 * Weights need no conversion: they are stored in PyTorch's layouts.
 */

function checkRank4(where: string, x: tf.Tensor, layout: string): void {
  if (x.rank !== 4)
    throw new ShapeError(`${where}: input must be rank 4 ${layout}, got ${formatShape(x.shape)}`);
}

/** [N, C, H, W] (PyTorch) → [N, H, W, C] (@ml, tfjs). */
export function toNHWC(x: tf.Tensor): tf.Tensor4D {
  checkRank4('toNHWC', x, '[N, C, H, W]');
  return tf.transpose(x as tf.Tensor4D, [0, 2, 3, 1]);
}

/** [N, H, W, C] (@ml, tfjs) → [N, C, H, W] (PyTorch). */
export function toNCHW(x: tf.Tensor): tf.Tensor4D {
  checkRank4('toNCHW', x, '[N, H, W, C]');
  return tf.transpose(x as tf.Tensor4D, [0, 3, 1, 2]);
}
