import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, expectTypeOf, test } from 'vitest';

import { AdamW, ConfigError, ShapeError, crossEntropy } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, forwardAndGrads, onBackend } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

import { absoluteError, fixture, relativeError } from '../test/helpers.js';
import { loadTimmWeights, timmName } from './timm-weights.js';
import { VisionTransformer, dropPathRates } from './vision-transformer.js';
import type { VitResult } from './vision-transformer.js';

// Leak check length: 100 steps on wasm; 10 on the slow pure-JS backend.
const leakSteps = (backend: string): number => (backend === 'wasm' ? 100 : 10);

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
  describe(`VisionTransformer parity with a timm-layout PyTorch ViT (${backend})`, () => {
    let cls: Fixture;
    let mean: Fixture;
    beforeAll(async () => {
      await onBackend(backend);
      cls = await fixture('vit_cls');
      mean = await fixture('vit_mean');
    });
    afterAll(() => {
      cls.dispose();
      mean.dispose();
    });

    const cases = [
      { name: 'cls pooling', get: () => cls, options: TINY },
      {
        name: 'mean pooling, no qkv bias, 1 channel',
        get: () => mean,
        options: { ...TINY, imageSize: 8, channels: 1, pool: 'mean', qkvBias: false },
      },
    ] as const;
    for (const c of cases) {
      test(`${c.name}: logits ≤ 1e-4, gradients ≤ 1e-4 relative, attention weights`, () => {
        const f = c.get();
        const model = new VisionTransformer({ ...c.options, seed: 0 });
        loadTimmWeights(model, f.group('state.'));
        model.eval();
        const r = forwardAndGrads(model, { x: f.get('in.x') }, f.get('dy'), ({ x }) =>
          model.forward(x as tf.Tensor),
        );
        try {
          expect(absoluteError(r.out, f.get('out'))).toBeLessThanOrEqual(1e-4);
          expect(relativeError(r.grads['in.x'] as tf.Tensor, f.get('grad.in.x'))).toBeLessThanOrEqual(1e-4);
          for (const [name, v] of model.namedParameters()) {
            if (!v.trainable) continue;
            const g = r.grads[name] as tf.Tensor;
            expect(relativeError(g, f.get(`grad.${timmName(name)}`)), name).toBeLessThanOrEqual(1e-4);
          }
        } finally {
          r.dispose();
        }
        const { output, attentions } = model.features(f.get('in.x'), { returnAttention: true });
        expect(absoluteError(output, f.get('features'))).toBeLessThanOrEqual(1e-4);
        attentions.forEach((a, i) => expect(absoluteError(a, f.get(`attn.${i}`))).toBeLessThanOrEqual(1e-5));
        tf.dispose([output, ...attentions]);
        model.dispose();
      });
    }

    test('forward, features and attention maps free every intermediate tensor', async () => {
      const model = new VisionTransformer({ ...TINY, seed: 1, dropout: 0.1, dropPath: 0.2 });
      const x = tf.randomNormal([2, 8, 12, 3], 0, 1, 'float32', 3);
      await expectNoTensorLeak(() => tf.dispose(model.forward(x)));
      await expectNoTensorLeak(() => {
        const r = model.forward(x, { returnAttention: true });
        tf.dispose([r.output, ...r.attentions]);
      });
      await expectNoTensorLeak(() => tf.dispose(model.features(x)));
      tf.dispose(x);
      model.dispose();
    });

    test(`${leakSteps(backend)} training steps with dropout and drop path leave numTensors unchanged`, async () => {
      const model = new VisionTransformer({
        ...TINY,
        seed: 2,
        dropout: 0.1,
        attnDropout: 0.1,
        headDropout: 0.1,
        dropPath: 0.1,
      });
      const opt = new AdamW(model, { lr: 1e-3 });
      const x = tf.randomNormal([2, 8, 12, 3], 0, 1, 'float32', 4);
      const y = tf.tensor1d([0, 3], 'int32');
      const step = () => tf.dispose(opt.minimize(() => crossEntropy(model.forward(x), y)));
      step(); // the optimizer's slots are created on the first step
      await expectNoTensorLeak(() => {
        for (let i = 0; i < leakSteps(backend); i++) step();
      });
      tf.dispose([x, y]);
      opt.dispose();
      model.dispose();
    });
  });
}

