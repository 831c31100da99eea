import type * as tf from '@tensorflow/tfjs-core';

import { collectTensors } from '@ml/core';

/** The leading dimension of the first tensor found in `value`, or null when there is none. */
export function leadingDim(value: unknown): number | null {
  for (const t of collectTensors(value)) if (t.rank > 0) return t.shape[0];
  return null;
}

/** Reads a scalar (or the first element of a tensor) without blocking the thread. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  const data = await t.data();
  return Number(data[0]);
}
