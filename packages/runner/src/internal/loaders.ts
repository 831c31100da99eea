import type { Loader } from '../runner.js';

/** True for sync and async iterables (what a loader must be). */
export function isIterable<B>(v: unknown): v is Loader<B> {
  return (
    v != null &&
    (typeof (v as AsyncIterable<B>)[Symbol.asyncIterator] === 'function' ||
      typeof (v as Iterable<B>)[Symbol.iterator] === 'function')
  );
}

/** Batches per epoch when the loader has an integer `length`, else null. */
export function loaderLength(loader: Loader<unknown>): number | null {
  return typeof loader.length === 'number' && Number.isInteger(loader.length) ? loader.length : null;
}

/** One pass over the loader for epoch `epoch`, asking for that epoch explicitly when it can. */
export function epochOf<B>(loader: Loader<B>, epoch: number): AsyncIterable<B> | Iterable<B> {
  if (typeof loader.epoch === 'function')
    return (loader.epoch as (e: number) => AsyncIterable<B> | Iterable<B>).call(loader, epoch);
  if (typeof loader.setEpoch === 'function') (loader.setEpoch as (e: number) => void).call(loader, epoch);
  return loader;
}
