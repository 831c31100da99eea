import * as tf from '@tensorflow/tfjs-core';

import { DataError, describe, isPlainObject, isTensor } from '@ml/core';

/** Typed arrays the default collate stacks into tensors. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array;

/**
 * The batch type {@link defaultCollate} builds from items of type T: tensors stack to one tensor
 * [B, …]; numbers to a [B] tensor; typed arrays to [B, L]; strings to `string[]`; arrays (tuples)
 * and plain objects are collated position by position / key by key.
 */
export type Collated<T> = T extends tf.Tensor
  ? tf.Tensor
  : T extends number
    ? tf.Tensor1D
    : T extends NumericArray
      ? tf.Tensor2D
      : T extends string
        ? string[]
        : T extends boolean
          ? tf.Tensor1D
          : T extends readonly unknown[]
            ? { -readonly [K in keyof T]: Collated<T[K]> }
            : T extends object
              ? { [K in keyof T]: Collated<T[K]> }
              : never;

function dtypeOfArray(a: NumericArray): 'float32' | 'int32' {
  return a instanceof Float32Array || a instanceof Float64Array ? 'float32' : 'int32';
}

function collateAt(items: readonly unknown[], path: string): unknown {
  const first = items[0];
  const mismatch = (i: number, what: string): DataError =>
    new DataError(`defaultCollate: item ${i}${path} must be ${what} like item 0, got ${describe(items[i])}`);
  if (isTensor(first)) {
    items.forEach((t, i) => {
      if (
        !isTensor(t) ||
        t.dtype !== first.dtype ||
        t.shape.length !== first.shape.length ||
        t.shape.some((d: number, k: number) => d !== first.shape[k])
      ) {
        throw mismatch(i, describe(first));
      }
    });
    return tf.stack(items as tf.Tensor[]); // [B, ...item shape]
  }
  if (typeof first === 'number' || typeof first === 'boolean') {
    const values = items.map((v, i) => {
      if (typeof v !== typeof first) throw mismatch(i, `a ${typeof first}`);
      return Number(v);
    });
    // JavaScript has one number type: integral values become int32 (class ids), others float32.
    const integral =
      typeof first === 'boolean' || values.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31);
    return tf.tensor1d(values, integral ? 'int32' : 'float32'); // [B]
  }
  if (ArrayBuffer.isView(first)) {
    const a0 = first as NumericArray;
    const out = new (dtypeOfArray(a0) === 'float32' ? Float32Array : Int32Array)(items.length * a0.length);
    items.forEach((a, i) => {
      if (
        !ArrayBuffer.isView(a) ||
        (a as NumericArray).length !== a0.length ||
        dtypeOfArray(a as NumericArray) !== dtypeOfArray(a0)
      ) {
        throw mismatch(i, `a ${a0.constructor.name} of length ${a0.length}`);
      }
      out.set(a as NumericArray, i * a0.length);
    });
    return tf.tensor2d(out, [items.length, a0.length], dtypeOfArray(a0)); // [B, L]
  }
  if (typeof first === 'string') {
    items.forEach((v, i) => {
      if (typeof v !== 'string') throw mismatch(i, 'a string');
    });
    return items.slice();
  }
  if (Array.isArray(first)) {
    items.forEach((v, i) => {
      if (!Array.isArray(v) || v.length !== first.length)
        throw mismatch(i, `an array of length ${first.length}`);
    });
    return first.map((_, k) =>
      collateAt(
        items.map((v) => (v as unknown[])[k]),
        `${path}[${k}]`,
      ),
    );
  }
  if (isPlainObject(first)) {
    const keys = Object.keys(first);
    const out: Record<string, unknown> = {};
    items.forEach((v, i) => {
      if (!isPlainObject(v) || keys.some((k) => !(k in v)))
        throw mismatch(i, `an object with keys ${keys.join(', ')}`);
    });
    for (const k of keys)
      out[k] = collateAt(
        items.map((v) => (v as Record<string, unknown>)[k]),
        `${path}.${k}`,
      );
    return out;
  }
  throw new DataError(
    `defaultCollate: item 0${path} is ${describe(first)}; expected a tensor, number, boolean, typed array, string, array or plain object`,
  );
}

/**
 * Stacks a list of items into one batch, like PyTorch's `default_collate`: tensors [...] → [B, ...]
 * (same dtype); numbers → [B] (int32 when all are integers, else float32); booleans → int32 [B];
 * typed arrays of length L → [B, L] (float32 for Float32/64Array, int32 otherwise); strings →
 * `string[]`; arrays and plain objects are collated element-wise. The returned tensors are new and
 * owned by the caller; the items are left untouched (the {@link DataLoader} disposes them).
 */
export function defaultCollate<T>(items: readonly T[]): Collated<T> {
  if (items.length === 0) throw new DataError('defaultCollate: needs at least one item, got 0');
  return tf.tidy(() => collateAt(items, '') as tf.TensorContainer) as Collated<T>;
}
