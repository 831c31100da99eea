import * as tf from '@tensorflow/tfjs-core';

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

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Log key to watch (default 'val_loss'); `val_` keys are checked after each validation, others after each epoch. */
  monitor?: string;
  /** Direction of improvement (default 'auto': max for accuracy/R²-like names, else min). */
  mode?: MonitorMode;
  /** Checks without improvement tolerated before stopping (default 5). */
  patience?: number;
  /** How much better a value must be to count as an improvement (default 0). */
  minDelta?: number;
  /** Give the model the weights of the best check when the fit ends (default true). */
  restoreBest?: boolean;
}

/** Defaults of {@link EarlyStoppingOptions}. */
export const DEFAULT_EARLY_STOPPING_OPTIONS = {
  monitor: 'val_loss',
  mode: 'auto',
  patience: 5,
  minDelta: 0,
  restoreBest: true,
} as const;

interface EarlyStoppingState {
  best: number | null;
  wait: number;
  bestEpoch: number;
  bestStep: number;
}

/**
 * Stops `fit` when the monitored value has not improved for `patience` checks, and (with
 * `restoreBest`) leaves the model with the weights it had at the best check — kept as tensor copies,
 * so nothing is written to disk. The copies and the counters are part of checkpoints, so a resumed
 * run stops where the uninterrupted one would.
 */
export class EarlyStopping implements Callback {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBest: boolean;
  #state: EarlyStoppingState = { best: null, wait: 0, bestEpoch: 0, bestStep: 0 };
  #bestWeights: Record<string, tf.Tensor> | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const d = DEFAULT_EARLY_STOPPING_OPTIONS;
    this.monitor = options.monitor ?? d.monitor;
    this.mode = resolveMode('EarlyStopping', this.monitor, options.mode ?? d.mode);
    this.patience = options.patience ?? d.patience;
    checkPositiveInt('EarlyStopping', 'patience', this.patience);
    this.minDelta = options.minDelta ?? d.minDelta;
    if (typeof this.minDelta !== 'number' || !(this.minDelta >= 0))
      throw new ConfigError(`EarlyStopping: minDelta must be a number ≥ 0, got ${String(this.minDelta)}`);
    this.restoreBest = options.restoreBest ?? d.restoreBest;
  }

  /** The best value seen so far (null before the first check). */
  get best(): number | null {
    return this.#state.best;
  }

  /** Epoch (from 1) of the best check. */
  get bestEpoch(): number {
    return this.#state.bestEpoch;
  }

  onFitStart(ctx: FitContext): void {
    checkMonitorHasValidation('EarlyStopping', this.monitor, ctx);
    // A resumed fit has had loadStateDict called already; a fresh one forgets any earlier fit.
    if (ctx.step === 0) {
      this.#state = { best: null, wait: 0, bestEpoch: 0, bestStep: 0 };
      this.#disposeWeights();
    }
  }

  onValidationEnd(ctx: FitContext, logs: Logs): void {
    if (watchesValidation(this.monitor)) this.#check(ctx, logs);
  }

  onEpochEnd(ctx: FitContext, logs: Logs): void {
    if (!watchesValidation(this.monitor)) this.#check(ctx, logs);
  }

  #check(ctx: FitContext, logs: Logs): void {
    const value = monitored('EarlyStopping', this.monitor, logs);
    if (improves(this.mode, value, this.#state.best, this.minDelta)) {
      this.#state = { best: value, wait: 0, bestEpoch: ctx.epoch + 1, bestStep: ctx.step };
      if (this.restoreBest) {
        this.#disposeWeights();
        this.#bestWeights = tf.tidy(() =>
          Object.fromEntries(Object.entries(ctx.model.stateDict()).map(([k, v]) => [k, tf.clone(v)])),
        );
      }
      return;
    }
    this.#state.wait += 1;
    if (this.#state.wait >= this.patience) {
      const best = this.#state.best === null ? 'none' : this.#state.best.toPrecision(5);
      ctx.stop(
        `EarlyStopping: ${this.monitor} has not improved for ${this.#state.wait} checks (best ${best} at epoch ${this.#state.bestEpoch}, step ${this.#state.bestStep})`,
      );
    }
  }

  onFitEnd(ctx: FitContext): void {
    try {
      if (!ctx.failed && this.#bestWeights !== null && this.#state.wait > 0)
        ctx.model.loadStateDict(this.#bestWeights);
    } finally {
      this.#disposeWeights();
    }
  }

  #disposeWeights(): void {
    if (this.#bestWeights !== null) tf.dispose(Object.values(this.#bestWeights));
    this.#bestWeights = null;
  }

  stateDict(): CallbackState {
    return {
      state: { ...this.#state },
      ...(this.#bestWeights !== null ? { tensors: this.#bestWeights } : {}),
    };
  }

  loadStateDict({ state, tensors }: CallbackState): void {
    const s = state as Partial<EarlyStoppingState> | null;
    if (
      s === null ||
      typeof s !== 'object' ||
      typeof s.wait !== 'number' ||
      !(s.best === null || typeof s.best === 'number')
    ) {
      throw new CheckpointError(
        `EarlyStopping.loadStateDict: state must be { best, wait, bestEpoch, bestStep }, got ${JSON.stringify(state)}`,
      );
    }
    this.#state = { best: s.best, wait: s.wait, bestEpoch: s.bestEpoch ?? 0, bestStep: s.bestStep ?? 0 };
    this.#disposeWeights();
    const entries = Object.entries(tensors ?? {});
    if (entries.length > 0) this.#bestWeights = Object.fromEntries(entries.map(([k, t]) => [k, tf.clone(t)]));
  }
}
