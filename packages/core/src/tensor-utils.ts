import * as tf from '@tensorflow/tfjs-core';

import { formatShape } from './errors.js';

// The one home of the small helpers that walk containers of tensors (batches, step outputs) and
// describe values in error messages. Used by @ml/runner, @ml/data-loaders and @ml/seq2seq.

/** True for `{}`-style objects (not class instances such as tensors, arrays or typed arrays). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** True when two shapes have the same rank and dims. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** True for a tf.Tensor (typed `tf.Tensor`, where `instanceof` narrows to `Tensor<any>`). */
export function isTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor;
}

/** Every tf.Tensor inside `value` (a tensor, or arrays and plain objects of them, any depth), each once. */
export function collectTensors(value: unknown, out: Set<tf.Tensor> = new Set()): Set<tf.Tensor> {
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out);
  else if (isPlainObject(value)) for (const v of Object.values(value)) collectTensors(v, out);
  return out;
}

/** Disposes every tensor inside `value` that is not also inside `keep`; already-disposed ones are skipped. */
export function disposeAll(value: unknown, keep?: unknown): void {
  const kept = keep === undefined ? null : collectTensors(keep);
  for (const t of collectTensors(value)) if (!t.isDisposed && !kept?.has(t)) t.dispose();
}

/**
 * Describes a value for an error message: `a float32 tensor [8, 4]`, `a Float32Array of length 3`,
 * `an array of length 2`, `an object with keys x, y`, `the string 'a'`, `null`, `42`, `a Map`.
 */
export function describe(value: unknown): string {
  if (isTensor(value)) return `a ${value.dtype} tensor ${formatShape(value.shape)}`;
  if (ArrayBuffer.isView(value)) {
    const length = (value as { length?: number }).length;
    return `a ${value.constructor.name}${length === undefined ? '' : ` of length ${length}`}`;
  }
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (isPlainObject(value)) return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`;
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'function') return 'a function';
  if (value !== null && typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return String(value);
}
