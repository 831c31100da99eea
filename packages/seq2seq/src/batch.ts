import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError } from '@ml/core';

import { BOS_ID, EOS_ID, PAD_ID } from './vocab.js';

/** One training example: source and target token ids, without `<bos>`/`<eos>`. */
export interface Seq2SeqPair {
  src: readonly number[];
  tgt: readonly number[];
}

/** A padded batch for teacher-forced training; every tensor is int32 and owned by the caller. */
export interface Seq2SeqBatch {
  /** Encoder input: source ids then `<pad>`, [B, S]. */
  src: tf.Tensor2D;
  /** Decoder input: `<bos>` + target, then `<pad>`, [B, T]. */
  tgtIn: tf.Tensor2D;
  /** Decoder target: target + `<eos>`, then `<pad>`, [B, T] (what the loss compares with). */
  tgtOut: tf.Tensor2D;
}

/** Options of {@link padSequences}. */
export interface PadOptions {
  /** Length to pad to (default: the longest sequence). Longer sequences are a DataError. */
  length?: number;
  /** Id written after each sequence (default {@link PAD_ID}). */
  padId?: number;
  /** Prefix for error messages (default 'padSequences'). */
  where?: string;
}

/** Options of {@link collatePairs}. */
export interface CollateOptions {
  /** Pad sources to this length (default: the longest source of the batch). */
  srcLength?: number;
  /** Pad decoder input/target to this length, counting `<bos>`/`<eos>` (default: longest target + 1). */
  tgtLength?: number;
  /** Reject empty sources with a DataError (default true): an all-padding source has nothing to attend to. */
  rejectEmptySource?: boolean;
}

/** Defaults of {@link PadOptions} and {@link CollateOptions}. */
export const DEFAULT_COLLATE_OPTIONS = { padId: PAD_ID, rejectEmptySource: true } as const;

/** Pads integer sequences to one length: [B][*] → int32 [B, L]. */
export function padSequences(seqs: readonly (readonly number[])[], options: PadOptions = {}): tf.Tensor2D {
  const where = options.where ?? 'padSequences';
  const padId = options.padId ?? DEFAULT_COLLATE_OPTIONS.padId;
  if (seqs.length === 0) throw new DataError(`${where}: needs at least one sequence, got none`);
  const longest = Math.max(...seqs.map((s) => s.length));
  const length = options.length ?? longest;
  if (!Number.isInteger(length) || length < 1)
    throw new ConfigError(`${where}: length must be a positive integer, got ${String(length)}`);
  const values = new Int32Array(seqs.length * length).fill(padId);
  seqs.forEach((s, i) => {
    if (s.length > length)
      throw new DataError(
        `${where}: sequence ${i} has ${s.length} tokens, more than the padded length ${length}`,
      );
    s.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0)
        throw new DataError(
          `${where}: sequence ${i}, position ${j} must be a non-negative integer id, got ${id}`,
        );
      values[i * length + j] = id;
    });
  });
  return tf.tensor2d(values, [seqs.length, length], 'int32');
}

/**
 * Collates (source, target) id pairs into a padded teacher-forcing batch: `src` [B, S],
 * `tgtIn` = `<bos>` + tgt and `tgtOut` = tgt + `<eos>`, both [B, T].
 */
export function collatePairs(pairs: readonly Seq2SeqPair[], options: CollateOptions = {}): Seq2SeqBatch {
  if (pairs.length === 0) throw new DataError('collatePairs: needs at least one pair, got none');
  if (options.rejectEmptySource ?? DEFAULT_COLLATE_OPTIONS.rejectEmptySource) {
    const empty = pairs.findIndex((p) => p.src.length === 0);
    if (empty >= 0)
      throw new DataError(`collatePairs: source ${empty} is empty; every source needs at least one token`);
  }
  const tgtIn = pairs.map((p) => [BOS_ID, ...p.tgt]);
  const tgtOut = pairs.map((p) => [...p.tgt, EOS_ID]);
  // One tidy so that a failure in a later part disposes the parts already built.
  return tf.tidy(() => ({
    src: padSequences(
      pairs.map((p) => p.src),
      { length: options.srcLength, where: 'collatePairs (src)' },
    ),
    tgtIn: padSequences(tgtIn, { length: options.tgtLength, where: 'collatePairs (tgtIn)' }),
    tgtOut: padSequences(tgtOut, { length: options.tgtLength, where: 'collatePairs (tgtOut)' }),
  }));
}
