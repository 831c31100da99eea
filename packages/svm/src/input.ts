import { DataError, ShapeError, formatShape } from '@ml/core/plain';
import type * as tf from '@tensorflow/tfjs-core';

/** A row-major matrix: `data[r * shape[1] + c]` is row r, column c. */
export interface MatrixLike {
  readonly data: ArrayLike<number>;
  readonly shape: readonly number[];
}

/** Feature rows the synchronous methods take: `number[][]` or a row-major `{ data, shape: [n, d] }`. */
export type ArrayInput = readonly (readonly number[])[] | MatrixLike;

/** Feature rows the asynchronous methods take: {@link ArrayInput} or a rank-2 tf.Tensor `[n, d]`. */
export type SvmInput = ArrayInput | tf.Tensor;

/** Targets (class labels or regression values), one per row: an array, a typed array or a rank-1 tf.Tensor. */
export type TargetInput = ArrayLike<number> | tf.Tensor;

/** A dense row-major float64 matrix, the one form the solver works on. */
export interface Matrix {
  readonly data: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/** True for anything shaped like a tf.Tensor (checked structurally, so any copy of tfjs-core works). */
export function isTensor(value: unknown): value is tf.Tensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as tf.Tensor).data === 'function' &&
    Array.isArray((value as tf.Tensor).shape) &&
    typeof (value as tf.Tensor).dtype === 'string'
  );
}

function checkFinite(where: string, what: string, data: Float64Array, cols: number): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      const at = cols > 0 ? `row ${Math.floor(i / cols)}, column ${i % cols}` : `index ${i}`;
      throw new DataError(`${where}: ${what} must be finite numbers, got ${v} at ${at}`);
    }
  }
}

/**
 * Copies feature rows into a {@link Matrix}, checking that there is at least one row and one column, that
 * every row has the same length and that every value is finite. `where` names the caller in errors.
 */
export function toMatrix(x: ArrayInput, where: string, what = 'x'): Matrix {
  if (Array.isArray(x)) {
    const rows = x as readonly (readonly number[])[];
    if (rows.length === 0) throw new DataError(`${where}: ${what} must have at least one row, got 0 rows`);
    const first = rows[0];
    if (!Array.isArray(first) && !ArrayBuffer.isView(first))
      throw new ShapeError(
        `${where}: ${what} must be an array of rows (number[][]), got ${typeof first} at row 0`,
      );
    const cols = first.length;
    if (cols === 0)
      throw new DataError(`${where}: ${what} rows must have at least one feature, got 0 columns`);
    const data = new Float64Array(rows.length * cols);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r] as readonly number[];
      if (row === null || typeof row !== 'object' || row.length !== cols) {
        throw new ShapeError(
          `${where}: every row of ${what} must have ${cols} values like row 0, got ${row?.length ?? typeof row} at row ${r}`,
        );
      }
      for (let c = 0; c < cols; c++) data[r * cols + c] = row[c] as number;
    }
    checkFinite(where, what, data, cols);
    return { data, rows: rows.length, cols };
  }
  const m = x as MatrixLike;
  if (m === null || typeof m !== 'object' || m.data === undefined || !Array.isArray(m.shape)) {
    throw new ShapeError(
      `${where}: ${what} must be number[][], { data, shape: [n, d] } or a tf.Tensor, got ${m === null ? 'null' : typeof m}`,
    );
  }
  if (m.shape.length !== 2)
    throw new ShapeError(`${where}: ${what} must have shape [n, d], got ${formatShape(m.shape)}`);
  const [rows, cols] = m.shape as [number, number];
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0)
    throw new ShapeError(
      `${where}: ${what} shape must hold non-negative integers, got ${formatShape(m.shape)}`,
    );
  if (rows === 0)
    throw new DataError(`${where}: ${what} must have at least one row, got shape ${formatShape(m.shape)}`);
  if (cols === 0)
    throw new DataError(
      `${where}: ${what} rows must have at least one feature, got shape ${formatShape(m.shape)}`,
    );
  if (m.data.length !== rows * cols)
    throw new ShapeError(
      `${where}: ${what} data has ${m.data.length} values but shape ${formatShape(m.shape)} needs ${rows * cols}`,
    );
  const data = Float64Array.from(m.data);
  checkFinite(where, what, data, cols);
  return { data, rows, cols };
}

/** Like {@link toMatrix}, also reading a rank-2 tf.Tensor (with `await t.data()`; the tensor is not disposed). */
export async function readMatrix(x: SvmInput, where: string, what = 'x'): Promise<Matrix> {
  if (!isTensor(x)) return toMatrix(x, where, what);
  if (x.shape.length !== 2)
    throw new ShapeError(`${where}: ${what} tensor must have shape [n, d], got ${formatShape(x.shape)}`);
  return toMatrix({ data: await x.data(), shape: x.shape }, where, what);
}

/** Copies targets into a Float64Array of length `rows`, checking the length and that every value is finite. */
export function toTargets(y: ArrayLike<number>, rows: number, where: string): Float64Array {
  if (y === null || typeof y !== 'object' || typeof y.length !== 'number')
    throw new ShapeError(
      `${where}: y must be an array of ${rows} numbers, got ${y === null ? 'null' : typeof y}`,
    );
  if (y.length !== rows)
    throw new ShapeError(`${where}: y must have one value per row of x (${rows}), got ${y.length}`);
  const out = Float64Array.from(y);
  checkFinite(where, 'y', out, 0);
  return out;
}

/** Like {@link toTargets}, also reading a tf.Tensor of shape [n] or [n, 1]. */
export async function readTargets(y: TargetInput, rows: number, where: string): Promise<Float64Array> {
  if (!isTensor(y)) return toTargets(y, rows, where);
  if (!(y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1)))
    throw new ShapeError(`${where}: y tensor must have shape [${rows}], got ${formatShape(y.shape)}`);
  return toTargets(await y.data(), rows, where);
}
