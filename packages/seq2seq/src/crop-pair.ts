import { checkRange, type Rng } from '@ml/core';

import type { Seq2SeqPair } from './batch.js';

/**
 * Training-time augmentation for token-aligned pairs (target token i translates source token i, as
 * in the letter-name → letter task): with probability `p`, replaces a pair by a uniformly drawn
 * contiguous span of it — a length in 1 … L, then a uniform start — cut at the same positions in
 * source and target; otherwise returns the pair itself. A model trained only on sentences of one
 * length learns to always stop after that many tokens; cropping some pairs teaches it to stop
 * where the source stops. Not for pairs whose tokens do not align one to one.
 */
export function cropPair(pair: Seq2SeqPair, rng: Rng, p: number): Seq2SeqPair {
  checkRange('cropPair', 'p', p, 0, 1, true);
  if (p === 0 || rng.random() >= p) return pair;
  const n = Math.min(pair.src.length, pair.tgt.length);
  if (n === 0) return pair;
  const length = 1 + rng.int(n);
  const start = rng.int(n - length + 1);
  return { src: pair.src.slice(start, start + length), tgt: pair.tgt.slice(start, start + length) };
}
