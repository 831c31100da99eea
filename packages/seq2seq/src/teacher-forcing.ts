import * as tf from '@tensorflow/tfjs-core';

import { checkProbability, crossEntropy } from '@ml/core';

import type { Seq2SeqBatch } from './batch.js';
import type { Seq2SeqTransformer } from './seq2seq-transformer.js';

/** Options of {@link teacherForcedLoss}. */
export interface TeacherForcedLossOptions {
  /** Label smoothing ε of the cross-entropy (default 0.1, as the paper and the Annotated Transformer). */
  labelSmoothing?: number;
}

/** Defaults of {@link TeacherForcedLossOptions}. */
export const DEFAULT_TEACHER_FORCED_LOSS_OPTIONS = { labelSmoothing: 0.1 } as const;

/**
 * The training loss of one batch under teacher forcing: the decoder reads `<bos>` + target
 * (`tgtIn`) and is scored on predicting target + `<eos>` (`tgtOut`) with label-smoothed
 * cross-entropy, `<pad>` positions ignored (PyTorch's `ignore_index`). Returns a scalar.
 */
export function teacherForcedLoss(
  model: Seq2SeqTransformer,
  batch: Seq2SeqBatch,
  options: TeacherForcedLossOptions = {},
): tf.Scalar {
  const labelSmoothing = options.labelSmoothing ?? DEFAULT_TEACHER_FORCED_LOSS_OPTIONS.labelSmoothing;
  checkProbability('teacherForcedLoss', 'labelSmoothing', labelSmoothing);
  return tf.tidy(() => {
    const logits = model.forward(batch.src, batch.tgtIn); // [B, T, V]
    return crossEntropy(logits, batch.tgtOut, {
      ignoreIndex: model.config.padId,
      labelSmoothing,
    });
  });
}

/** What {@link teacherForcedStep} returns: the shape of @ml/runner's `StepOutput`. */
export interface TeacherForcedStepOutput {
  /** Scalar training loss. */
  loss: tf.Scalar;
  /** Logits [B, T, V]. */
  output: tf.Tensor3D;
  /** `batch.tgtOut` [B, T] (the batch's own tensor, not a copy). */
  target: tf.Tensor2D;
}

/**
 * One teacher-forced step that also hands back the logits and targets for metrics: plug it into
 * @ml/runner as `step: (batch, { model }) => teacherForcedStep(model, batch)`. The loss is
 * {@link teacherForcedLoss}'s; the logits come from the same forward pass.
 */
export function teacherForcedStep(
  model: Seq2SeqTransformer,
  batch: Seq2SeqBatch,
  options: TeacherForcedLossOptions = {},
): TeacherForcedStepOutput {
  const labelSmoothing = options.labelSmoothing ?? DEFAULT_TEACHER_FORCED_LOSS_OPTIONS.labelSmoothing;
  checkProbability('teacherForcedStep', 'labelSmoothing', labelSmoothing);
  const output = model.forward(batch.src, batch.tgtIn); // [B, T, V]
  const loss = tf.tidy(() =>
    crossEntropy(output, batch.tgtOut, { ignoreIndex: model.config.padId, labelSmoothing }),
  );
  return { loss, output, target: batch.tgtOut };
}
