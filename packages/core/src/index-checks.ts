import * as tf from '@tensorflow/tfjs-core';

import { DataError, ShapeError, formatShape } from './errors.js';

/** Integer indices (ids, class labels) given as plain JavaScript data instead of a tensor. */
export type PlainIndices =
  | number
  | Int32Array
  | readonly number[]
  | readonly (readonly number[])[]
  | readonly (readonly (readonly number[])[])[];

/** Options of {@link checkIndexValues}. */
export interface IndexCheckOptions {
  /** A value that is allowed even though it lies outside [0, n) (an ignore index). */
  skip?: number;
  /** Appended to the message, e.g. `(numClasses 10)`. */
  context?: string;
}

/**
 * Throws a DataError naming the first of `values` that is not an integer in [0, n), e.g.
 * `crossEntropy: label 12 at flat index 3 is out of range [0, 10) (numClasses 10)`.
 */
export function checkIndexValues(
  where: string,
  what: string,
  values: ArrayLike<number>,
  n: number,
  options: IndexCheckOptions = {},
): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v === options.skip) continue;
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      const context = options.context === undefined ? '' : ` ${options.context}`;
      throw new DataError(`${where}: ${what} ${v} at flat index ${i} is out of range [0, ${n})${context}`);
    }
  }
}

/** Shape and row-major values of a plain (nested) array; throws a ShapeError when it is ragged. */
export function flattenPlain(where: string, value: PlainIndices): { shape: number[]; values: number[] } {
  if (typeof value === 'number') return { shape: [], values: [value] };
  if (value instanceof Int32Array) return { shape: [value.length], values: Array.from(value) };
  const values: number[] = [];
  let shape: number[] | null = null;
  const walk = (v: unknown, dims: number[]): void => {
    if (Array.isArray(v)) {
      for (const item of v) walk(item, [...dims, v.length]);
      if (v.length === 0) record([...dims, 0]);
      return;
    }
    record(dims);
    values.push(v as number);
  };
  const record = (dims: number[]): void => {
    if (shape === null) shape = dims;
    else if (shape.length !== dims.length || shape.some((d, i) => d !== dims[i])) {
      throw new ShapeError(
        `${where}: a nested array must be rectangular, found rows of shapes ${formatShape(shape)} and ${formatShape(dims)}`,
      );
    }
  };
  walk(value, []);
  return { shape: shape ?? [0], values };
}

/** Checks plain indices with {@link checkIndexValues} and returns them as an int32 tensor. */
export function plainIndicesToTensor(
  where: string,
  what: string,
  value: PlainIndices,
  n: number,
  options: IndexCheckOptions = {},
): tf.Tensor {
  const { shape, values } = flattenPlain(where, value);
  checkIndexValues(where, what, values, n, options);
  return tf.tensor(Int32Array.from(values), shape, 'int32');
}
