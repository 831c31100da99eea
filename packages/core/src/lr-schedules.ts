import { ConfigError } from './errors.js';
import { checkNonNegative, checkNonNegativeInt, checkPositive, checkPositiveInt } from './checks.js';
import { checkLearningRate } from './optimizer.js';

/**
 * A learning rate as a function of a step count (from 0). The caller decides what a step is (an
 * optimizer step or an epoch) and sets `optimizer.lr = schedule.lrAt(step)` before each.
 */
export interface LrSchedule {
  /** The learning rate for step `step` (an integer ≥ 0). */
  lrAt(step: number): number;
}

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** The learning rate at step 0. */
  lr: number;
  /** Multiply by `gamma` every `stepSize` steps (a positive integer). */
  stepSize: number;
  /** Decay factor, > 0 (default 0.1). */
  gamma?: number;
}

/** Defaults of {@link StepLROptions}, PyTorch's. */
export const DEFAULT_STEP_LR_OPTIONS = { gamma: 0.1 } as const;

/** Decays the rate by `gamma` every `stepSize` steps: lr·gamma^⌊step / stepSize⌋, like `torch.optim.lr_scheduler.StepLR`. */
export class StepLR implements LrSchedule {
  readonly lr: number;
  readonly stepSize: number;
  readonly gamma: number;

  constructor(options: StepLROptions) {
    const { lr, stepSize, gamma = DEFAULT_STEP_LR_OPTIONS.gamma } = options;
    checkLearningRate('StepLR', lr);
    checkPositiveInt('StepLR', 'stepSize', stepSize);
    checkPositive('StepLR', 'gamma', gamma);
    this.lr = lr;
    this.stepSize = stepSize;
    this.gamma = gamma;
  }

  lrAt(step: number): number {
    checkNonNegativeInt('StepLR.lrAt', 'step', step);
    return this.lr * this.gamma ** Math.floor(step / this.stepSize);
  }
}

/** Options of {@link MultiStepLR}. */
export interface MultiStepLROptions {
  /** The learning rate at step 0. */
  lr: number;
  /** Steps at which the rate is multiplied by `gamma`: positive integers, non-decreasing (a repeat decays twice). */
  milestones: readonly number[];
  /** Decay factor, > 0 (default 0.1). */
  gamma?: number;
}

/** Defaults of {@link MultiStepLROptions}, PyTorch's. */
export const DEFAULT_MULTI_STEP_LR_OPTIONS = { gamma: 0.1 } as const;

/**
 * Multiplies the rate by `gamma` at each milestone: lr·gamma^(number of milestones ≤ step), like
 * `torch.optim.lr_scheduler.MultiStepLR`.
 */
export class MultiStepLR implements LrSchedule {
  readonly lr: number;
  readonly milestones: readonly number[];
  readonly gamma: number;

  constructor(options: MultiStepLROptions) {
    const { lr, milestones, gamma = DEFAULT_MULTI_STEP_LR_OPTIONS.gamma } = options;
    checkLearningRate('MultiStepLR', lr);
    checkPositive('MultiStepLR', 'gamma', gamma);
    if (!Array.isArray(options.milestones))
      throw new ConfigError(
        `MultiStepLR: milestones must be an array of positive integers, got ${String(milestones)}`,
      );
    milestones.forEach((m, i) => {
      checkPositiveInt('MultiStepLR', `milestones[${i}]`, m);
      if (i > 0 && m < (milestones[i - 1] as number))
        throw new ConfigError(
          `MultiStepLR: milestones must be non-decreasing, got [${milestones.join(', ')}]`,
        );
    });
    this.lr = lr;
    this.milestones = [...milestones];
    this.gamma = gamma;
  }

  lrAt(step: number): number {
    checkNonNegativeInt('MultiStepLR.lrAt', 'step', step);
    const passed = this.milestones.filter((m) => m <= step).length;
    return this.lr * this.gamma ** passed;
  }
}

/** Options of {@link CosineWithWarmup}. */
export interface CosineWithWarmupOptions {
  /** The peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Steps of linear warmup, an integer ≥ 0 (default 0). */
  warmupSteps?: number;
  /** Step at which the cosine reaches `minLr`, an integer > warmupSteps; the rate stays there after. */
  totalSteps: number;
  /** The floor of the cosine, in [0, lr] (default 0). */
  minLr?: number;
}

