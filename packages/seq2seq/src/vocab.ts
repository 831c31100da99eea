import { CheckpointError, ConfigError, DataError, describe } from '@ml/core';

/** The special tokens every {@link Vocab} starts with, at ids 0–3. */
export const SPECIAL_TOKENS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
/** Id of `<pad>`: fills short sequences; ignored by the loss and by attention. */
export const PAD_ID = 0;
/** Id of `<bos>`: the first decoder input. */
export const BOS_ID = 1;
/** Id of `<eos>`: ends every target sequence. */
export const EOS_ID = 2;
/** Id of `<unk>`: stands for tokens the vocabulary does not know. */
export const UNK_ID = 3;

/** What {@link Vocab.encode} does with a token the vocabulary does not know. */
export type UnknownTokenPolicy = 'unk' | 'error';

/** Options of {@link Vocab.build}. */
export interface VocabBuildOptions {
  /** Keep only tokens seen at least this often (default 1). */
  minFreq?: number;
  /** Keep at most this many ordinary tokens (the most frequent; default: all). */
  maxTokens?: number;
}

/** Options of {@link Vocab.encode}. */
export interface EncodeOptions {
  /** Prepend `<bos>` (default false). */
  bos?: boolean;
  /** Append `<eos>` (default false). */
  eos?: boolean;
  /** Map unknown tokens to `<unk>` (`'unk'`, the default) or throw a DataError (`'error'`). */
  unknown?: UnknownTokenPolicy;
}

/** Options of {@link Vocab.decode}. */
export interface DecodeOptions {
  /** Stop at the first `<eos>` (default true). */
  stopAtEos?: boolean;
  /** Leave out `<pad>`, `<bos>` and `<eos>` (default true); `<unk>` is kept so losses stay visible. */
  skipSpecial?: boolean;
}

/** Defaults of {@link VocabBuildOptions}, {@link EncodeOptions} and {@link DecodeOptions}. */
export const DEFAULT_VOCAB_OPTIONS = {
  minFreq: 1,
  bos: false,
  eos: false,
  unknown: 'unk',
  stopAtEos: true,
  skipSpecial: true,
} as const;

/** The JSON form of a {@link Vocab}: every token in id order, specials first. */
export interface VocabJSON {
  tokens: string[];
}

/**
 * A token ↔ id mapping with the special tokens at 0–3 (`<pad> <bos> <eos> <unk>`) followed
 * by ordinary tokens. {@link Vocab.build} orders them by frequency, most frequent first, ties in
 * order of first appearance (what a stable sort of Python's `Counter` by count gives).
 */
export class Vocab {
  /** Every token, indexed by id. */
  readonly tokens: readonly string[];
  readonly #ids: Map<string, number>;

