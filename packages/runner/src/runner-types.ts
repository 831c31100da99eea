import type * as tf from '@tensorflow/tfjs-core';

import type { Module, Optimizer, Rng } from '@ml/core';

import type { Callback } from './callback.js';
import type { CheckpointWhich } from './checkpoint-dir.js';
import type { History } from './history.js';
import type { Metric } from './metric.js';

// The public types of Runner: what it takes (options, loaders, step hooks) and what it returns.

/**
 * Where batches come from: any sync or async iterable, one pass per epoch. When the loader also has
 * `epoch(e)` (like @ml/data-loaders' DataLoader) the runner asks for epoch e explicitly, so the order
 * of a resumed epoch is the original one; `setEpoch(e)` is used otherwise; `length` (batches per
 * epoch) feeds progress bars.
 */
export type Loader<B> = (AsyncIterable<B> | Iterable<B>) & {
  epoch?: (epoch: number) => AsyncIterable<B> | Iterable<B>;
  setEpoch?: (epoch: number) => void;
  readonly length?: number;
};

/** Whole tensors for {@link Runner.evaluate}: sliced along the first axis into batches of `batchSize`. */
export interface TensorData {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** A loss: model output and target → scalar (e.g. `crossEntropy`, `mseLoss` from @ml/core). */
export type LossFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

/** What a step hook returns: the loss, and optionally what the metrics compare. */
export interface StepOutput {
  /** Scalar loss of the batch (what training differentiates). */
  loss: tf.Scalar;
  /** Metric input: the model's output (e.g. logits [N, C] or [B, T, C]). */
  output?: tf.Tensor;
  /** Metric input: what the output should have been (e.g. class ids [N] or [B, T]). */
  target?: tf.Tensor;
  /** Weight of this batch's loss in epoch means (default: the first dimension of `output`, else of the batch). */
  batchSize?: number;
}

/** What one step produced: a {@link StepOutput} whose loss is absent when there is no loss to compute. */
export type StepResult = Omit<StepOutput, 'loss'> & { loss?: tf.Scalar };

/** What a step hook gets besides the batch. */
export interface StepContext<M extends Module = Module> {
  model: M;
  /** True in training, false in evaluation (the model's mode is already set). */
  training: boolean;
  /** The runner's seeded generator, for any randomness of a custom step (saved in checkpoints). */
  rng: Rng;
  /** Index of the current epoch, from 0 (0 during a standalone evaluate). */
  epoch: number;
  /** Optimizer steps done so far. */
  step: number;
}

/**
 * A custom training/evaluation step: batch → loss (+ metric inputs), for models whose forward does
 * not fit `loss(forward(x), y)` (e.g. seq2seq: `loss(model.forward(src, tgtIn), tgtOut)`). It runs
 * under autodiff during training (the runner computes gradients, clips, steps) and in eval mode
 * during evaluation. It must be synchronous; tensors it creates are freed by the runner.
 */
export type StepFn<M extends Module = Module, B = unknown> = (
  batch: B,
  ctx: StepContext<M>,
) => StepOutput | tf.Scalar;

/** Input and (optional) target of a batch, as the default step and `predict` see it. */
export interface SplitBatch {
  input: tf.Tensor;
  target?: tf.Tensor;
}

/** Options of {@link Runner}. */
export interface RunnerOptions<M extends Module = Module, B = unknown> {
  /** Any @ml/core Module; with the default step it must have `forward(x)` (or pass `forward`). */
  model: M;
  /** Needed by `fit` (not by evaluate/predict). */
  optimizer?: Optimizer;
  /** Loss of the default step: `loss(forward(input), target)`. Needed unless `step` is given. */
  loss?: LossFn;
  /** Metrics computed on training batches (running, per epoch) and in every evaluation. */
  metrics?: Metric[];
  callbacks?: Callback[];
  /**
   * The run's seed: seeds the runner's generator (given to step hooks) and, when given, re-seeds
   * every generator the model's modules registered (`Module.registerGenerator`: dropout masks, drop
   * path, …), each from its own fork, so that one number fixes all training randomness on top of the
   * loader's own seed. Default: a fork of @ml/core's default generator (`manualSeed`).
   */
  seed?: number;
  /** Custom step (see {@link StepFn}); replaces the default `loss(forward(input), target)`. */
  step?: StepFn<M, B>;
  /** How to run the model on an input (default `model.forward(input)`). */
  forward?: (model: M, input: tf.Tensor) => tf.Tensor;
  /**
   * How to take a batch apart for the default step and `predict` (default: `[x, y]` arrays,
   * `{ x, y }` / `{ input, target }` / `{ inputs, targets }` objects, or a bare input tensor).
   */
  splitBatch?: (batch: B) => SplitBatch;
  /** Rows per batch when `evaluate`/`predict` get whole tensors (default 256). */
  batchSize?: number;
  /**
   * With the default step, read int32 targets whose shape is the output's minus its last axis (class
   * ids against logits [..., C]) and throw a DataError naming the batch when one lies outside [0, C)
   * (−100, PyTorch's ignore index, is allowed). Default true; costs one read of the targets per batch.
   */
  checkLabels?: boolean;
}

/** Defaults of {@link RunnerOptions} and {@link FitOptions}. */
export const DEFAULT_RUNNER_OPTIONS = {
  batchSize: 256,
  logEvery: 10,
  checkLabels: true,
  stopOnNonFiniteLoss: true,
} as const;

/** Which checkpoint `fit` resumes from, when {@link FitOptions.resume} is an object. */
export interface ResumeOptions {
  /** The checkpoint directory. */
  dir: string;
  /**
   * 'latest' (default): the `latest` pointer, falling back to the newest older checkpoint that
   * verifies when it is damaged; 'best', or a checkpoint's own name: exactly that one, no fallback.
   */
  checkpoint?: CheckpointWhich;
}

/** Options of {@link Runner.fit}. */
export interface FitOptions<B = unknown> {
  /** Total epochs (a resumed run counts the epochs it already did). */
  epochs: number;
  /** Validation data: evaluated after each epoch, or every `evalEvery` steps. */
  valLoader?: Loader<B>;
  /** Steps per `history.steps` record and `onLog` call (default 10). */
  logEvery?: number;
  /** Validate every this many optimizer steps (and after the last epoch) instead of after each epoch. */
  evalEvery?: number;
  /**
   * A checkpoint directory to continue from (or `{ dir, checkpoint }` to name one): model,
   * optimizer, generator states, callback states, history and position are restored, then training
   * goes on where it stopped. When the `latest` checkpoint is damaged (fails its checksums, is
   * truncated or missing files), the newest older one that verifies is used instead and `onWarning`
   * says so. No usable checkpoint is a CheckpointError (check first with `hasCheckpoint(dir)`).
   */
  resume?: string | ResumeOptions;
  /**
   * Throw a DataError naming the step, epoch and batch when a training loss is NaN or ±Infinity,
   * before that update is applied (default true). A callback that stops the fit on such a batch
   * (TerminateOnNaN) turns it into a clean stop instead.
   */
  stopOnNonFiniteLoss?: boolean;
  /**
   * Receives what the user should know but that does not stop training (a damaged checkpoint skipped
   * on resume). Library code never prints; pass `console.warn` to print. Default: ignored, though
   * every warning is also in {@link FitResult.warnings}.
   */
  onWarning?: (message: string) => void;
}

/** What {@link Runner.fit} returns. */
export interface FitResult {
  history: History;
  /** Why training ended early (early stopping, NaN loss, …), or null when all epochs ran. */
  stopReason: string | null;
  /** Epochs completed. */
  epochs: number;
  /** Optimizer steps done. */
  steps: number;
  /** The checkpoint a resumed fit started from, or null. */
  resumedFrom: string | null;
  /** The warnings given to {@link FitOptions.onWarning} during this fit. */
  warnings: string[];
}
