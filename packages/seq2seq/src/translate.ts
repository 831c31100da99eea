import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError, checkPositiveInt } from '@ml/core';

import { beamSearch, DEFAULT_BEAM_SEARCH_OPTIONS, type BeamSearchOptions } from './beam-search.js';
import { padSequences } from './batch.js';
import { greedySearch } from './greedy-search.js';
import type { Seq2SeqTransformer } from './seq2seq-transformer.js';
import type { SearchResult } from './step-decoder.js';

/** Options of {@link translate}. */
export interface TranslateOptions extends BeamSearchOptions {
  /** 1 (the default here) decodes greedily; more runs {@link beamSearch} with that width. */
  beamWidth?: number;
  /** Sources decoded together (default 256); bounds memory on long lists. */
  batchSize?: number;
}

/** Defaults of {@link TranslateOptions}. */
export const DEFAULT_TRANSLATE_OPTIONS = {
  beamWidth: 1,
  batchSize: 256,
  lengthPenalty: DEFAULT_BEAM_SEARCH_OPTIONS.lengthPenalty,
} as const;

/**
 * Decodes source id sequences (without `<bos>`/`<eos>`) with a trained model: greedy by default,
 * beam search with `beamWidth` > 1. Runs in eval mode (dropout off) and restores the model's mode.
 * `maxLength` defaults to, and may not exceed, the model's position table. Empty sources, sources
 * longer than the table and ids outside the source vocabulary are DataErrors.
 */
export async function translate(
  model: Seq2SeqTransformer,
  sources: readonly (readonly number[])[],
  options: TranslateOptions = {},
): Promise<SearchResult> {
  const where = 'translate';
  const { maxLength: table, srcVocabSize } = model.config;
  const longest = model.maxSourceLength;
  const beamWidth = options.beamWidth ?? DEFAULT_TRANSLATE_OPTIONS.beamWidth;
  const batchSize = options.batchSize ?? DEFAULT_TRANSLATE_OPTIONS.batchSize;
  checkPositiveInt(where, 'beamWidth', beamWidth);
  checkPositiveInt(where, 'batchSize', batchSize);
  const maxLength = options.maxLength ?? table;
  checkPositiveInt(where, 'maxLength', maxLength);
  if (maxLength > table)
    throw new ConfigError(
      `${where}: maxLength must be at most the model's position table (${table}), got ${maxLength}`,
    );
  sources.forEach((s, i) => {
    if (s.length === 0) throw new DataError(`${where}: source ${i} is empty; give at least one token`);
    if (s.length > longest) {
      const why =
        longest < table
          ? `its position table, maxLength ${table}, less one for the <eos> it appends`
          : `its position table, maxLength ${table}`;
      throw new DataError(
        `${where}: source ${i} has ${s.length} tokens, more than the model takes (${longest}: ${why})`,
      );
    }
    s.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= srcVocabSize) {
        throw new DataError(
          `${where}: source ${i}, position ${j} must be an id in [0, ${srcVocabSize}), got ${id}`,
        );
      }
    });
  });
  const wasTraining = model.training;
  model.eval();
  const result: SearchResult = { tokens: [], scores: [], finished: [] };
  try {
    for (let start = 0; start < sources.length; start += batchSize) {
      const src = padSequences(sources.slice(start, start + batchSize), { padId: model.config.padId, where });
      const decoder = model.stepDecoder(src);
      try {
        const search = { ...options, maxLength };
        const part =
          beamWidth === 1
            ? await greedySearch(decoder, search)
            : await beamSearch(decoder, { ...search, beamWidth });
        result.tokens.push(...part.tokens);
        result.scores.push(...part.scores);
        result.finished.push(...part.finished);
      } finally {
        decoder.dispose();
        tf.dispose(src);
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return result;
}
