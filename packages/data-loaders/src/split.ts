import { ConfigError, Rng } from '@ml/core';

import { Dataset, type DatasetLike } from './dataset.js';

/** Options of {@link splitIndices} and {@link randomSplit}. */
export interface SplitOptions {
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Shuffle before cutting (default true); false cuts the data in order (e.g. time series). */
  shuffle?: boolean;
  /**
   * Per-item class labels (length N): every split then holds each class in (nearly) the proportion of
   * the whole set, within one item per class and split.
   */
  stratify?: ArrayLike<number>;
}

/** Defaults of {@link SplitOptions}. */
export const DEFAULT_SPLIT_OPTIONS = { seed: 0, shuffle: true } as const;

/**
 * Turns `sizes` into item counts for `n` items, like `torch.utils.data.random_split`: fractions that
 * sum to 1 become ⌊f·n⌋ each with the remainder handed out one by one from the first split; otherwise
 * `sizes` are counts that must sum to n.
 */
export function splitCounts(n: number, sizes: readonly number[], where = 'splitCounts'): number[] {
  if (sizes.length === 0) throw new ConfigError(`${where}: sizes must not be empty`);
  sizes.forEach((s, i) => {
    if (!Number.isFinite(s) || s < 0)
      throw new ConfigError(`${where}: sizes[${i}] must be a finite number ≥ 0, got ${s}`);
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  if (Math.abs(total - 1) < 1e-6 && sizes.every((s) => s <= 1)) {
    const counts = sizes.map((f) => Math.floor(f * n));
    let rest = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i] = (counts[i] as number) + 1;
    return counts;
  }
  if (sizes.some((s) => !Number.isInteger(s)) || total !== n) {
    throw new ConfigError(
      `${where}: sizes must be fractions summing to 1 or integer counts summing to the dataset length (${n}), got [${sizes.join(', ')}] (sum ${total})`,
    );
  }
  return sizes.slice();
}

/**
 * Splits the indices 0..n−1 into groups of the given sizes (fractions summing to 1, or counts summing
 * to n), seeded; with `stratify`, each group keeps the class proportions of the whole.
 */
export function splitIndices(n: number, sizes: readonly number[], options: SplitOptions = {}): number[][] {
  const { seed, shuffle } = { ...DEFAULT_SPLIT_OPTIONS, ...options };
  if (!Number.isInteger(n) || n < 0)
    throw new ConfigError(`splitIndices: n must be an integer ≥ 0, got ${n}`);
  const counts = splitCounts(n, sizes, 'splitIndices');
  const rng = new Rng(seed);
  let order: number[];
  if (options.stratify !== undefined) {
    const labels = options.stratify;
    if (labels.length !== n)
      throw new ConfigError(
        `splitIndices: stratify must have one label per item (${n}), got ${labels.length}`,
      );
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const y = labels[i] as number;
      if (!Number.isFinite(y))
        throw new ConfigError(`splitIndices: stratify[${i}] must be a finite number, got ${y}`);
      const list = byClass.get(y) ?? [];
      list.push(i);
      byClass.set(y, list);
    }
    // Spread each class evenly over [0, 1) and sort: every prefix (hence every cut) then holds each
    // class in proportion, give or take one item.
    const keyed: { index: number; key: number }[] = [];
    for (const list of byClass.values()) {
      if (shuffle) rng.shuffle(list);
      const offset = shuffle ? rng.random() : 0.5;
      list.forEach((index, rank) => keyed.push({ index, key: (rank + offset) / list.length }));
    }
    keyed.sort((a, b) => a.key - b.key || a.index - b.index);
    order = keyed.map((k) => k.index);
  } else {
    order = shuffle ? rng.permutation(n) : Array.from({ length: n }, (_, i) => i);
  }
  const groups: number[][] = [];
  let start = 0;
  for (const c of counts) {
    const group = order.slice(start, start + c);
    // Stratified groups come out class-interleaved; shuffle so that batches don't cycle through classes.
    if (shuffle && options.stratify !== undefined) rng.shuffle(group);
    groups.push(group);
    start += c;
  }
  return groups;
}

/**
 * Splits a dataset into lazy subsets (train/val/test…) of the given sizes: fractions summing to 1
 * (`[0.8, 0.1, 0.1]`) or counts summing to its length (`[120, 15, 15]`); seeded, optionally stratified
 * by `options.stratify` labels.
 */
export function randomSplit<T>(
  dataset: DatasetLike<T>,
  sizes: readonly number[],
  options: SplitOptions = {},
): Dataset<T>[] {
  const ds = Dataset.from(dataset);
  return splitIndices(ds.length, sizes, options).map((idx) => ds.subset(idx));
}
