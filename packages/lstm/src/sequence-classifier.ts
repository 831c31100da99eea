import { SequenceHead } from './internal/sequence-head.js';
import type { SequenceHeadOptions } from './internal/sequence-head.js';

/** Options of {@link SequenceClassifier}. */
export interface SequenceClassifierOptions extends SequenceHeadOptions {
  /** Number of classes C. */
  numClasses: number;
}

/** Defaults of {@link SequenceClassifierOptions}. */
export { DEFAULT_SEQUENCE_HEAD_OPTIONS as DEFAULT_SEQUENCE_CLASSIFIER_OPTIONS } from './internal/sequence-head.js';

/**
 * Sequence → class logits: an LSTM (or GRU) reads [B, T, inputSize] and a linear layer maps the final
 * hidden state to [B, numClasses] logits (train with `crossEntropy`).
 */
export class SequenceClassifier extends SequenceHead {
  readonly numClasses: number;

  constructor(options: SequenceClassifierOptions) {
    super('SequenceClassifier', 'numClasses', options.numClasses, options);
    this.numClasses = options.numClasses;
  }
}
