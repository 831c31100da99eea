import { CheckpointError, ConfigError } from './errors.js';
import { checkNonNegative, checkNonNegativeInt } from './checks.js';
import { checkLearningRate } from './optimizer.js';

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** The starting learning rate. */
  lr: number;
  /** 'min' when lower metrics are better (a loss), 'max' when higher are (an accuracy) (default 'min'). */
  mode?: 'min' | 'max';
  /** Multiply the rate by this on a plateau, in (0, 1) (default 0.1). */
  factor?: number;
  /** Observations without improvement tolerated before reducing, an integer ≥ 0 (default 10). */
  patience?: number;
  /** How much better a metric must be to count as an improvement, ≥ 0 (default 1e-4). */
  threshold?: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold (default 'rel'). */
  thresholdMode?: 'rel' | 'abs';
  /** Observations to wait after a reduction before counting bad ones again, an integer ≥ 0 (default 0). */
  cooldown?: number;
  /** The rate never goes below this, ≥ 0 (default 0). */
  minLr?: number;
  /** Reductions smaller than this are skipped, ≥ 0 (default 1e-8). */
  eps?: number;
}

/** Defaults of {@link ReduceLROnPlateauOptions}, PyTorch's. */
export const DEFAULT_REDUCE_LR_ON_PLATEAU_OPTIONS = {
  mode: 'min',
  factor: 0.1,
  patience: 10,
  threshold: 1e-4,
  thresholdMode: 'rel',
  cooldown: 0,
  minLr: 0,
  eps: 1e-8,
} as const;

/** The JSON-serialisable state of a {@link ReduceLROnPlateau}, for checkpoints. */
export interface ReduceLROnPlateauState {
  lr: number;
  /** The best metric so far (±Infinity before the first observation is stored as null). */
  best: number | null;
  numBadEpochs: number;
  cooldownCounter: number;
  /** Number of observations so far. */
  lastEpoch: number;
}

/**
 * Lowers the learning rate when a metric stops improving, with the logic of
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`: after more than `patience` observations without an
 * improvement (beyond `threshold`), lr ← max(lr·factor, minLr), then `cooldown` observations pass
 * before bad ones count again.
 *
 * `const plateau = new ReduceLROnPlateau({ lr: 1e-3, patience: 2 }); optimizer.lr = plateau.observe(valLoss);`
 */
export class ReduceLROnPlateau {
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  #lr: number;
  #best: number;
  #numBadEpochs = 0;
  #cooldownCounter = 0;
  #lastEpoch = 0;

  constructor(options: ReduceLROnPlateauOptions) {
    const d = DEFAULT_REDUCE_LR_ON_PLATEAU_OPTIONS;
    const {
      lr,
      mode = d.mode,
      factor = d.factor,
      patience = d.patience,
      threshold = d.threshold,
      thresholdMode = d.thresholdMode,
      cooldown = d.cooldown,
      minLr = d.minLr,
      eps = d.eps,
    } = options;
    const where = 'ReduceLROnPlateau';
    checkLearningRate(where, lr);
    if (mode !== 'min' && mode !== 'max')
      throw new ConfigError(`${where}: mode must be 'min' or 'max', got '${String(mode)}'`);
    if (typeof factor !== 'number' || !(factor > 0 && factor < 1))
      throw new ConfigError(`${where}: factor must be in (0, 1), got ${String(factor)}`);
    checkNonNegativeInt(where, 'patience', patience);
    checkNonNegative(where, 'threshold', threshold);
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs')
      throw new ConfigError(`${where}: thresholdMode must be 'rel' or 'abs', got '${String(thresholdMode)}'`);
    checkNonNegativeInt(where, 'cooldown', cooldown);
    checkNonNegative(where, 'minLr', minLr);
    checkNonNegative(where, 'eps', eps);
    this.#lr = lr;
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.minLr = minLr;
    this.eps = eps;
    this.#best = this.#worst();
  }

  /** The current learning rate. */
  get lr(): number {
    return this.#lr;
  }

  /** The best metric observed so far (±Infinity before any). */
  get best(): number {
    return this.#best;
  }

  #worst(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  #isBetter(a: number, best: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - t) : a < best - t;
    return this.thresholdMode === 'rel' ? a > best * (1 + t) : a > best + t;
  }

  /**
   * Records one metric value (e.g. a validation loss after an epoch) and returns the learning rate to
   * use from now on. A NaN metric counts as no improvement, as in PyTorch.
   */
  observe(metric: number): number {
    if (typeof metric !== 'number')
      throw new ConfigError(`ReduceLROnPlateau.observe: metric must be a number, got ${String(metric)}`);
    this.#lastEpoch += 1;
    if (this.#isBetter(metric, this.#best)) {
      this.#best = metric;
      this.#numBadEpochs = 0;
    } else {
      this.#numBadEpochs += 1;
    }
    if (this.#cooldownCounter > 0) {
      this.#cooldownCounter -= 1;
      this.#numBadEpochs = 0;
    }
    if (this.#numBadEpochs > this.patience) {
      const next = Math.max(this.#lr * this.factor, this.minLr);
      if (this.#lr - next > this.eps) this.#lr = next;
      this.#cooldownCounter = this.cooldown;
      this.#numBadEpochs = 0;
    }
    return this.#lr;
  }

  /** The mutable state, for checkpoints (options are not included: rebuild with the same options). */
  stateDict(): ReduceLROnPlateauState {
    return {
      lr: this.#lr,
      best: Number.isFinite(this.#best) ? this.#best : null,
      numBadEpochs: this.#numBadEpochs,
      cooldownCounter: this.#cooldownCounter,
      lastEpoch: this.#lastEpoch,
    };
  }

  /** Restores a state from {@link ReduceLROnPlateau.stateDict}; a malformed state is a CheckpointError. */
  loadStateDict(state: ReduceLROnPlateauState): void {
    const where = 'ReduceLROnPlateau.loadStateDict';
    if (state === null || typeof state !== 'object')
      throw new CheckpointError(`${where}: state must be an object, got ${String(state)}`);
    const ints = ['numBadEpochs', 'cooldownCounter', 'lastEpoch'] as const;
    for (const k of ints) {
      const v = state[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        throw new CheckpointError(`${where}: ${k} must be an integer >= 0, got ${String(v)}`);
    }
    if (typeof state.lr !== 'number' || !Number.isFinite(state.lr) || state.lr < 0)
      throw new CheckpointError(`${where}: lr must be a finite number >= 0, got ${String(state.lr)}`);
    if (state.best !== null && typeof state.best !== 'number')
      throw new CheckpointError(`${where}: best must be a number or null, got ${String(state.best)}`);
    this.#lr = state.lr;
    this.#best = state.best ?? this.#worst();
    this.#numBadEpochs = state.numBadEpochs;
    this.#cooldownCounter = state.cooldownCounter;
    this.#lastEpoch = state.lastEpoch;
  }
}
