import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError } from './errors.js';
import type { PlainIndices } from './index-checks.js';
import { checkIndexValues, plainIndicesToTensor } from './index-checks.js';
import { init } from './init.js';
import { checkPositiveInt } from './checks.js';
import { Module } from './module.js';
import { noGrad } from './no-grad.js';
import { type Rng, resolveRng } from './rng.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions {
  /** Vocabulary size V: ids must lie in [0, V). */
  numEmbeddings: number;
  /** Size D of each embedding vector. */
  embeddingDim: number;
  /**
   * An id whose row is initialised to zeros and never receives a gradient (PyTorch's `padding_idx`);
   * negative values count from the end (−1 is V − 1). Default: none.
   */
  paddingIdx?: number;
  /** Randomness for the initial weights; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link EmbeddingOptions}. */
export const DEFAULT_EMBEDDING_OPTIONS = { paddingIdx: undefined } as const;

/** Ids as an int32 tensor, or as plain (nested) arrays of integers. */
export type EmbeddingIds = tf.Tensor | PlainIndices;

/**
 * A lookup table of learned vectors, like `torch.nn.Embedding`: weight [V, D] initialised N(0, 1),
 * with the `paddingIdx` row zeroed and frozen out of the gradient. Ids int32 [...] → [..., D].
 *
 * Validation of id values: ids given as plain arrays are checked on every call (the values are
 * already in JavaScript, so this costs no device read) and an id outside [0, V) throws a
 * `DataError`. Ids given as tensors are not read by @ml on the forward pass (that would stall the
 * pipeline on every step); on the cpu and wasm backends, whose gather reads them anyway, an id
 * outside [0, V) is a `DataError` too; on GPU backends it is undefined, so call
 * `await embedding.checkIds(ids)` where you want the check there (e.g. once per dataset).
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding id, normalised to [0, V), or null. */
  readonly paddingIdx: number | null;
  readonly weight: tf.Variable;

  constructor(options: EmbeddingOptions) {
    super();
    const { numEmbeddings, embeddingDim } = options;
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    const pad = options.paddingIdx ?? DEFAULT_EMBEDDING_OPTIONS.paddingIdx;
    if (pad !== undefined && (!Number.isInteger(pad) || pad < -numEmbeddings || pad >= numEmbeddings)) {
      throw new ConfigError(
        `Embedding: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}), got ${pad}`,
      );
    }
    this.paddingIdx = pad === undefined ? null : pad < 0 ? pad + numEmbeddings : pad;
    const rng = resolveRng(options.rng, options.seed);
    let w = init.normal(rng, [numEmbeddings, embeddingDim]); // [V, D]
    if (this.paddingIdx !== null) {
      const p = this.paddingIdx;
      const zeroed = tf.tidy(() => {
        const keep = tf.expandDims(
          tf.notEqual(tf.range(0, numEmbeddings, 1, 'int32'), tf.scalar(p, 'int32')),
          1,
        ); // [V, 1]
        return tf.where(keep, w, tf.zerosLike(w)); // +0 (w·0 would leave −0 in the row)
      });
      w.dispose();
      w = zeroed;
    }
    this.weight = this.registerParameter('weight', w);
  }

  /**
   * Looks up `ids` (int32 tensor or plain integer array, any shape [...]) and returns [..., D].
   * Plain arrays are range-checked (DataError); tensors are not read (see {@link Embedding.checkIds}).
   */
  forward(ids: EmbeddingIds): tf.Tensor {
    let plain: tf.Tensor | null = null;
    if (ids instanceof tf.Tensor) {
      if (ids.dtype !== 'int32')
        throw new DataError(`Embedding: ids must be an int32 tensor, got dtype ${ids.dtype}`);
    } else {
      plain = plainIndicesToTensor('Embedding', 'id', ids, this.numEmbeddings);
    }
    const input = plain ?? (ids as tf.Tensor);
    const out = tf.tidy(() => {
      const idx = tf.reshape(input, [-1]); // [M]
      let rows = this.#gather(idx); // [M, D]
      if (this.paddingIdx !== null) {
        // PyTorch returns the padding row's value but gives it no gradient: take it off the tape.
        const padRow = noGrad(() => tf.gather(this.weight, [this.paddingIdx as number])); // [1, D]
        const isPad = tf.expandDims(tf.equal(idx, this.paddingIdx), 1); // [M, 1]
        rows = tf.where(isPad, padRow, rows);
      }
      return tf.reshape(rows, [...input.shape, this.embeddingDim]); // [..., D]
    });
    plain?.dispose();
    return out;
  }

  // The cpu and wasm backends check gather indices themselves (they read them anyway) and throw
  // tfjs' "GatherV2: the index value 99 is not in [0, 7]"; that is turned into a DataError naming the
  // input and the valid range. Other backends do not check (see the class comment).
  #gather(idx: tf.Tensor): tf.Tensor {
    try {
      return tf.gather(this.weight, idx);
    } catch (e) {
      const m = /GatherV2: the index value (-?[\d.e+]+) is not in/.exec((e as Error)?.message ?? '');
      if (m === null) throw e;
      throw new DataError(
        `Embedding: id ${m[1]} is out of range [0, ${this.numEmbeddings}) (numEmbeddings ${this.numEmbeddings})`,
        { cause: e },
      );
    }
  }

  /** Reads `ids` (asynchronously) and throws a DataError naming the first id outside [0, V). */
  async checkIds(ids: tf.Tensor): Promise<void> {
    checkIndexValues('Embedding', 'id', await ids.data(), this.numEmbeddings);
  }
}
