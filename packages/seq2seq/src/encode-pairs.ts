import { DataError, describe } from '@ml/core';

import type { Seq2SeqPair } from './batch.js';
import { Vocab } from './vocab.js';
import type { VocabBuildOptions } from './vocab.js';

/** A sentence pair as tokens (what `toyTranslation()` of @ml/data-loaders yields). */
export interface TokenPair {
  src: readonly string[];
  tgt: readonly string[];
}

/** Options of {@link encodePairs}. */
export interface EncodePairsOptions {
  /** The source vocabulary; default: built from the pairs' sources with `build`. */
  srcVocab?: Vocab;
  /** The target vocabulary; default: built from the pairs' targets with `build`. */
  tgtVocab?: Vocab;
  /** How missing vocabularies are built (see {@link Vocab.build}); default: every token, most frequent first. */
  build?: VocabBuildOptions;
}

/** What {@link encodePairs} returns: id pairs and the vocabularies that encoded them. */
export interface EncodedPairs {
  pairs: Seq2SeqPair[];
  srcVocab: Vocab;
  tgtVocab: Vocab;
}

/**
 * Token pairs → id pairs, building the vocabularies from the pairs unless given: the one step from
 * raw text pairs to what {@link collatePairs} batches. Ids carry no `<bos>`/`<eos>` (the collate
 * adds them). A pair without `src`/`tgt` arrays is a DataError naming it.
 */
export function encodePairs(pairs: readonly TokenPair[], options: EncodePairsOptions = {}): EncodedPairs {
  const raw: unknown = pairs; // checked as unknown: Array.isArray would narrow `pairs` to any[]
  if (!Array.isArray(raw))
    throw new DataError(
      `encodePairs: pairs must be an array of { src, tgt } token pairs, got ${describe(pairs)}`,
    );
  pairs.forEach((p: Partial<TokenPair> | null, i) => {
    if (!Array.isArray(p?.src) || !Array.isArray(p.tgt))
      throw new DataError(
        `encodePairs: pairs[${i}] must be { src: string[], tgt: string[] }, got ${describe(p)}`,
      );
  });
  const srcVocab =
    options.srcVocab ??
    Vocab.build(
      pairs.map((p) => p.src),
      options.build,
    );
  const tgtVocab =
    options.tgtVocab ??
    Vocab.build(
      pairs.map((p) => p.tgt),
      options.build,
    );
  return {
    pairs: pairs.map((p) => ({ src: srcVocab.encode(p.src), tgt: tgtVocab.encode(p.tgt) })),
    srcVocab,
    tgtVocab,
  };
}
