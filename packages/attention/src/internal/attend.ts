import * as tf from '@tensorflow/tfjs-core';

import { dropout } from '@ml/core';
import type { Rng } from '@ml/core';

import type { PreparedMask } from './mask-utils.js';

/**
 * Axis order of per-head tensors: 'BHTD' is [batch, heads, time, depth] (the public
 * scaledDotProductAttention layout); 'BTHD' is [batch, time, heads, depth], what a [B, T, H·d]
 * projection reshapes to for free.
 */
export type HeadLayout = 'BHTD' | 'BTHD';

/** Options of {@link attend}. */
export interface AttendOptions {
  scale: number;
  mask: PreparedMask | null;
  dropout: number;
  rng: Rng | null;
  returnWeights: boolean;
}

/** What {@link attend} returns: the context in the input layout and, when asked, weights [B, H, Tq, Tk]. */
export interface AttendResult {
  output: tf.Tensor4D;
  weights: tf.Tensor4D | null;
}

// x in axis order `from` → axis order `to` (both permutations of 'BHTD'); no copy when equal.
function permute(x: tf.Tensor, from: HeadLayout, to: string): tf.Tensor {
  return from === to
    ? x
    : tf.transpose(
        x,
        Array.from(to, (axis) => from.indexOf(axis)),
      );
}

/**
 * softmax(q·kᵀ·scale + mask)·v for per-head tensors in `layout` (q with Tq steps and depth d, k with
 * Tk steps and depth d, v with Tk steps and depth dv); the output has q's layout with depth dv.
 * Shapes are assumed checked by the caller. Call inside a tidy.
 *
 * Both products are batched [B, H, ·, ·] matMuls; k enters the first with the transpose flag (@ml/core's
 * wasm GEMM reads it transposed while packing, as the other backends' kernels do), so k is only moved to
 * [B, H, Tk, d] like q and v — on wasm a copy of whole rows — not transposed to [B, H, d, Tk].
 */
export function attend(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  layout: HeadLayout,
  options: AttendOptions,
): AttendResult {
  const qh = permute(tf.mul(q, options.scale), layout, 'BHTD'); // [B, H, Tq, d], scaled like PyTorch (q before the product)
  const kh = permute(k, layout, 'BHTD'); // [B, H, Tk, d]
  const vh = permute(v, layout, 'BHTD'); // [B, H, Tk, dv]
  let scores = tf.matMul(qh, kh, false, true); // [B, H, Tq, Tk]
  let p: tf.Tensor;
  if (options.mask !== null) {
    scores = tf.add(scores, options.mask.additive);
    p = tf.mul(tf.softmax(scores), options.mask.keep); // fully blocked rows → 0
  } else {
    p = tf.softmax(scores);
  }
  if (options.dropout > 0 && options.rng !== null) p = dropout(p, options.dropout, options.rng);
  const context = tf.matMul(p, vh); // [B, H, Tq, dv]
  return {
    output: permute(context, 'BHTD', layout) as tf.Tensor4D,
    weights: options.returnWeights ? (p as tf.Tensor4D) : null,
  };
}
