import { ConfigError, Rng, checkPositiveInt } from '@ml/core';

/**
 * Source tokens of the toy translation task: the English names of the letters a–z in a loose
 * phonetic spelling (with '∫' in 'eit∫' and '∧' in 'd∧blju:').
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

/** Target tokens of the toy translation task: the letters a–z; `LETTERS[i]` is the letter named `LETTER_NAMES[i]`. */
export const LETTERS: readonly string[] = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** Options of {@link toyTranslation}. */
export interface ToyTranslationOptions {
  /** Number of sentence pairs (default 1000). */
  n?: number;
  /** Tokens per sentence (default 6). */
  seqLen?: number;
  /** Probability that a target letter is replaced by a uniformly random letter (default 0.1). */
  noise?: number;
  /** Seed of the generator (default 0). */
  seed?: number;
}

/** Defaults of {@link ToyTranslationOptions}: 1000 pairs of 6 tokens, 10 % of target letters noisy. */
export const DEFAULT_TOY_TRANSLATION_OPTIONS = { n: 1000, seqLen: 6, noise: 0.1, seed: 0 } as const;

/** One sentence pair of the toy task: letter names and the letters they name (with noise). */
export interface ToyTranslationPair {
  src: string[];
  tgt: string[];
}

/**
 * The toy letter-name → letter set as raw tokens. Turning tokens into ids is the vocabulary's job
 * (`Vocab` / `encodePairs` in @ml/seq2seq), so this returns strings only and owns no tensors.
 */
export interface ToyTranslationData {
  /** n sentence pairs. */
  pairs: ToyTranslationPair[];
  /** The n source sentences (`pairs[i].src`). */
  srcTokens: string[][];
  /** The n target sentences (`pairs[i].tgt`). */
  tgtTokens: string[][];
  /**
   * Does nothing: the data holds no tensors.
   * @deprecated Kept so that code written when this returned id tensors still compiles; remove the call.
   */
  dispose(): void;
}

/**
 * The toy letter-name → letter translation set: each source sentence is `seqLen` letter names drawn
 * uniformly; its target is the letters they name, each kept with probability 1 − noise and otherwise
 * replaced by a uniformly drawn letter (which can be the right one again, so a target letter is right
 * with probability 1 − noise + noise/26). Per position the draws are: letter index, then the keep
 * test, then (only when replaced) the random letter. Returns raw string pairs.
 */
export function toyTranslation(options: ToyTranslationOptions = {}): ToyTranslationData {
  const { n, seqLen, noise, seed } = { ...DEFAULT_TOY_TRANSLATION_OPTIONS, ...options };
  checkPositiveInt('toyTranslation', 'n', n);
  checkPositiveInt('toyTranslation', 'seqLen', seqLen);
  if (typeof noise !== 'number' || !(noise >= 0 && noise <= 1))
    throw new ConfigError(`toyTranslation: noise must be in [0, 1], got ${noise}`);
  const rng = new Rng(seed);
  const pairs: ToyTranslationPair[] = [];
  for (let i = 0; i < n; i++) {
    const src: string[] = [];
    const tgt: string[] = [];
    for (let j = 0; j < seqLen; j++) {
      const ind = rng.int(26);
      src.push(LETTER_NAMES[ind] as string);
      tgt.push(LETTERS[rng.random() < 1 - noise ? ind : rng.int(26)] as string);
    }
    pairs.push({ src, tgt });
  }
  return {
    pairs,
    srcTokens: pairs.map((p) => p.src),
    tgtTokens: pairs.map((p) => p.tgt),
    dispose: () => undefined,
  };
}
