import type * as tf from '@tensorflow/tfjs-core';

import { ConfigError } from '@ml/core';

import { BOS_ID, EOS_ID, PAD_ID } from './vocab.js';

/**
 * What greedy and beam search need from a model: the next-token logits of a batch of prefixes.
 * {@link Seq2SeqTransformer.stepDecoder} builds one around an encoded source batch; tests build
 * them by hand from tables.
 */
export interface StepDecoder {
  /** Number of source sequences this decoder was built for (B). */
  readonly batchSize: number;
  /**
   * Next-token logits [N, V] for `prefix` int32 [N, t] (each row starts with `<bos>`). N is a
   * multiple of {@link batchSize}: row n continues source ⌊n·B/N⌋, so a beam of width k lays out
   * source b's hypotheses at rows b·k … b·k + k − 1. The caller disposes the result.
   */
  step(prefix: tf.Tensor2D): tf.Tensor2D;
}

/** Options shared by {@link greedySearch} and {@link beamSearch}. */
export interface SearchOptions {
  /** Most tokens generated per sequence, `<eos>` included (default 32). */
  maxLength?: number;
  /** First decoder input (default {@link BOS_ID}). */
  bosId?: number;
  /** Ends a hypothesis (default {@link EOS_ID}). */
  eosId?: number;
  /** Fed after a sequence has ended (default {@link PAD_ID}). */
  padId?: number;
}

/** One decoded sequence per source. */
export interface SearchResult {
  /** Generated ids per source, without `<bos>` and without the final `<eos>`. */
  tokens: number[][];
  /** Sum of the log-probabilities of the chosen tokens (the `<eos>` included), per source. */
  scores: number[];
  /** Whether each sequence ended with `<eos>` (false: it hit `maxLength`). */
  finished: boolean[];
}

/** Defaults of {@link SearchOptions}. */
export const DEFAULT_SEARCH_OPTIONS = { maxLength: 32, bosId: BOS_ID, eosId: EOS_ID, padId: PAD_ID } as const;

/** Resolves and checks search options (internal to the search functions). */
export function resolveSearchOptions(where: string, options: SearchOptions): Required<SearchOptions> {
  const o = { ...DEFAULT_SEARCH_OPTIONS, ...options };
  for (const key of ['maxLength'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1)
      throw new ConfigError(`${where}: ${key} must be a positive integer, got ${String(o[key])}`);
  }
  for (const key of ['bosId', 'eosId', 'padId'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 0)
      throw new ConfigError(`${where}: ${key} must be a non-negative integer, got ${String(o[key])}`);
  }
  return o;
}
