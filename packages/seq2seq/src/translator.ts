import { ConfigError, DataError } from '@ml/core';

import {
  loadSeq2SeqCheckpoint,
  saveSeq2SeqCheckpoint,
  type SaveSeq2SeqCheckpointOptions,
} from './checkpoint.js';
import type { Seq2SeqTransformer } from './seq2seq-transformer.js';
import { translate, type TranslateOptions } from './translate.js';
import type { UnknownTokenPolicy, Vocab } from './vocab.js';

/** Options of {@link Translator.translate}. */
export interface TranslatorOptions extends TranslateOptions {
  /** Unknown source tokens: mapped to `<unk>` (`'unk'`) or rejected with a DataError (`'error'`, the default). */
  unknown?: UnknownTokenPolicy;
}

/** Defaults of {@link TranslatorOptions}. */
export const DEFAULT_TRANSLATOR_OPTIONS = { unknown: 'error' } as const;

/**
 * A trained model with its two vocabularies: translates token strings to token strings, and saves
 * or loads all three as one checkpoint file. `await Translator.load('model.safetensors')` then
 * `translator.translate([['ei', 'bi:', 'si:']])` → `[['a', 'b', 'c']]`.
 */
export class Translator {
  readonly model: Seq2SeqTransformer;
  readonly srcVocab: Vocab;
  readonly tgtVocab: Vocab;

  constructor(options: { model: Seq2SeqTransformer; srcVocab: Vocab; tgtVocab: Vocab }) {
    const { model, srcVocab, tgtVocab } = options;
    if (srcVocab.size !== model.config.srcVocabSize || tgtVocab.size !== model.config.tgtVocabSize) {
      throw new ConfigError(
        `Translator: vocabularies must match the model: source ${srcVocab.size} tokens vs srcVocabSize ${model.config.srcVocabSize}, target ${tgtVocab.size} tokens vs tgtVocabSize ${model.config.tgtVocabSize}`,
      );
    }
    this.model = model;
    this.srcVocab = srcVocab;
    this.tgtVocab = tgtVocab;
  }

  /** Loads a checkpoint written by {@link Translator.save} or `saveSeq2SeqCheckpoint`. */
  static async load(path: string): Promise<Translator> {
    const { model, srcVocab, tgtVocab } = await loadSeq2SeqCheckpoint(path);
    return new Translator({ model, srcVocab, tgtVocab });
  }

  /** Saves model weights, config and both vocabularies to one safetensors file (atomically). */
  async save(path: string, options: SaveSeq2SeqCheckpointOptions = {}): Promise<void> {
    await saveSeq2SeqCheckpoint(path, this, options);
  }

  /**
   * Translates token lists: `[['ei', 'bi:']]` → `[['a', 'b']]`. Unknown tokens are rejected with a
   * DataError naming the sentence and the token (or mapped to `<unk>` with `unknown: 'unk'`).
   */
  async translate(
    sentences: readonly (readonly string[])[],
    options: TranslatorOptions = {},
  ): Promise<string[][]> {
    const unknown = options.unknown ?? DEFAULT_TRANSLATOR_OPTIONS.unknown;
    const ids = sentences.map((tokens, i) => {
      if (tokens.length === 0)
        throw new DataError(`Translator.translate: sentence ${i} is empty; give at least one token`);
      try {
        return this.srcVocab.encode(tokens, { unknown });
      } catch (e) {
        if (e instanceof DataError)
          throw new DataError(`Translator.translate: sentence ${i}: ${e.message}`, { cause: e });
        throw e;
      }
    });
    const result = await translate(this.model, ids, options);
    return result.tokens.map((t) => this.tgtVocab.decode(t));
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}
