import * as tf from '@tensorflow/tfjs-core';

import type { Rng } from '@ml/core';
import {
  ConfigError,
  ShapeError,
  checkPositiveInt,
  checkProbability,
  formatShape,
  gelu,
  resolveRng,
} from '@ml/core';

import type { FeedForwardActivation, TransformerEncoderLayerOptions } from '../transformer-encoder-layer.js';

/** Defaults of {@link TransformerEncoderLayerOptions}, PyTorch's. */
export const DEFAULT_TRANSFORMER_LAYER_OPTIONS = {
  dimFeedforward: 2048,
  dropout: 0.1,
  activation: 'relu',
  layerNormEps: 1e-5,
  normFirst: false,
  bias: true,
} as const;

/** Resolved settings shared by the encoder and decoder layers. */
export interface ResolvedLayerOptions {
  dim: number;
  heads: number;
  dimFeedforward: number;
  dropout: number;
  activation: FeedForwardActivation;
  layerNormEps: number;
  normFirst: boolean;
  bias: boolean;
  rng: Rng;
}

/** Validates and fills in layer options (shared by both layer kinds). */
export function resolveLayerOptions(
  where: string,
  options: TransformerEncoderLayerOptions,
): ResolvedLayerOptions {
  const d = DEFAULT_TRANSFORMER_LAYER_OPTIONS;
  const resolved: ResolvedLayerOptions = {
    dim: options.dim,
    heads: options.heads,
    dimFeedforward: options.dimFeedforward ?? d.dimFeedforward,
    dropout: options.dropout ?? d.dropout,
    activation: options.activation ?? d.activation,
    layerNormEps: options.layerNormEps ?? d.layerNormEps,
    normFirst: options.normFirst ?? d.normFirst,
    bias: options.bias ?? d.bias,
    rng: resolveRng(options.rng, options.seed),
  };
  checkPositiveInt(where, 'dim', resolved.dim);
  checkPositiveInt(where, 'heads', resolved.heads);
  checkPositiveInt(where, 'dimFeedforward', resolved.dimFeedforward);
  checkProbability(where, 'dropout', resolved.dropout);
  if (resolved.dim % resolved.heads !== 0)
    throw new ConfigError(`${where}: dim (${resolved.dim}) must be divisible by heads (${resolved.heads})`);
  const act = resolved.activation;
  if (act !== 'relu' && act !== 'gelu' && typeof act !== 'function') {
    throw new ConfigError(`${where}: activation must be 'relu', 'gelu' or a function, got ${String(act)}`);
  }
  if (!(resolved.layerNormEps > 0))
    throw new ConfigError(`${where}: layerNormEps must be > 0, got ${resolved.layerNormEps}`);
  return resolved;
}

/** Applies a {@link FeedForwardActivation}. */
export function applyActivation(activation: FeedForwardActivation, x: tf.Tensor): tf.Tensor {
  if (activation === 'relu') return tf.relu(x);
  if (activation === 'gelu') return gelu(x);
  return activation(x);
}

/** Throws a ShapeError unless `x` is [B, T, dim]. */
export function checkSequence(where: string, name: string, x: tf.Tensor, dim: number): void {
  if (x.rank !== 3 || x.shape[2] !== dim)
    throw new ShapeError(`${where}: ${name} must be [B, T, ${dim}], got ${formatShape(x.shape)}`);
}
