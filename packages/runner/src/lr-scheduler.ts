import { CheckpointError, ConfigError, ReduceLROnPlateau, describe } from '@ml/core';
import type { LrSchedule, ReduceLROnPlateauState } from '@ml/core';

import type { Callback, CallbackState, FitContext } from './callback.js';
import type { Logs } from './history.js';
import { checkMonitorHasValidation, monitored, watchesValidation } from './internal/monitor.js';

/** Options of {@link LrScheduler}. */
export interface LrSchedulerOptions {
  /** Any @ml/core schedule (StepLR, MultiStepLR, CosineWithWarmup, NoamSchedule, …) or a ReduceLROnPlateau. */
  schedule: LrSchedule | ReduceLROnPlateau;
  /**
   * For an `LrSchedule`: 'step' sets `lr = lrAt(optimizer steps done)` before every step; 'epoch' sets
   * `lr = lrAt(epochs done)` before every epoch (default 'step').
   */
  interval?: 'step' | 'epoch';
  /** For a ReduceLROnPlateau: the log key it observes (default 'val_loss'; `val_` keys after each validation). */
  monitor?: string;
}

/** Defaults of {@link LrSchedulerOptions}. */
export const DEFAULT_LR_SCHEDULER_OPTIONS = { interval: 'step', monitor: 'val_loss' } as const;

/**
 * Drives the optimizer's learning rate from an @ml/core schedule, per step or per epoch, or from a
 * ReduceLROnPlateau fed with a monitored log value. Schedules are functions of the step count, so a
 * resumed run gets the same rates; a plateau's counters are saved in checkpoints.
 */
export class LrScheduler implements Callback {
  readonly schedule: LrSchedule | ReduceLROnPlateau;
  readonly interval: 'step' | 'epoch';
  readonly monitor: string;

  constructor(options: LrSchedulerOptions) {
    const where = 'LrScheduler';
    const schedule = options?.schedule;
    if (
      !(schedule instanceof ReduceLROnPlateau) &&
      typeof (schedule as LrSchedule | undefined)?.lrAt !== 'function'
    ) {
      throw new ConfigError(
        `${where}: schedule must be an LrSchedule (with lrAt(step)) or a ReduceLROnPlateau, got ${describe(schedule)}`,
      );
    }
    this.schedule = schedule;
    this.interval = options.interval ?? DEFAULT_LR_SCHEDULER_OPTIONS.interval;
    if (this.interval !== 'step' && this.interval !== 'epoch')
      throw new ConfigError(`${where}: interval must be 'step' or 'epoch', got '${String(this.interval)}'`);
    this.monitor = options.monitor ?? DEFAULT_LR_SCHEDULER_OPTIONS.monitor;
    if (typeof this.monitor !== 'string' || this.monitor === '')
      throw new ConfigError(`${where}: monitor must be a log key, got ${String(this.monitor)}`);
  }

  onFitStart(ctx: FitContext): void {
    if (!(this.schedule instanceof ReduceLROnPlateau)) return;
    checkMonitorHasValidation('LrScheduler', this.monitor, ctx);
    ctx.optimizer.lr = this.schedule.lr;
  }

  onEpochStart(ctx: FitContext): void {
    if (!(this.schedule instanceof ReduceLROnPlateau) && this.interval === 'epoch')
      ctx.optimizer.lr = this.schedule.lrAt(ctx.epoch);
  }

  onStepStart(ctx: FitContext): void {
    if (!(this.schedule instanceof ReduceLROnPlateau) && this.interval === 'step')
      ctx.optimizer.lr = this.schedule.lrAt(ctx.step);
  }

  onValidationEnd(ctx: FitContext, logs: Logs): void {
    if (this.schedule instanceof ReduceLROnPlateau && watchesValidation(this.monitor))
      ctx.optimizer.lr = this.schedule.observe(monitored('LrScheduler', this.monitor, logs));
  }

  onEpochEnd(ctx: FitContext, logs: Logs): void {
    if (this.schedule instanceof ReduceLROnPlateau && !watchesValidation(this.monitor))
      ctx.optimizer.lr = this.schedule.observe(monitored('LrScheduler', this.monitor, logs));
  }

  stateDict(): CallbackState {
    return { state: this.schedule instanceof ReduceLROnPlateau ? this.schedule.stateDict() : null };
  }

  loadStateDict({ state }: CallbackState): void {
    if (!(this.schedule instanceof ReduceLROnPlateau)) return;
    if (state === null || typeof state !== 'object')
      throw new CheckpointError(
        `LrScheduler.loadStateDict: a ReduceLROnPlateau needs its saved state, got ${JSON.stringify(state)}`,
      );
    this.schedule.loadStateDict(state as ReduceLROnPlateauState);
  }
}