/** Defaults of {@link CosineWithWarmupOptions}. */
export const DEFAULT_COSINE_WITH_WARMUP_OPTIONS = { warmupSteps: 0, minLr: 0 } as const;

/**
 * Linear warmup then cosine annealing. For step s < warmupSteps: lr·(s + 1)/warmupSteps (the first
 * step already trains, the last warmup step is at the peak). Then, with
 * k = s − warmupSteps and T = totalSteps − warmupSteps: minLr + (lr − minLr)·(1 + cos(π·min(k, T)/T))/2
 * — PyTorch's `LinearLR(start_factor=1/warmup, total_iters=warmup−1)` followed by
 * `CosineAnnealingLR(T_max=T, eta_min=minLr)`, except that it holds `minLr` after `totalSteps` instead
 * of rising again.
 */
export class CosineWithWarmup implements LrSchedule {
  readonly lr: number;
  readonly warmupSteps: number;
  readonly totalSteps: number;
  readonly minLr: number;

  constructor(options: CosineWithWarmupOptions) {
    const {
      lr,
      totalSteps,
      warmupSteps = DEFAULT_COSINE_WITH_WARMUP_OPTIONS.warmupSteps,
      minLr = DEFAULT_COSINE_WITH_WARMUP_OPTIONS.minLr,
    } = options;
    checkLearningRate('CosineWithWarmup', lr);
    if (typeof warmupSteps !== 'number' || !Number.isInteger(warmupSteps) || warmupSteps < 0) {
      throw new ConfigError(
        `CosineWithWarmup: warmupSteps must be an integer >= 0, got ${String(warmupSteps)}`,
      );
    }
    checkPositiveInt('CosineWithWarmup', 'totalSteps', totalSteps);
    if (totalSteps <= warmupSteps)
      throw new ConfigError(
        `CosineWithWarmup: totalSteps (${totalSteps}) must be greater than warmupSteps (${warmupSteps})`,
      );
    checkNonNegative('CosineWithWarmup', 'minLr', minLr);
    if (minLr > lr) throw new ConfigError(`CosineWithWarmup: minLr (${minLr}) must not exceed lr (${lr})`);
    this.lr = lr;
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.minLr = minLr;
  }

  lrAt(step: number): number {
    checkNonNegativeInt('CosineWithWarmup.lrAt', 'step', step);
    if (step < this.warmupSteps) return (this.lr * (step + 1)) / this.warmupSteps;
    const span = this.totalSteps - this.warmupSteps;
    const k = Math.min(step - this.warmupSteps, span);
    return this.minLr + ((this.lr - this.minLr) * (1 + Math.cos((Math.PI * k) / span))) / 2;
  }
}

/** Options of {@link NoamSchedule}. */
export interface NoamScheduleOptions {
  /** The model width the rate scales with (dModel^−0.5), a positive integer. */
  dModel: number;
  /** Steps of warmup, a positive integer. */
  warmupSteps: number;
  /** Overall multiplier, > 0 (default 1). */
  factor?: number;
}

/** Defaults of {@link NoamScheduleOptions}. */
export const DEFAULT_NOAM_SCHEDULE_OPTIONS = { factor: 1 } as const;

/**
 * The Transformer's inverse-square-root schedule ("Attention Is All You Need", §5.3):
 * factor·dModel^−0.5·min(s^−0.5, s·warmupSteps^−1.5) with s = step + 1 — linear warmup to the peak at
 * s = warmupSteps, then decay as 1/√s.
 */
export class NoamSchedule implements LrSchedule {
  readonly dModel: number;
  readonly warmupSteps: number;
  readonly factor: number;

  constructor(options: NoamScheduleOptions) {
    const { dModel, warmupSteps, factor = DEFAULT_NOAM_SCHEDULE_OPTIONS.factor } = options;
    checkPositiveInt('NoamSchedule', 'dModel', dModel);
    checkPositiveInt('NoamSchedule', 'warmupSteps', warmupSteps);
    checkPositive('NoamSchedule', 'factor', factor);
    this.dModel = dModel;
    this.warmupSteps = warmupSteps;
    this.factor = factor;
  }

  lrAt(step: number): number {
    checkNonNegativeInt('NoamSchedule.lrAt', 'step', step);
    const s = step + 1;
    return this.factor * this.dModel ** -0.5 * Math.min(s ** -0.5, s * this.warmupSteps ** -1.5);
  }
}
