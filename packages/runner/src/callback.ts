import type * as tf from '@tensorflow/tfjs-core';

import type { Module, Optimizer } from '@ml/core';

import type { History, Logs } from './history.js';

/** A request to write a checkpoint at the next safe point (after the current step's or epoch's callbacks). */
export interface CheckpointRequest {
  /** Directory that holds the checkpoints (see `writeCheckpoint`). */
  dir: string;
  /** Also point `best` at it. */
  best?: boolean;
  /** Keep this many checkpoints besides those a pointer names (default: all). */
  keepLast?: number;
  /** Called with the new checkpoint's name once it is on disk. */
  onSaved?: (name: string) => void;
}

/** What callbacks see of a running `fit`. Counters are updated before each hook is called. */
export interface FitContext {
  readonly model: Module;
  readonly optimizer: Optimizer;
  /** Total epochs of this fit. */
  readonly epochs: number;
  /** Index of the current epoch, from 0. */
  readonly epoch: number;
  /** Optimizer steps done since the start of training (resumed runs included). */
  readonly step: number;
  /** Batches done in the current epoch. */
  readonly batch: number;
  /** True when fit has a valLoader (validation runs after epochs or every `evalEvery` steps). */
  readonly hasValidation: boolean;
  /** Batches per epoch when the loader knows its length, else null. */
  readonly batchesPerEpoch: number | null;
  /** Everything recorded so far. */
  readonly history: History;
  /** True while `onFitEnd` runs after `fit` threw (clean up, but do not act on a half-done run). */
  readonly failed: boolean;
  /** Why the fit is stopping, once a callback asked it to. */
  readonly stopReason: string | null;
  /** Ends the fit after the current step (mid-epoch) or epoch; `reason` is returned in the result. */
  stop(reason: string): void;
  /** Asks the runner to write a checkpoint once every callback of the current event has run. */
  requestCheckpoint(request: CheckpointRequest): void;
}

/** Step-end logs: epoch (from 1), step, batch (from 1 within the epoch), loss of this batch, lr. */
export type StepLogs = Logs;

/** What {@link Callback.onGradients} sees: this batch's loss value and the gradients about to be applied. */
export interface GradientInfo {
  loss: number;
  /** Gradients by parameter name (as `namedParameters()` gives them); the runner owns and disposes them. */
  grads: Record<string, tf.Tensor>;
}

/** A callback's saved state: JSON plus optional tensors (stored in the checkpoint's callbacks.safetensors). */
export interface CallbackState {
  state: unknown;
  tensors?: Record<string, tf.Tensor>;
}

/**
 * Hooks into `Runner.fit`, in the spirit of Keras callbacks and Lightning's hooks. Every hook is
 * optional and may be async. Callbacks run in ascending `order` (default 0; checkpoint writers use
 * 100 so they see every other callback's update of the same event).
 */
export interface Callback {
  /** Sort key: lower runs first (default 0). */
  readonly order?: number;
  /** Key of this callback's state in checkpoints (default: its class name and position). */
  readonly key?: string;
  onFitStart?(ctx: FitContext): void | Promise<void>;
  onEpochStart?(ctx: FitContext): void | Promise<void>;
  /** Before the forward pass of a training batch (set the learning rate here). */
  onStepStart?(ctx: FitContext): void | Promise<void>;
  /**
   * After the backward pass, before the update. Return the gradients to apply — the same record, or
   * a new one (the runner disposes both) — or `null` to skip this update.
   */
  onGradients?(
    ctx: FitContext,
    info: GradientInfo,
  ): Record<string, tf.Tensor> | null | Promise<Record<string, tf.Tensor> | null>;
  onStepEnd?(ctx: FitContext, logs: StepLogs): void | Promise<void>;
  /** Every `logEvery` steps, with the mean loss over them and the running train metrics of the epoch. */
  onLog?(ctx: FitContext, logs: Logs): void | Promise<void>;
  /** Before each validation run (e.g. to re-estimate batch-norm statistics). */
  onValidationStart?(ctx: FitContext): void | Promise<void>;
  /** After each validation run, with `val_loss` and `val_<metric>`. */
  onValidationEnd?(ctx: FitContext, logs: Logs): void | Promise<void>;
  /** After each epoch (and its validation, if any), with the epoch's record as stored in the history. */
  onEpochEnd?(ctx: FitContext, logs: Logs): void | Promise<void>;
  /** After the last epoch, an early stop, or an error (`ctx.failed`): always called once per fit. */
  onFitEnd?(ctx: FitContext): void | Promise<void>;
  /** Snapshot for checkpoints: what this callback needs to continue a resumed run exactly. */
  stateDict?(): CallbackState | Promise<CallbackState>;
  /** Restores a snapshot from {@link Callback.stateDict}; tensors are the caller's (copy what you keep). */
  loadStateDict?(state: CallbackState): void | Promise<void>;
}
