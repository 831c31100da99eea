import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError, ShapeError, checkPositiveInt, formatShape } from '@ml/core';

import { deriveRng } from './internal/derive-rng.js';

/** Options of {@link EpisodeSampler}. */
export interface EpisodeSamplerOptions {
  /** Examples [N, ...] (images or features) that episodes are gathered from. */
  data: tf.Tensor;
  /** Class id of each example (length N). */
  labels: ArrayLike<number>;
  /** N: classes per episode. */
  ways: number;
  /** K: support examples per class. */
  shots: number;
  /** Q: query examples per class (default 15, the usual few-shot protocol). */
  queries?: number;
  /** Only draw from these class ids (default: every class in `labels`), e.g. the base or novel classes. */
  classes?: readonly number[];
  /** Seed (default 0): episode i depends only on (seed, i). */
  seed?: number;
}

/** Defaults of {@link EpisodeSamplerOptions}. */
export const DEFAULT_EPISODE_SAMPLER_OPTIONS = { queries: 15, seed: 0 } as const;

/** One N-way K-shot episode; its tensors belong to the caller (`dispose()` frees them). */
export interface Episode {
  /** [N·K, ...], grouped by class: class 0's K examples, then class 1's, … */
  support: tf.Tensor;
  /** int32 [N·K]: episode-local labels 0..N−1. */
  supportLabels: tf.Tensor1D;
  /** [N·Q, ...], grouped by class like `support`. */
  query: tf.Tensor;
  /** int32 [N·Q]: episode-local labels 0..N−1. */
  queryLabels: tf.Tensor1D;
  /** The global class id of each local label: `classIds[local]`. */
  classIds: number[];
  /** Rows of `data` used for the support and query sets (disjoint). */
  supportIndices: number[];
  queryIndices: number[];
  dispose(): void;
}

/**
 * Draws N-way K-shot Q-query episodes from a labelled set, as in few-shot learning: pick N
 * classes, then K + Q distinct examples of each, split into a support set (to build prototypes) and a
 * query set (to classify). Seeded: `episode(i)` is the same for the same seed and i; `next()` walks
 * i = 0, 1, 2, …. Every class in the pool must have at least K + Q examples.
 */
export class EpisodeSampler {
  readonly ways: number;
  readonly shots: number;
  readonly queries: number;
  readonly seed: number;
  /** The class ids episodes are drawn from, ascending. */
  readonly classes: readonly number[];
  private readonly data: tf.Tensor;
  private readonly byClass: Map<number, number[]>;
  private counter = 0;

  constructor(options: EpisodeSamplerOptions) {
    const { data, labels, ways, shots, queries, seed } = { ...DEFAULT_EPISODE_SAMPLER_OPTIONS, ...options };
    checkPositiveInt('EpisodeSampler', 'ways', ways);
    checkPositiveInt('EpisodeSampler', 'shots', shots);
    checkPositiveInt('EpisodeSampler', 'queries', queries);
    if (!Number.isFinite(seed))
      throw new ConfigError(`EpisodeSampler: seed must be a finite number, got ${seed}`);
    if (data.rank === 0 || data.shape[0] !== labels.length) {
      throw new ShapeError(
        `EpisodeSampler: data must be [N, ...] with N = labels.length (${labels.length}), got ${formatShape(data.shape)}`,
      );
    }
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i] as number;
      if (!Number.isInteger(y))
        throw new DataError(`EpisodeSampler: labels[${i}] must be an integer class id, got ${y}`);
      const list = byClass.get(y) ?? [];
      list.push(i);
      byClass.set(y, list);
    }
    const pool = options.classes !== undefined ? [...options.classes] : [...byClass.keys()];
    pool.sort((a, b) => a - b);
    for (const c of pool) {
      const count = byClass.get(c)?.length ?? 0;
      if (count < shots + queries) {
        throw new DataError(
          `EpisodeSampler: class ${c} has ${count} examples, fewer than shots + queries = ${shots} + ${queries} = ${shots + queries}`,
        );
      }
    }
    if (pool.length < ways)
      throw new DataError(
        `EpisodeSampler: ways (${ways}) must be ≤ the number of classes to draw from (${pool.length})`,
      );
    this.ways = ways;
    this.shots = shots;
    this.queries = queries;
    this.seed = seed;
    this.classes = pool;
    this.data = data;
    this.byClass = byClass;
  }

  /** The rows of episode `index` (no tensors): class ids, support rows and query rows. */
  indices(index: number): { classIds: number[]; supportIndices: number[]; queryIndices: number[] } {
    if (!Number.isInteger(index) || index < 0)
      throw new ConfigError(`EpisodeSampler.indices: index must be an integer ≥ 0, got ${index}`);
    const rng = deriveRng(this.seed, index);
    const classIds = rng.shuffle(this.classes.slice()).slice(0, this.ways);
    const supportIndices: number[] = [];
    const queryIndices: number[] = [];
    for (const c of classIds) {
      const rows = (this.byClass.get(c) as number[]).slice();
      // Partial Fisher–Yates: only the first K + Q positions are needed.
      for (let i = 0; i < this.shots + this.queries; i++) {
        const j = i + rng.int(rows.length - i);
        [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
      }
      supportIndices.push(...rows.slice(0, this.shots));
      queryIndices.push(...rows.slice(this.shots, this.shots + this.queries));
    }
    return { classIds, supportIndices, queryIndices };
  }

  /** Episode `index` (deterministic for the sampler's seed). */
  episode(index: number): Episode {
    const { classIds, supportIndices, queryIndices } = this.indices(index);
    const localLabels = (per: number): Int32Array =>
      Int32Array.from({ length: this.ways * per }, (_, i) => Math.floor(i / per));
    const [support, query, supportLabels, queryLabels] = tf.tidy<
      [tf.Tensor, tf.Tensor, tf.Tensor1D, tf.Tensor1D]
    >(() => [
      tf.gather(this.data, tf.tensor1d(supportIndices, 'int32')), // [N·K, ...]
      tf.gather(this.data, tf.tensor1d(queryIndices, 'int32')), // [N·Q, ...]
      tf.tensor1d(localLabels(this.shots), 'int32'), // [N·K]
      tf.tensor1d(localLabels(this.queries), 'int32'), // [N·Q]
    ]);
    return {
      support,
      query,
      supportLabels,
      queryLabels,
      classIds,
      supportIndices,
      queryIndices,
      dispose: () => tf.dispose([support, query, supportLabels, queryLabels]),
    };
  }

  /** The next episode: 0, 1, 2, … since construction (or since {@link EpisodeSampler.reset}). */
  next(): Episode {
    return this.episode(this.counter++);
  }

  /** Makes {@link EpisodeSampler.next} continue at episode `index` (default 0). */
  reset(index = 0): void {
    if (!Number.isInteger(index) || index < 0)
      throw new ConfigError(`EpisodeSampler.reset: index must be an integer ≥ 0, got ${index}`);
    this.counter = index;
  }
}
