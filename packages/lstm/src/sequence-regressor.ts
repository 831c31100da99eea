import { DEFAULT_SEQUENCE_HEAD_OPTIONS, SequenceHead } from './internal/sequence-head.js';
import type { SequenceHeadOptions } from './internal/sequence-head.js';

/** Options of {@link SequenceRegressor}. */
export interface SequenceRegressorOptions extends SequenceHeadOptions {
  /** Values predicted per sequence, e.g. the forecast horizon (default 1). */
  outputSize?: number;
}

/** Defaults of {@link SequenceRegressorOptions}. */
export const DEFAULT_SEQUENCE_REGRESSOR_OPTIONS = {
  ...DEFAULT_SEQUENCE_HEAD_OPTIONS,
  outputSize: 1,
} as const;

/**
 * Sequence → values: an LSTM (or GRU) reads [B, T, inputSize] and a linear layer maps the final
 * hidden state to [B, outputSize] (train with `mseLoss`). `features(x)` gives the hidden state itself
 * [B, D·H], e.g. to fit another regressor on a trained network's features.
 */
export class SequenceRegressor extends SequenceHead {
  readonly outputSize: number;

  constructor(options: SequenceRegressorOptions) {
    const outputSize = options.outputSize ?? DEFAULT_SEQUENCE_REGRESSOR_OPTIONS.outputSize;
    super('SequenceRegressor', 'outputSize', outputSize, options);
    this.outputSize = outputSize;
  }
}
