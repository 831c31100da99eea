import { ConfigError } from '@ml/core';

import { VisionTransformer, mlpDim, resolveVitConfig } from './vision-transformer.js';
import type { VisionTransformerOptions } from './vision-transformer.js';

/** The sizes a named ViT config fixes (the rest come from {@link DEFAULT_VIT_OPTIONS}). */
export type VitPreset = Required<
  Pick<
    VisionTransformerOptions,
    'imageSize' | 'patchSize' | 'channels' | 'numClasses' | 'dim' | 'depth' | 'heads'
  >
> &
  Pick<VisionTransformerOptions, 'mlpRatio' | 'dropout'>;

/**
 * Named configs: the paper's ViT-Ti/S/B/L/H (Ti and S as timm defines them) at 224×224 RGB with 1000
 * classes, and two small ones for 28×28 single-channel images with 10 classes: `M28/7` (the demo's:
 * patch 7, D 64, depth 4, 4 heads, MLP 128, dropout 0.1) and `M28/4` (patch 4, D 128, depth 6, 8 heads,
 * MLP 256, dropout 0.1).
 */
export const VIT_CONFIGS = {
  'Ti/16': { imageSize: 224, patchSize: 16, channels: 3, numClasses: 1000, dim: 192, depth: 12, heads: 3 },
  'S/16': { imageSize: 224, patchSize: 16, channels: 3, numClasses: 1000, dim: 384, depth: 12, heads: 6 },
  'B/16': { imageSize: 224, patchSize: 16, channels: 3, numClasses: 1000, dim: 768, depth: 12, heads: 12 },
  'B/32': { imageSize: 224, patchSize: 32, channels: 3, numClasses: 1000, dim: 768, depth: 12, heads: 12 },
  'L/16': { imageSize: 224, patchSize: 16, channels: 3, numClasses: 1000, dim: 1024, depth: 24, heads: 16 },
  'L/32': { imageSize: 224, patchSize: 32, channels: 3, numClasses: 1000, dim: 1024, depth: 24, heads: 16 },
  'H/14': { imageSize: 224, patchSize: 14, channels: 3, numClasses: 1000, dim: 1280, depth: 32, heads: 16 },
  'M28/7': {
    imageSize: 28,
    patchSize: 7,
    channels: 1,
    numClasses: 10,
    dim: 64,
    depth: 4,
    heads: 4,
    mlpRatio: 2,
    dropout: 0.1,
  },
  'M28/4': {
    imageSize: 28,
    patchSize: 4,
    channels: 1,
    numClasses: 10,
    dim: 128,
    depth: 6,
    heads: 8,
    mlpRatio: 2,
    dropout: 0.1,
  },
} as const satisfies Record<string, VitPreset>;

/** A name of {@link VIT_CONFIGS}. */
export type VitConfigName = keyof typeof VIT_CONFIGS;

/** The options of a named config merged with `overrides`; a ConfigError lists the known names for an unknown one. */
export function vitConfig(name: string, overrides: VisionTransformerOptions = {}): VisionTransformerOptions {
  if (!Object.hasOwn(VIT_CONFIGS, name))
    throw new ConfigError(
      `vitConfig: unknown config '${name}'; known: ${Object.keys(VIT_CONFIGS).join(', ')}`,
    );
  return { ...VIT_CONFIGS[name as VitConfigName], ...overrides };
}

/** A {@link VisionTransformer} built from a named config (see {@link VIT_CONFIGS}) with `overrides`. */
export function createVit(name: string, overrides: VisionTransformerOptions = {}): VisionTransformer {
  return new VisionTransformer(vitConfig(name, overrides));
}

/**
 * The number of parameters a model with these options has, computed from the sizes (nothing is
 * allocated), counted as timm counts them (no q/k/v biases when `qkvBias` is false).
 * ViT-B/16 with 1000 classes: 86,567,656.
 */
export function countVitParameters(options: VisionTransformerOptions = {}): number {
  const c = resolveVitConfig(options);
  const { dim: d, channels, patchSize: p, depth, numClasses } = c;
  const m = mlpDim(c);
  const n = (c.imageSize[0] / p) * (c.imageSize[1] / p);
  let stem = 0;
  let inCh = channels;
  let kernel = p;
  if (c.hybrid !== null) {
    for (const w of c.hybrid.widths) {
      stem += w * inCh * 9 + w;
      inCh = w;
    }
    kernel = p / 2 ** c.hybrid.widths.length;
  }
  const patch = d * inCh * kernel * kernel + d;
  const tokens = d + (1 + n) * d; // cls_token + pos_embed
  const block =
    2 * 2 * d + // norm1, norm2
    3 * d * d +
    (c.qkvBias ? 3 * d : 0) + // qkv
    d * d +
    d + // proj
    d * m +
    m +
    m * d +
    d; // mlp
  const head = numClasses > 0 ? d * numClasses + numClasses : 0;
  return stem + patch + tokens + depth * block + 2 * d + head;
}
