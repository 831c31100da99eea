import * as tf from '@tensorflow/tfjs-core';

/** Every tensor inside `value` (a tensor, or arrays/plain objects of them, any depth). */
export function tensorsIn(value: unknown, out: Set<tf.Tensor> = new Set()): Set<tf.Tensor> {
  if (value instanceof tf.Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) tensorsIn(v, out);
  else if (isPlainObject(value)) for (const v of Object.values(value)) tensorsIn(v, out);
  return out;
}

/** Disposes every tensor in `value` that is not also in `keep`. */
export function disposeExcept(value: unknown, keep: unknown): void {
  const kept = tensorsIn(keep);
  for (const t of tensorsIn(value)) if (!kept.has(t) && !t.isDisposed) t.dispose();
}

/** Disposes every tensor inside `value`. */
export function disposeAll(value: unknown): void {
  for (const t of tensorsIn(value)) if (!t.isDisposed) t.dispose();
}

/** True for `{}`-style objects (not class instances such as tensors or typed arrays). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Product of a shape's dims. */
export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
