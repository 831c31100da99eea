import { ConfigError, checkPositiveInt } from '@ml/core';

/** Options of {@link chronologicalSplit}. */
export interface ChronologicalSplitOptions {
  /** Fraction of the steps (from the start) for training (default 0.7). */
  train?: number;
  /** Fraction of the steps after the training part for validation (default 0.1); the rest is test. */
  val?: number;
}

/** Defaults of {@link ChronologicalSplitOptions}. */
export const DEFAULT_CHRONOLOGICAL_SPLIT_OPTIONS = { train: 0.7, val: 0.1 } as const;

/** A half-open range of time steps [start, end). */
export interface StepRange {
  start: number;
  end: number;
}

/** What {@link chronologicalSplit} returns: three consecutive, non-overlapping ranges covering [0, length). */
export interface ChronologicalSplit {
  train: StepRange;
  val: StepRange;
  test: StepRange;
}

/**
 * Splits time steps 0 … length − 1 in order, never shuffled, so that the model is validated and
 * tested on the future of what it trained on: train [0, ⌊length·train⌋), val up to
 * ⌊length·(train + val)⌋, test to the end.
 */
export function chronologicalSplit(
  length: number,
  options: ChronologicalSplitOptions = {},
): ChronologicalSplit {
  const where = 'chronologicalSplit';
  checkPositiveInt(where, 'length', length);
  const { train, val } = { ...DEFAULT_CHRONOLOGICAL_SPLIT_OPTIONS, ...options };
  if (!(Number.isFinite(train) && train > 0 && train < 1))
    throw new ConfigError(`${where}: train must be a fraction in (0, 1), got ${train}`);
  if (!(Number.isFinite(val) && val >= 0 && train + val < 1))
    throw new ConfigError(
      `${where}: val must be ≥ 0 with train + val < 1 (leaving a test part), got val = ${val}`,
    );
  const a = Math.floor(length * train);
  const b = Math.floor(length * (train + val));
  if (a === 0 || b === length)
    throw new ConfigError(
      `${where}: ${length} steps are too few for train ${train} / val ${val}: the training and test parts must not be empty`,
    );
  return { train: { start: 0, end: a }, val: { start: a, end: b }, test: { start: b, end: length } };
}
