import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { ShapeError } from './errors.js';
import { toNCHW, toNHWC } from './image-layout.js';
import { onBackend } from './testing/index.js';

describe('toNHWC / toNCHW', () => {
  beforeAll(() => onBackend('cpu'));

  test('convert between PyTorch NCHW and @ml NHWC', () => {
    const nchw = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]); // channel 0: 1..4, channel 1: 5..8
    const nhwc = toNHWC(nchw);
    expect(nhwc.shape).toEqual([1, 2, 2, 2]);
    expect(Array.from(nhwc.dataSync())).toEqual([1, 5, 2, 6, 3, 7, 4, 8]);
    expect(toNHWC(tf.zeros([2, 3, 4, 5])).shape).toEqual([2, 4, 5, 3]);
    expect(toNCHW(tf.zeros([2, 4, 5, 3])).shape).toEqual([2, 3, 4, 5]);
    expect(Array.from(toNCHW(nhwc).dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('reject tensors that are not rank 4', () => {
    expectThrows(
      () => toNHWC(tf.zeros([2, 2, 2])),
      ShapeError,
      'toNHWC: input must be rank 4 [N, C, H, W], got [2, 2, 2]',
    );
    expectThrows(
      () => toNCHW(tf.zeros([2])),
      ShapeError,
      'toNCHW: input must be rank 4 [N, H, W, C], got [2]',
    );
  });
});
