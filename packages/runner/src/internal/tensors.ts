import * as tf from '@tensorflow/tfjs-core';

/** Every tf.Tensor inside `value` (arrays and plain objects, any depth), each once. */
export function collectTensors(value: unknown, out: Set<tf.Tensor> = new Set()): Set<tf.Tensor> {
  if (value instanceof tf.Tensor) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out);
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out);
  }
  return out;
}

/** Disposes every tensor inside `value` (a batch the runner owns); already-disposed ones are skipped. */
export function disposeAll(value: unknown): void {
  for (const t of collectTensors(value)) if (!t.isDisposed) t.dispose();
}

/** The leading dimension of the first tensor found in `value`, or null when there is none. */
export function leadingDim(value: unknown): number | null {
  for (const t of collectTensors(value)) if (t.rank > 0) return t.shape[0] as number;
  return null;
}

/** Reads a scalar (or the first element of a tensor) without blocking the thread. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  const data = await t.data();
  return Number(data[0]);
}
