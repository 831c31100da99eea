import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { absoluteError, fixture } from '../test/helpers.js';
import { resizePositionEmbedding } from './resize-position-embedding.js';
import { loadTimmWeights } from './timm-weights.js';
import { VisionTransformer } from './vision-transformer.js';

const TINY = {
  imageSize: [8, 12],
  patchSize: 4,
  channels: 3,
  numClasses: 5,
  dim: 16,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
} as const;

for (const backend of TEST_BACKENDS) {
  describe(`resizePositionEmbedding matches timm's resample_abs_pos_embed (${backend})`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, mode, antialias] of [
      ['vit_resized_bicubic', 'bicubic', true],
      ['vit_resized_bilinear', 'bilinear', false],
    ] as const) {
      test(`${mode}${antialias ? ' (antialias)' : ''}: 2×3 → 4×5 grid, positions and logits ≤ 1e-4`, async () => {
        const base = await fixture('vit_cls');
        const f = await fixture(name);
        const model = new VisionTransformer({ ...TINY, seed: 0 });
        loadTimmWeights(model, base.group('state.'));
        model.eval();
        const pos = await expectNoTensorLeak(
          () => resizePositionEmbedding(model.posEmbed, [4, 5], { mode, antialias, oldGrid: [2, 3] }),
          1,
        );
        expect(absoluteError(pos, f.get('pos_embed'))).toBeLessThanOrEqual(1e-5);
        const bigger = resizePositionEmbedding(model, [4, 5], { mode, antialias });
        expect(bigger.config.imageSize).toEqual([16, 20]);
        expect(bigger.training).toBe(false);
        const out = bigger.forward(f.get('in.x'));
        expect(absoluteError(out, f.get('out'))).toBeLessThanOrEqual(1e-4);
        tf.dispose([pos, out]);
        bigger.dispose();
        model.dispose();
        base.dispose();
        f.dispose();
      });
    }
  });
}

describe('resizePositionEmbedding', () => {
  beforeAll(() => onBackend('cpu'));

  test('keeps the [class] position; same grid gives the same table', () => {
    const pos = tf.randomNormal([1, 1 + 9, 4], 0, 1, 'float32', 1);
    const same = resizePositionEmbedding(pos, [3, 3], { antialias: false });
    expect(absoluteError(same, pos)).toBeLessThanOrEqual(1e-6);
    const big = resizePositionEmbedding(pos, [5, 6]);
    expect(big.shape).toEqual([1, 31, 4]);
    expect(absoluteError(tf.slice(big, 0, [1, 1, 4]), tf.slice(pos, 0, [1, 1, 4]))).toBe(0);
    tf.dispose([pos, same, big]);
  });

  test('tables that do not fit the grid → ShapeError', () => {
    const pos = tf.zeros([1, 11, 4]);
    expect(() => resizePositionEmbedding(pos, [4, 4])).toThrow(ShapeError);
    expect(() => resizePositionEmbedding(pos, [4, 4])).toThrow(
      'resizePositionEmbedding: the old grid 3×3 must hold the 10 patch positions of [1, 11, 4]',
    );
    const flat = tf.zeros([11, 4]);
    expect(() => resizePositionEmbedding(flat, [4, 4])).toThrow(
      'resizePositionEmbedding: position embedding must be [1, 1 + N, D] with N > 0, got [11, 4]',
    );
    tf.dispose([pos, flat]);
  });
});