  /** Builds a vocabulary from its full token list (specials first, as {@link Vocab.toJSON} writes it). */
  constructor(tokens: readonly string[]) {
    SPECIAL_TOKENS.forEach((s, i) => {
      if (tokens[i] !== s) {
        throw new ConfigError(
          `Vocab: tokens[${i}] must be '${s}' (specials come first: ${SPECIAL_TOKENS.join(' ')}), got ${tokens[i] === undefined ? 'nothing' : `'${tokens[i]}'`}`,
        );
      }
    });
    const ids = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (typeof t !== 'string' || t.length === 0)
        throw new ConfigError(`Vocab: tokens[${i}] must be a non-empty string, got ${JSON.stringify(t)}`);
      const prev = ids.get(t);
      if (prev !== undefined)
        throw new ConfigError(`Vocab: token '${t}' appears twice (ids ${prev} and ${i})`);
      ids.set(t, i);
    });
    this.tokens = Object.freeze([...tokens]);
    this.#ids = ids;
  }

  /**
   * Counts the tokens of `sequences` and builds a vocabulary: specials, then tokens by falling
   * frequency (ties: first appearance). Special tokens inside the data are not counted.
   */
  static build(sequences: Iterable<readonly string[]>, options: VocabBuildOptions = {}): Vocab {
    const minFreq = options.minFreq ?? DEFAULT_VOCAB_OPTIONS.minFreq;
    if (!Number.isInteger(minFreq) || minFreq < 1)
      throw new ConfigError(`Vocab.build: minFreq must be a positive integer, got ${String(minFreq)}`);
    const maxTokens = options.maxTokens;
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 0)) {
      throw new ConfigError(
        `Vocab.build: maxTokens must be a non-negative integer, got ${String(maxTokens)}`,
      );
    }
    const counts = new Map<string, number>();
    const specials = new Set<string>(SPECIAL_TOKENS);
    let row = 0;
    for (const seq of sequences) {
      if (!Array.isArray(seq))
        throw new DataError(`Vocab.build: sequence ${row} must be an array of strings, got ${typeof seq}`);
      seq.forEach((t, j) => {
        if (typeof t !== 'string' || t.length === 0)
          throw new DataError(
            `Vocab.build: sequence ${row}, position ${j} must be a non-empty string, got ${JSON.stringify(t)}`,
          );
        if (!specials.has(t)) counts.set(t, (counts.get(t) ?? 0) + 1);
      });
      row++;
    }
    // Array.prototype.sort is stable, so equal counts keep first-appearance order (Map insertion order).
    let ordered = [...counts].filter(([, c]) => c >= minFreq).sort((a, b) => b[1] - a[1]);
    if (maxTokens !== undefined) ordered = ordered.slice(0, maxTokens);
    return new Vocab([...SPECIAL_TOKENS, ...ordered.map(([t]) => t)]);
  }

  /** Number of tokens, specials included. */
  get size(): number {
    return this.tokens.length;
  }

  /** Whether `token` has an id of its own. */
  has(token: string): boolean {
    return this.#ids.has(token);
  }

  /** The id of `token`, or {@link UNK_ID} when unknown. */
  id(token: string): number {
    return this.#ids.get(token) ?? UNK_ID;
  }

  /** The token with id `id`; throws a DataError when `id` is not an id of this vocabulary. */
  token(id: number): string {
    const t = Number.isInteger(id) ? this.tokens[id] : undefined;
    if (t === undefined)
      throw new DataError(`Vocab.token: id must be an integer in [0, ${this.size}), got ${id}`);
    return t;
  }

  /**
   * Token strings → ids, optionally framed by `<bos>`/`<eos>`; unknown tokens per `options.unknown`.
   * A token that is not a string (a number, null) is a DataError naming its position.
   */
  encode(tokens: readonly string[], options: EncodeOptions = {}): number[] {
    const unknown = options.unknown ?? DEFAULT_VOCAB_OPTIONS.unknown;
    if (unknown !== 'unk' && unknown !== 'error')
      throw new ConfigError(`Vocab.encode: unknown must be 'unk' or 'error', got '${String(unknown)}'`);
    if (!Array.isArray(tokens))
      throw new DataError(
        `Vocab.encode: tokens must be an array of strings, got ${typeof tokens === 'string' ? `the string '${tokens as string}' (split it into tokens first)` : describe(tokens)}`,
      );
    const ids: number[] = [];
    if (options.bos ?? DEFAULT_VOCAB_OPTIONS.bos) ids.push(BOS_ID);
    tokens.forEach((t: unknown, j) => {
      // A number or null would otherwise map silently to <unk>.
      if (typeof t !== 'string')
        throw new DataError(`Vocab.encode: token at position ${j} must be a string, got ${describe(t)}`);
      const id = this.#ids.get(t);
      if (id === undefined) {
        if (unknown === 'error') {
          const known = this.tokens.slice(SPECIAL_TOKENS.length);
          const shown = known.slice(0, 30).join(' ') + (known.length > 30 ? ' …' : '');
          throw new DataError(
            `Vocab.encode: token '${t}' at position ${j} is not in the vocabulary (known: ${shown})`,
          );
        }
        ids.push(UNK_ID);
      } else ids.push(id);
    });
    if (options.eos ?? DEFAULT_VOCAB_OPTIONS.eos) ids.push(EOS_ID);
    return ids;
  }

  /** Ids → token strings; by default stops at `<eos>` and leaves out `<pad>`, `<bos>`, `<eos>`. */
  decode(ids: Iterable<number>, options: DecodeOptions = {}): string[] {
    const stopAtEos = options.stopAtEos ?? DEFAULT_VOCAB_OPTIONS.stopAtEos;
    const skipSpecial = options.skipSpecial ?? DEFAULT_VOCAB_OPTIONS.skipSpecial;
    const out: string[] = [];
    for (const id of ids) {
      if (id === EOS_ID && stopAtEos) break;
      const t = this.token(id);
      if (skipSpecial && (id === PAD_ID || id === BOS_ID || id === EOS_ID)) continue;
      out.push(t);
    }
    return out;
  }

  /** The JSON form: `{ tokens }` in id order. */
  toJSON(): VocabJSON {
    return { tokens: [...this.tokens] };
  }

  /** Reads {@link Vocab.toJSON}'s form back; malformed input gives a CheckpointError saying what is wrong. */
  static fromJSON(json: unknown): Vocab {
    const tokens = (json as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== 'string')) {
      throw new CheckpointError(
        `Vocab.fromJSON: expected { tokens: string[] }, got ${JSON.stringify(json)?.slice(0, 80)}`,
      );
    }
    try {
      return new Vocab(tokens as string[]);
    } catch (e) {
      throw new CheckpointError(`Vocab.fromJSON: ${(e as Error).message}`, { cause: e });
    }
  }
}
