import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, Rng, checkPositiveInt } from '@ml/core';

/**
 * Seed 000's source tokens: the English names of the letters a–z, spelled exactly as in the seed
 * (including its '∫' in 'eit∫' and '∧' in 'd∧blju:'), so that results line up with the tutorial.
 */
export const LETTER_NAMES: readonly string[] = [
  'ei',
  'bi:',
  'si:',
  'di:',
  'i:',
  'ef',
  'dʒi:',
  'eit∫',
  'ai',
  'dʒei',
  'kei',
  'el',
  'em',
  'en',
  'əu',
  'pi:',
  'kju:',
  'ɑ:',
  'es',
  'ti:',
  'ju:',
  'vi:',
  'd∧blju:',
  'eks',
  'wai',
  'zi:',
];

/** Seed 000's target tokens: the letters a–z; `LETTERS[i]` is the letter named `LETTER_NAMES[i]`. */
export const LETTERS: readonly string[] = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** The special tokens at ids 0–3 of both vocabularies, as in seed 000. */
export const TOY_SPECIAL_TOKENS: readonly string[] = ['<pad>', '<bos>', '<eos>', '<unk>'];

/** Ids of the special tokens (the same in both vocabularies). */
export const TOY_SPECIAL_IDS = { pad: 0, bos: 1, eos: 2, unk: 3 } as const;

/** Options of {@link toyTranslation}. */
export interface ToyTranslationOptions {
  /** Number of sentence pairs (seed: t = 1000). */
  n?: number;
  /** Tokens per sentence (seed: seq_len = 6). */
  seqLen?: number;
  /** Probability that a target letter is replaced by a uniformly random letter (seed: 1 − r = 0.1). */
  noise?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
  /**
   * Ordinary-token ids: `'frequency'` (default, as the seed's `Vocab`): ids 4, 5, … by decreasing
   * count in this data, ties in order of first appearance, only tokens that occur; `'alphabet'`: fixed
   * ids, letter i (and its name) → 4 + i, all 26 present whatever the data.
   */
  vocabOrder?: 'frequency' | 'alphabet';
}

/** Defaults of {@link ToyTranslationOptions}: seed 000's t = 1000, seq_len = 6, r = 0.9. */
export const DEFAULT_TOY_TRANSLATION_OPTIONS = {
  n: 1000,
  seqLen: 6,
  noise: 0.1,
  seed: 0,
  vocabOrder: 'frequency',
} as const;

/** The toy letter-name → letter set: raw tokens, vocabularies and id tensors (int32, caller-owned). */
export interface ToyTranslationData {
  /** n sentences of seqLen letter names. */
  srcTokens: string[][];
  /** n sentences of seqLen letters (the translation, with noise). */
  tgtTokens: string[][];
  /** Source vocabulary, indexed by id: the 4 special tokens, then letter names. */
  srcVocab: readonly string[];
  /** Target vocabulary, indexed by id: the 4 special tokens, then letters. */
  tgtVocab: readonly string[];
  /** int32 [n, seqLen + 1]: source ids then `<pad>` (the seed's `src + ['<pad>']`). */
  encoderInput: tf.Tensor2D;
  /** int32 [n, seqLen + 1]: `<bos>` then target ids. */
  decoderInput: tf.Tensor2D;
  /** int32 [n, seqLen + 1]: target ids then `<eos>`. */
  decoderOutput: tf.Tensor2D;
  dispose(): void;
}

function vocabulary(
  order: 'frequency' | 'alphabet',
  sentences: string[][],
  alphabet: readonly string[],
): string[] {
  if (order === 'alphabet') return [...TOY_SPECIAL_TOKENS, ...alphabet];
  // Python's sorted(Counter(...).items(), key=count, reverse=True) is stable over first appearance.
  const counts = new Map<string, number>();
  for (const s of sentences) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
  const ranked = [...counts.entries()]
    .map(([t, c], first) => ({ t, c, first }))
    .sort((a, b) => b.c - a.c || a.first - b.first);
  return [...TOY_SPECIAL_TOKENS, ...ranked.map((r) => r.t)];
}

function ids(vocab: readonly string[], rows: string[][]): Int32Array {
  const index = new Map(vocab.map((t, i) => [t, i]));
  const out = new Int32Array(rows.length * (rows[0]?.length ?? 0));
  let at = 0;
  for (const r of rows) for (const t of r) out[at++] = index.get(t) ?? TOY_SPECIAL_IDS.unk;
  return out;
}

/**
 * Seed 000's toy translation set: each source sentence is `seqLen` letter names drawn uniformly; its
 * target is the letters they name, each kept with probability 1 − noise and otherwise replaced by a
 * uniformly drawn letter (which can be the right one again, as in the seed). Per position the draws are
 * the seed's: letter index, then the keep test, then (only when replaced) the random letter.
 * `<pad>`=0 `<bos>`=1 `<eos>`=2 `<unk>`=3; encoder input = src + `<pad>`, decoder input = `<bos>` +
 * tgt, decoder output = tgt + `<eos>`, all int32 [n, seqLen + 1].
 */
export function toyTranslation(options: ToyTranslationOptions = {}): ToyTranslationData {
  const { n, seqLen, noise, seed, vocabOrder } = { ...DEFAULT_TOY_TRANSLATION_OPTIONS, ...options };
  checkPositiveInt('toyTranslation', 'n', n);
  checkPositiveInt('toyTranslation', 'seqLen', seqLen);
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 1))
    throw new ConfigError(`toyTranslation: noise must be in [0, 1], got ${noise}`);
  if (vocabOrder !== 'frequency' && vocabOrder !== 'alphabet')
    throw new ConfigError(
      `toyTranslation: vocabOrder must be 'frequency' or 'alphabet', got ${String(vocabOrder)}`,
    );
  const rng = new Rng(seed);
  const srcTokens: string[][] = [];
  const tgtTokens: string[][] = [];
  for (let i = 0; i < n; i++) {
    const src: string[] = [];
    const tgt: string[] = [];
    for (let j = 0; j < seqLen; j++) {
      const ind = rng.int(26);
      src.push(LETTER_NAMES[ind] as string);
      tgt.push(LETTERS[rng.random() < 1 - noise ? ind : rng.int(26)] as string);
    }
    srcTokens.push(src);
    tgtTokens.push(tgt);
  }
  const srcVocab = vocabulary(vocabOrder, srcTokens, LETTER_NAMES);
  const tgtVocab = vocabulary(vocabOrder, tgtTokens, LETTERS);
  const { pad, bos, eos } = TOY_SPECIAL_IDS;
  const encoderInput = tf.tensor2d(
    ids(
      srcVocab,
      srcTokens.map((s) => [...s, TOY_SPECIAL_TOKENS[pad] as string]),
    ),
    [n, seqLen + 1],
    'int32',
  ); // [n, L+1]
  const decoderInput = tf.tensor2d(
    ids(
      tgtVocab,
      tgtTokens.map((t) => [TOY_SPECIAL_TOKENS[bos] as string, ...t]),
    ),
    [n, seqLen + 1],
    'int32',
  ); // [n, L+1]
  const decoderOutput = tf.tensor2d(
    ids(
      tgtVocab,
      tgtTokens.map((t) => [...t, TOY_SPECIAL_TOKENS[eos] as string]),
    ),
    [n, seqLen + 1],
    'int32',
  ); // [n, L+1]
  return {
    srcTokens,
    tgtTokens,
    srcVocab,
    tgtVocab,
    encoderInput,
    decoderInput,
    decoderOutput,
    dispose: () => tf.dispose([encoderInput, decoderInput, decoderOutput]),
  };
}
