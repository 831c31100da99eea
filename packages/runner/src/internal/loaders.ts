import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, describe, formatShape, isPlainObject } from '@ml/core';

import type { Loader, TensorData } from '../runner-types.js';

/** True for sync and async iterables (what a loader must be). */
export function isIterable<B>(v: unknown): v is Loader<B> {
  return (
    v != null &&
    (typeof (v as AsyncIterable<B>)[Symbol.asyncIterator] === 'function' ||
      typeof (v as Iterable<B>)[Symbol.iterator] === 'function')
  );
}

/** Throws a ConfigError unless `loader` is a sync or async iterable. */
export function checkLoader(where: string, name: string, loader: unknown): void {
  if (!isIterable(loader))
    throw new ConfigError(
      `${where}: ${name} must be an iterable or async iterable of batches (e.g. a DataLoader), got ${describe(loader)}`,
    );
}

/** Batches per epoch when the loader has an integer `length`, else null. */
export function loaderLength(loader: Loader<unknown>): number | null {
  return typeof loader.length === 'number' && Number.isInteger(loader.length) ? loader.length : null;
}

/** One pass over the loader for epoch `epoch`, asking for that epoch explicitly when it can. */
export function epochOf<B>(loader: Loader<B>, epoch: number): AsyncIterable<B> | Iterable<B> {
  if (typeof loader.epoch === 'function') return loader.epoch(epoch);
  if (typeof loader.setEpoch === 'function') loader.setEpoch(epoch);
  return loader;
}

/** `input` sliced along its first axis into tensors of at most `size` rows (each new, for the caller to free). */
export function* rowBatches(input: tf.Tensor, size: number): Generator<tf.Tensor> {
  const n = input.shape[0];
  for (let i = 0; i < n; i += size) yield tf.slice(input, i, Math.min(size, n - i)); // [rows, ...]
}

/**
 * `data` as a loader: a loader as it is, whole `{ x, y }` tensors as `[x, y]` batches of `size` rows
 * (a ConfigError when their first dimensions differ or the data is neither).
 */
export function asLoader(where: string, data: unknown, size: number): Loader<unknown> {
  if (isIterable(data)) return data;
  if (isPlainObject(data) && data.x instanceof tf.Tensor && data.y instanceof tf.Tensor) {
    const { x, y } = data as Record<string, unknown> & TensorData;
    if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0])
      throw new ConfigError(
        `${where}: x and y must share their first dimension, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`,
      );
    return {
      *[Symbol.iterator]() {
        const ys = rowBatches(y, size);
        for (const xb of rowBatches(x, size)) yield [xb, ys.next().value as tf.Tensor]; // [rows, ...]
      },
    };
  }
  throw new ConfigError(
    `${where}: data must be a loader (iterable of batches) or { x, y } tensors, got ${describe(data)}`,
  );
}
