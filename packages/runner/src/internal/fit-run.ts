import type { Module, Optimizer } from '@ml/core';
import { ConfigError } from '@ml/core';

import type { CheckpointRequest, FitContext } from '../callback.js';
import { emptyHistory } from '../history.js';
import type { History } from '../history.js';

/** Where a fit stands: epoch and batch within it (from 0), optimizer steps done. */
export interface Position {
  epoch: number;
  batch: number;
  step: number;
}

/** Running sums of the current epoch (and log window), saved in checkpoints. */
export interface Accumulators {
  lossSum: number;
  lossCount: number;
  windowSum: number;
  windowCount: number;
  seconds: number;
  lastValidationStep: number;
}

/** Accumulators of an epoch that has not started. */
export const freshAccumulators = (): Accumulators => ({
  lossSum: 0,
  lossCount: 0,
  windowSum: 0,
  windowCount: 0,
  seconds: 0,
  lastValidationStep: -1,
});

/** The live state of one fit: what callbacks see as their FitContext. */
export class FitRun implements FitContext {
  epoch = 0;
  batch = 0;
  step = 0;
  stopReason: string | null = null;
  failed = false;
  history: History = emptyHistory();
  acc: Accumulators = freshAccumulators();
  /** When the current epoch's pass over the loader started (performance.now()). */
  epochStart = 0;
  /** The checkpoint this fit resumed from, if any. */
  resumedFrom: string | null = null;
  readonly warnings: string[] = [];
  readonly pending: CheckpointRequest[] = [];

  constructor(
    readonly model: Module,
    readonly optimizer: Optimizer,
    readonly epochs: number,
    readonly batchesPerEpoch: number | null,
    readonly hasValidation: boolean,
    readonly onWarning: ((message: string) => void) | undefined,
  ) {}

  stop(reason: string): void {
    if (typeof reason !== 'string' || reason === '')
      throw new ConfigError(`FitContext.stop: reason must be a non-empty string, got ${String(reason)}`);
    this.stopReason ??= reason;
  }

  requestCheckpoint(request: CheckpointRequest): void {
    if (typeof request?.dir !== 'string' || request.dir === '')
      throw new ConfigError(
        `FitContext.requestCheckpoint: dir must be a non-empty string, got ${String(request?.dir)}`,
      );
    this.pending.push(request);
  }

  /** Records a warning and hands it to the user's `onWarning`. */
  warn(message: string): void {
    this.warnings.push(message);
    this.onWarning?.(message);
  }
}
