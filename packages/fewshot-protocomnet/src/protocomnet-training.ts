import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape, mseLoss } from '@ml/core';
import type { Rng } from '@ml/core';

import type { FeatureStatistics } from './feature-statistics.js';
import type { ProtoComNet } from './protocomnet.js';

/** What a ProtoComNet training step returns (the shape @ml/runner's `step` hook expects). */
export interface ProtoComNetStepOutput {
  loss: tf.Scalar;
  batchSize: number;
}

/** A training step for @ml/runner's `Runner({ step })`: batch [features [B, s], base class positions [B]]. */
export type ProtoComNetStep = (
  batch: readonly tf.Tensor[],
  ctx: { model: ProtoComNet; rng: Rng; training: boolean },
) => ProtoComNetStepOutput;

/**
 * ProtoComNet's training phase as a step for `new Runner({ model, optimizer, step })`. Each batch
 * row is one base image's feature (the 1-shot prototype) and its base class position; the
 * attributes' features are sampled as μ + ε·σ from the statistics (ε ~ N(0, 1) from the runner's
 * seeded generator), and the loss is the MSE between the completed prototype and the class's
 * feature mean. In evaluation (`training` false) the attribute means are used instead of samples.
 */
export function protoComNetStep(statistics: FeatureStatistics): ProtoComNetStep {
  return (batch, { model, rng, training }) => {
    const [features, labels] = batch as [tf.Tensor, tf.Tensor];
    if (features === undefined || labels === undefined || features.rank !== 2 || labels.rank !== 1)
      throw new ShapeError(
        `protoComNetStep: batch must be [features [B, s], labels [B]], got ${batch.map((t) => formatShape(t.shape)).join(', ')}`,
      );
    if (statistics.featureSize !== model.featureSize)
      throw new ShapeError(
        `protoComNetStep: statistics have ${statistics.featureSize}-d features but ProtoComNet expects ${model.featureSize}`,
      );
    const B = features.shape[0];
    const F = model.numAttributes;
    const s = model.featureSize;
    const ids = tf.cast(labels, 'int32'); // [B] base class positions = their node ids
    let attributes: tf.Tensor;
    if (training) {
      const eps = tf.tensor3d(rng.normalArray(B * F * s), [B, F, s]); // [B, F, s]
      attributes = tf.add(statistics.attributeMean, tf.mul(eps, statistics.attributeStd)); // [B, F, s]
    } else {
      attributes = statistics.attributeMean; // [F, s]
    }
    const completed = model.forward(features, ids, attributes); // [B, s]
    const target = tf.gather(statistics.classMean, ids); // [B, s]
    return { loss: mseLoss(completed, target), batchSize: B };
  };
}
