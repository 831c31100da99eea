import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, ShapeError, formatShape } from '@ml/core';

/** Throws a CheckpointError unless `state` holds `length` finite-or-NaN numbers. */
export function checkState(where: string, state: readonly number[], length: number): void {
  if (!Array.isArray(state) || state.length !== length || state.some((v) => typeof v !== 'number')) {
    throw new CheckpointError(
      `${where}.setState: state must be ${length} numbers, got ${JSON.stringify(state)}`,
    );
  }
}

/**
 * `target` reshaped to `output`'s shape when both hold the same number of elements ([N] vs [N, 1]);
 * a ShapeError otherwise. The result is a new tensor the caller disposes (or `target` itself).
 */
export function alignTarget(where: string, output: tf.Tensor, target: tf.Tensor): tf.Tensor {
  if (output.size !== target.size) {
    throw new ShapeError(
      `${where}: target must have the output's shape ${formatShape(output.shape)}, got ${formatShape(target.shape)}`,
    );
  }
  const same = output.rank === target.rank && output.shape.every((d, i) => d === target.shape[i]);
  const t = same ? target : tf.reshape(target, output.shape);
  return t.dtype === 'float32' ? t : tf.cast(t, 'float32');
}

/** Reads several tensors with `data()` and disposes them. */
export async function readAndDispose(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  try {
    const out: Float32Array[] = [];
    for (const t of tensors) out.push(Float32Array.from(await t.data()));
    return out;
  } finally {
    tf.dispose(tensors);
  }
}
