import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

/**
 * What a {@link DataLoader} needs from a data source: a `length` and a `get(i)` returning a value the
 * caller owns (tensors returned by `get` are disposed by whoever called it). `getBatch`, when present,
 * is a fast path that builds a whole batch at once (e.g. one `tf.gather`) instead of `get` + collate.
 */
export interface DatasetLike<T> {
  readonly length: number;
  get(index: number): T;
  /** Optional fast path: the collated batch of `indices`, as the default collate would build it. */
  getBatch?(indices: readonly number[]): unknown;
}

/** Throws a ConfigError unless `index` is an integer in [0, length). */
export function checkIndex(where: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ConfigError(`${where}: index must be an integer in [0, ${length}), got ${index}`);
  }
}

/**
 * A map-style dataset, like `torch.utils.data.Dataset`: subclasses give `length` and `get(i)`.
 * `map`, `subset` and `concat` build lazy views; nothing is copied.
 *
 * `new ArrayDataset([1, 2, 3]).map((x) => x * 2).subset([2, 0])` has length 2 and items 6, 2.
 */
export abstract class Dataset<T> implements DatasetLike<T> {
  /** Number of items. */
  abstract get length(): number;

  /** Item `index` (0 ≤ index < length); tensors in it belong to the caller. */
  abstract get(index: number): T;

  /** Wraps any `{ length, get }` object as a {@link Dataset}. */
  static from<T>(source: DatasetLike<T>): Dataset<T> {
    return source instanceof Dataset ? (source as Dataset<T>) : new WrappedDataset(source);
  }

  /** A lazy view whose item i is `fn(this.get(i), i)`; `fn` owns (and must dispose) tensors it drops. */
  map<U>(fn: (item: T, index: number) => U): Dataset<U> {
    return new MappedDataset(this, fn);
  }

  /** The items at `indices`, in that order (repeats allowed). */
  subset(indices: readonly number[]): Dataset<T> {
    return new SubsetDataset<T>(this, indices);
  }

  /** This dataset followed by `others`: `a.concat(b)` has length a.length + b.length. */
  concat(...others: DatasetLike<T>[]): Dataset<T> {
    return new ConcatDataset<T>([this, ...others]);
  }

  /** Iterates the items in order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
}

class WrappedDataset<T> extends Dataset<T> {
  readonly getBatch?: (indices: readonly number[]) => unknown;

  constructor(private readonly source: DatasetLike<T>) {
    super();
    if (source.getBatch !== undefined) this.getBatch = source.getBatch.bind(source);
  }

  get length(): number {
    return this.source.length;
  }

  get(index: number): T {
    return this.source.get(index);
  }
}

class MappedDataset<T, U> extends Dataset<U> {
  constructor(
    private readonly source: DatasetLike<T>,
    private readonly fn: (item: T, index: number) => U,
  ) {
    super();
  }

  get length(): number {
    return this.source.length;
  }

  get(index: number): U {
    checkIndex('Dataset.map', index, this.length);
    return this.fn(this.source.get(index), index);
  }
}

class SubsetDataset<T> extends Dataset<T> {
  private readonly indices: readonly number[];
  readonly getBatch?: (indices: readonly number[]) => unknown;

  constructor(
    private readonly source: DatasetLike<T>,
    indices: readonly number[],
  ) {
    super();
    indices.forEach((index, k) => {
      if (!Number.isInteger(index) || index < 0 || index >= source.length) {
        throw new ConfigError(
          `Dataset.subset: indices[${k}] must be an integer in [0, ${source.length}), got ${index}`,
        );
      }
    });
    this.indices = indices.slice();
    const batch = source.getBatch?.bind(source);
    if (batch !== undefined)
      this.getBatch = (idx) =>
        batch(
          idx.map((i) => (checkIndex('Dataset.subset', i, this.indices.length), this.indices[i] as number)),
        );
  }

  get length(): number {
    return this.indices.length;
  }

  get(index: number): T {
    checkIndex('Dataset.subset', index, this.length);
    return this.source.get(this.indices[index] as number);
  }
}

class ConcatDataset<T> extends Dataset<T> {
  private readonly offsets: number[] = [];
  private readonly total: number;

  constructor(private readonly parts: readonly DatasetLike<T>[]) {
    super();
    let total = 0;
    for (const p of parts) {
      this.offsets.push(total);
      total += p.length;
    }
    this.total = total;
  }

  get length(): number {
    return this.total;
  }

  get(index: number): T {
    checkIndex('Dataset.concat', index, this.total);
    // Last part whose offset is ≤ index (parts are few; a linear scan is fine).
    let k = this.parts.length - 1;
    while ((this.offsets[k] as number) > index || (this.parts[k] as DatasetLike<T>).length === 0) k--;
    return (this.parts[k] as DatasetLike<T>).get(index - (this.offsets[k] as number));
  }
}

/** A dataset over an in-memory array: item i is `items[i]` (not copied). */
export class ArrayDataset<T> extends Dataset<T> {
  constructor(private readonly items: readonly T[]) {
    super();
  }

  get length(): number {
    return this.items.length;
  }

  get(index: number): T {
    checkIndex('ArrayDataset', index, this.items.length);
    return this.items[index] as T;
  }
}

/**
 * A dataset over tensors that share their first dimension N, like `torch.utils.data.TensorDataset`:
 * item i is `[t0[i], t1[i], …]` (fresh tensors the caller owns), and a {@link DataLoader} batch of
 * indices is `[gather(t0, idx), gather(t1, idx), …]` ([B, …] each, same dtypes), built in one op per
 * tensor. The dataset keeps references to the tensors; the caller still owns them (or calls `dispose`).
 *
 * `new TensorDataset([images, labels])` with images [N, 28, 28, 1] and labels [N] gives items
 * `[image [28, 28, 1], label []]` and batches `[images [B, 28, 28, 1], labels [B]]`.
 */
export class TensorDataset extends Dataset<tf.Tensor[]> {
  readonly tensors: readonly tf.Tensor[];

  constructor(tensors: readonly tf.Tensor[]) {
    super();
    if (tensors.length === 0) throw new ConfigError('TensorDataset: needs at least one tensor, got none');
    const n = (tensors[0] as tf.Tensor).shape[0];
    tensors.forEach((t, k) => {
      if (t.rank === 0 || t.shape[0] !== n) {
        throw new ShapeError(
          `TensorDataset: every tensor must have the same first dim (${n ?? 'none'}), tensors[${k}] has shape ${formatShape(t.shape)}`,
        );
      }
    });
    this.tensors = tensors.slice();
  }

  get length(): number {
    return (this.tensors[0] as tf.Tensor).shape[0];
  }

  get(index: number): tf.Tensor[] {
    checkIndex('TensorDataset', index, this.length);
    return this.tensors.map((t) => tf.tidy(() => tf.squeeze(tf.slice(t, [index], [1]), [0]))); // t[index]: [...]
  }

  /** `[gather(t, indices) for each tensor]`: [B, …] each, owned by the caller. */
  getBatch(indices: readonly number[]): tf.Tensor[] {
    indices.forEach((index) => checkIndex('TensorDataset.getBatch', index, this.length));
    return tf.tidy(() => {
      const idx = tf.tensor1d(indices as number[], 'int32'); // [B]
      return this.tensors.map((t) => tf.gather(t, idx)); // [B, ...]
    });
  }

  /** Disposes the underlying tensors. */
  dispose(): void {
    tf.dispose(this.tensors as tf.Tensor[]);
  }
}