/** Two eval forwards agree exactly; a training forward differs (dropout or drop path at work). */
function expectRandomOnlyInTraining(model: VisionTransformer, x: tf.Tensor): void {
  model.eval();
  const e1 = model.forward(x);
  const e2 = model.forward(x);
  expect(absoluteError(e1, e2)).toBe(0);
  model.train();
  const t1 = model.forward(x);
  expect(absoluteError(t1, e1)).toBeGreaterThan(1e-4);
  tf.dispose([e1, e2, t1]);
}

describe('VisionTransformer', () => {
  beforeAll(() => onBackend('cpu'));

  test("parameter names and shapes are timm's (attention under @ml/attention's names)", () => {
    const model = new VisionTransformer({ ...TINY, depth: 1, seed: 0 });
    expect(model.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['cls_token', [1, 1, 16]],
      ['pos_embed', [1, 7, 16]],
      ['patch_embed.proj.weight', [16, 3, 4, 4]],
      ['patch_embed.proj.bias', [16]],
      ['blocks.0.norm1.weight', [16]],
      ['blocks.0.norm1.bias', [16]],
      ['blocks.0.attn.in_proj_weight', [48, 16]],
      ['blocks.0.attn.in_proj_bias', [48]],
      ['blocks.0.attn.out_proj.weight', [16, 16]],
      ['blocks.0.attn.out_proj.bias', [16]],
      ['blocks.0.norm2.weight', [16]],
      ['blocks.0.norm2.bias', [16]],
      ['blocks.0.mlp.fc1.weight', [32, 16]],
      ['blocks.0.mlp.fc1.bias', [32]],
      ['blocks.0.mlp.fc2.weight', [16, 32]],
      ['blocks.0.mlp.fc2.bias', [16]],
      ['norm.weight', [16]],
      ['norm.bias', [16]],
      ['head.weight', [5, 16]],
      ['head.bias', [5]],
    ]);
    model.dispose();
  });

  test('returnAttention changes the return type (checked by tsc)', () => {
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    const x = tf.zeros([1, 8, 12, 3]);
    const plain = model.forward(x);
    const full = model.forward(x, { returnAttention: true });
    const tokens = model.features(x);
    const withMaps = model.features(x, { returnAttention: true });
    expectTypeOf(plain).toEqualTypeOf<tf.Tensor2D>();
    expectTypeOf(full).toEqualTypeOf<VitResult>();
    expectTypeOf(tokens).toEqualTypeOf<tf.Tensor3D>();
    expectTypeOf(withMaps).toEqualTypeOf<VitResult>();
    expect(full.attentions).toHaveLength(2);
    tf.dispose([x, plain, full.output, ...full.attentions, tokens, withMaps.output, ...withMaps.attentions]);
    model.dispose();
  });

  test('shapes: logits, features, features-only model, non-square images', () => {
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    const x = tf.zeros([2, 8, 12, 3]);
    const logits = model.forward(x);
    const feats = model.features(x);
    expect(logits.shape).toEqual([2, 5]);
    expect(feats.shape).toEqual([2, 7, 16]);
    expect(model.gridSize).toEqual([2, 3]);
    const bare = new VisionTransformer({ ...TINY, numClasses: 0, seed: 0 });
    const pooled = bare.forward(x);
    expect(pooled.shape).toEqual([2, 16]);
    expect(bare.head).toBeNull();
    tf.dispose([x, logits, feats, pooled]);
    model.dispose();
    bare.dispose();
  });

  test('the same seed gives the same weights; another seed does not', () => {
    const a = new VisionTransformer({ ...TINY, seed: 5 });
    const b = new VisionTransformer({ ...TINY, seed: 5 });
    const c = new VisionTransformer({ ...TINY, seed: 6 });
    expect(Array.from(a.posEmbed.dataSync())).toEqual(Array.from(b.posEmbed.dataSync()));
    expect(Array.from(a.posEmbed.dataSync())).not.toEqual(Array.from(c.posEmbed.dataSync()));
    [a, b, c].forEach((m) => m.dispose());
  });

  test('drop path: linspace rates per block, per-sample in training, identity in eval', () => {
    dropPathRates(0.3, 4).forEach((r, i) => expect(r).toBeCloseTo([0, 0.1, 0.2, 0.3][i] as number, 12));
    expect(dropPathRates(0.3, 1)).toEqual([0]);
    const model = new VisionTransformer({ ...TINY, dropPath: 0.5, seed: 0 });
    expect(model.blocks.items.map((b) => b.dropPath1.p)).toEqual([0, 0.5]);
    expect(model.namedGenerators().map(([n]) => n)).toContain('blocks.1.drop_path1.rng');
    const x = tf.randomNormal([8, 8, 12, 3], 0, 1, 'float32', 1);
    expectRandomOnlyInTraining(model, x);
    tf.dispose(x);
    model.dispose();
  });

  test('head dropout: on the pooled features before the head in training, identity in eval', () => {
    const model = new VisionTransformer({ ...TINY, headDropout: 0.5, seed: 0 });
    expect(model.headDrop.p).toBe(0.5);
    const x = tf.randomNormal([8, 8, 12, 3], 0, 1, 'float32', 1);
    expectRandomOnlyInTraining(model, x);
    // the features before the head are untouched by it
    model.train();
    const f1 = model.features(x);
    model.eval();
    const f2 = model.features(x);
    expect(absoluteError(f1, f2)).toBe(0);
    tf.dispose([x, f1, f2]);
    model.dispose();
  });

  test('hybrid stem: the CNN feature map is the patch grid', () => {
    const model = new VisionTransformer({ ...TINY, imageSize: 16, hybrid: { widths: [4, 8] }, seed: 0 });
    expect(model.stem?.stride).toBe(4);
    expect(model.patchEmbed.proj.weight.shape).toEqual([16, 8, 1, 1]);
    expect(model.gridSize).toEqual([4, 4]);
    const x = tf.zeros([2, 16, 16, 3]);
    const y = model.forward(x);
    expect(y.shape).toEqual([2, 5]);
    tf.dispose([x, y]);
    model.dispose();
    expect(
      () => new VisionTransformer({ ...TINY, imageSize: 16, patchSize: 4, hybrid: { widths: [4, 8, 8] } }),
    ).toThrow(
      'VisionTransformer: with a hybrid stem of 3 stages (stride 8) the patch size (4) must be a multiple of the stride',
    );
  });

  test('bad options → ConfigError naming them', () => {
    const build = (o: object) => () => new VisionTransformer({ ...TINY, ...o });
    expect(build({ imageSize: [30, 28], patchSize: 7 })).toThrow(ConfigError);
    expect(build({ imageSize: [30, 28], patchSize: 7 })).toThrow(
      'VisionTransformer: image size 30×28 must be divisible by the patch size 7',
    );
    expect(build({ dim: 10, heads: 4 })).toThrow(
      'VisionTransformer: dim (10) must be divisible by heads (4)',
    );
    expect(build({ pool: 'max' })).toThrow("VisionTransformer: pool must be 'cls' or 'mean', got 'max'");
    expect(build({ numClasses: -1 })).toThrow('VisionTransformer: numClasses must be an integer ≥ 0, got -1');
    expect(build({ dropPath: 1 })).toThrow('VisionTransformer: dropPath must be in [0, 1), got 1');
    expect(build({ headDropout: 1.5 })).toThrow('VisionTransformer: headDropout must be in [0, 1), got 1.5');
    expect(build({ layerNormEps: 0 })).toThrow('VisionTransformer: layerNormEps must be > 0, got 0');
  });

  test('images of the wrong rank, size or channel count → ShapeError with both shapes', () => {
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    for (const shape of [
      [2, 8, 12],
      [2, 8, 12, 1],
      [2, 3, 8, 12],
    ]) {
      const x = tf.zeros(shape);
      expect(() => model.forward(x)).toThrow(ShapeError);
      expect(() => model.forward(x)).toThrow(
        `VisionTransformer: images must be [B, 8, 12, 3] (NHWC), got [${shape.join(', ')}]`,
      );
      x.dispose();
    }
    model.dispose();
  });
});
