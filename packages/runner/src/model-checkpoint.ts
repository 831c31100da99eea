import { CheckpointError, ConfigError, checkPositiveInt } from '@ml/core';

import type { Callback, CallbackState, FitContext } from './callback.js';
import type { Logs } from './history.js';
import {
  checkMonitorHasValidation,
  improves,
  monitored,
  resolveMode,
  watchesValidation,
} from './internal/monitor.js';
import type { MonitorMode } from './internal/monitor.js';

/** Options of {@link ModelCheckpoint}. */
export interface ModelCheckpointOptions {
  /** Directory of the checkpoints (created if needed); `fit({ resume: dir })` continues from it. */
  dir: string;
  /** Write a checkpoint after every N epochs (default 1 when neither `everySteps` nor `monitor` is given). */
  everyEpochs?: number;
  /** Write a checkpoint after every N optimizer steps (mid-epoch checkpoints for long epochs). */
  everySteps?: number;
  /** Also track the best value of this log key and point `best` at its checkpoint (the best model so far). */
  monitor?: string;
  /** Direction of improvement of `monitor` (default 'auto'). */
  mode?: MonitorMode;
  /** Keep the newest N checkpoints besides `best` (default 3). */
  keepLast?: number;
}

/** Defaults of {@link ModelCheckpointOptions}. */
export const DEFAULT_MODEL_CHECKPOINT_OPTIONS = { mode: 'auto', keepLast: 3 } as const;

interface ModelCheckpointState {
  best: number | null;
  bestEpoch: number;
  bestStep: number;
}

/**
 * Writes full training checkpoints (model, optimizer, RNG states, callback states, history; see
 * `writeCheckpoint`) every N epochs and/or steps, and the best one by a monitored value (save every
 * N epochs, track and keep the best model). It runs after
 * every other callback of the same event (order 100) so the checkpoint holds their updated state.
 */
export class ModelCheckpoint implements Callback {
  readonly order = 100;
  readonly dir: string;
  readonly everyEpochs: number | null;
  readonly everySteps: number | null;
  readonly monitor: string | null;
  readonly mode: 'min' | 'max';
  readonly keepLast: number;
  #state: ModelCheckpointState = { best: null, bestEpoch: 0, bestStep: 0 };
  #lastSaved: string | null = null;
  #bestSaved: string | null = null;

  constructor(options: ModelCheckpointOptions) {
    const where = 'ModelCheckpoint';
    if (typeof options?.dir !== 'string' || options.dir === '')
      throw new ConfigError(`${where}: dir must be a non-empty path, got ${String(options?.dir)}`);
    this.dir = options.dir;
    if (options.everyEpochs !== undefined) checkPositiveInt(where, 'everyEpochs', options.everyEpochs);
    if (options.everySteps !== undefined) checkPositiveInt(where, 'everySteps', options.everySteps);
    this.monitor = options.monitor ?? null;
    this.mode =
      this.monitor === null
        ? 'min'
        : resolveMode(where, this.monitor, options.mode ?? DEFAULT_MODEL_CHECKPOINT_OPTIONS.mode);
    const periodic = options.everyEpochs !== undefined || options.everySteps !== undefined;
    this.everyEpochs = options.everyEpochs ?? (periodic || this.monitor !== null ? null : 1);
    this.everySteps = options.everySteps ?? null;
    this.keepLast = options.keepLast ?? DEFAULT_MODEL_CHECKPOINT_OPTIONS.keepLast;
    checkPositiveInt(where, 'keepLast', this.keepLast);
  }

  /** Name of the newest checkpoint this callback wrote (null before the first). */
  get lastSaved(): string | null {
    return this.#lastSaved;
  }

  /** Name of the checkpoint with the best monitored value this callback wrote (null before the first). */
  get bestSaved(): string | null {
    return this.#bestSaved;
  }

  /** The best monitored value so far, its epoch (from 1) and step. */
  get best(): { value: number | null; epoch: number; step: number } {
    return { value: this.#state.best, epoch: this.#state.bestEpoch, step: this.#state.bestStep };
  }

  onFitStart(ctx: FitContext): void {
    if (this.monitor !== null) checkMonitorHasValidation('ModelCheckpoint', this.monitor, ctx);
    if (ctx.step === 0) this.#state = { best: null, bestEpoch: 0, bestStep: 0 };
  }

  onStepEnd(ctx: FitContext): void {
    if (this.everySteps === null || ctx.step % this.everySteps !== 0) return;
    // On an epoch's last batch the epoch-end checkpoint (a moment later, same weights) replaces this one.
    const lastBatch = ctx.batchesPerEpoch !== null && ctx.batch === ctx.batchesPerEpoch;
    if (lastBatch && this.everyEpochs !== null && (ctx.epoch + 1) % this.everyEpochs === 0) return;
    this.#request(ctx, false);
  }

  onValidationEnd(ctx: FitContext, logs: Logs): void {
    if (this.monitor !== null && watchesValidation(this.monitor)) this.#track(ctx, logs);
  }

  onEpochEnd(ctx: FitContext, logs: Logs): void {
    if (this.monitor !== null && !watchesValidation(this.monitor)) this.#track(ctx, logs);
    if (this.everyEpochs !== null && (ctx.epoch + 1) % this.everyEpochs === 0) this.#request(ctx, false);
  }

  #track(ctx: FitContext, logs: Logs): void {
    const value = monitored('ModelCheckpoint', this.monitor as string, logs);
    if (!improves(this.mode, value, this.#state.best, 0)) return;
    this.#state = { best: value, bestEpoch: ctx.epoch + 1, bestStep: ctx.step };
    this.#request(ctx, true);
  }

  #request(ctx: FitContext, best: boolean): void {
    ctx.requestCheckpoint({
      dir: this.dir,
      best,
      keepLast: this.keepLast,
      onSaved: (name) => {
        this.#lastSaved = name;
        if (best) this.#bestSaved = name;
      },
    });
  }

  stateDict(): CallbackState {
    return { state: { ...this.#state } };
  }

  loadStateDict({ state }: CallbackState): void {
    const s = state as Partial<ModelCheckpointState> | null;
    if (s === null || typeof s !== 'object' || !(s.best === null || typeof s.best === 'number')) {
      throw new CheckpointError(
        `ModelCheckpoint.loadStateDict: state must be { best, bestEpoch, bestStep }, got ${JSON.stringify(state)}`,
      );
    }
    this.#state = { best: s.best, bestEpoch: s.bestEpoch ?? 0, bestStep: s.bestStep ?? 0 };
  }
}
