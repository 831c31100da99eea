import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { VIT_CONFIGS, countVitParameters, createVit, vitConfig } from './configs.js';
import { VisionTransformer } from './vision-transformer.js';

describe('named configs', () => {
  beforeAll(() => onBackend('cpu'));

  test("parameter counts from the config alone: timm's exact counts, within 1.5% of the paper's", () => {
    const counts = Object.fromEntries(
      Object.keys(VIT_CONFIGS).map((n) => [n, countVitParameters(vitConfig(n))]),
    );
    // timm's vit_*_224 models with 1000 classes have exactly these counts.
    expect(counts['Ti/16']).toBe(5_717_416);
    expect(counts['S/16']).toBe(22_050_664);
    expect(counts['B/16']).toBe(86_567_656);
    expect(counts['B/32']).toBe(88_224_232);
    expect(counts['L/16']).toBe(304_326_632);
    expect(counts['L/32']).toBe(306_535_400);
    expect(counts['H/14']).toBe(632_045_800);
    // The paper's Table 1: B 86M, L 307M, H 632M.
    for (const [name, paper] of [
      ['B/16', 86e6],
      ['L/16', 307e6],
      ['H/14', 632e6],
    ] as const)
      expect(Math.abs((counts[name] as number) / paper - 1)).toBeLessThan(0.015);
  });

  test('the count matches an allocated model, for every small config and variants', () => {
    for (const options of [
      vitConfig('M28/7'),
      vitConfig('M28/4'),
      vitConfig('M28/7', { pool: 'mean', numClasses: 0 }),
      vitConfig('M28/7', { hybrid: { widths: [8] }, patchSize: 14 }),
    ]) {
      const model = new VisionTransformer({ ...options, seed: 0 });
      expect(countVitParameters(options)).toBe(model.numParameters());
      model.dispose();
    }
  });

  test('every named config gives logits [B, classes] (the big ones at a tiny width and depth)', () => {
    for (const name of Object.keys(VIT_CONFIGS)) {
      const preset = vitConfig(name);
      const big = countVitParameters(preset) > 1e6;
      // Big configs keep their patch size, heads and image layout but shrink width and depth to stay cheap.
      const model = createVit(name, {
        imageSize: 2 * (preset.patchSize as number),
        seed: 0,
        ...(big ? { dim: 2 * (preset.heads as number), depth: 1 } : {}),
      });
      const x = tf.zeros([2, model.config.imageSize[0], model.config.imageSize[1], model.config.channels]);
      const y = model.forward(x);
      expect(y.shape, name).toEqual([2, preset.numClasses]);
      tf.dispose([x, y]);
      model.dispose();
    }
  });

  test('the demo config: patch 7, D 64, depth 4, 4 heads, MLP 128, dropout 0.1', () => {
    const m = createVit('M28/7', { seed: 0 });
    expect(m.config).toMatchObject({
      patchSize: 7,
      dim: 64,
      depth: 4,
      heads: 4,
      dropout: 0.1,
      imageSize: [28, 28],
    });
    expect(m.blocks.items[0]?.mlp.fc1.weight.shape).toEqual([128, 64]);
    m.dispose();
  });

  test('an unknown name → ConfigError listing the known ones', () => {
    expect(() => vitConfig('B/8')).toThrow(ConfigError);
    expect(() => createVit('B/8')).toThrow(
      "vitConfig: unknown config 'B/8'; known: Ti/16, S/16, B/16, B/32, L/16, L/32, H/14, M28/7, M28/4",
    );
  });
});
