// Training-time augmentation for the toy set: its sentences all have 6 tokens, so a model trained
// on them only ever ends after 6 letters. Cropping some training pairs to a random contiguous span
// (source and target cut at the same positions; the mapping is position by position) teaches it
// to stop where the source stops, so typed sentences of any length translate.
import type { Rng } from '@ml/core';
import type { Seq2SeqPair } from '@ml/seq2seq';

/**
 * With probability `p`, replaces a pair by a uniformly drawn contiguous span of it (length 1 … L,
 * then a uniform start); otherwise returns it unchanged.
 */
export function cropPair(pair: Seq2SeqPair, rng: Rng, p: number): Seq2SeqPair {
  if (p === 0 || rng.random() >= p) return pair;
  const n = Math.min(pair.src.length, pair.tgt.length);
  const length = 1 + rng.int(n);
  const start = rng.int(n - length + 1);
  return { src: pair.src.slice(start, start + length), tgt: pair.tgt.slice(start, start + length) };
}
