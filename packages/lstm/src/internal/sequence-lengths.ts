import * as tf from '@tensorflow/tfjs-core';

import { DataError, ShapeError, formatShape } from '@ml/core';

/** Lengths as plain numbers, from `lengths` or a [B, T] padding mask (true = padding); null = all full. */
export function resolveLengths(
  where: string,
  lengths: ArrayLike<number> | tf.Tensor | undefined,
  paddingMask: tf.Tensor | undefined,
  batch: number,
  steps: number,
): number[] | null {
  if (lengths !== undefined && paddingMask !== undefined)
    throw new DataError(`${where}: pass lengths or paddingMask, not both`);
  let values: number[];
  if (paddingMask !== undefined) {
    if (paddingMask.rank !== 2 || paddingMask.shape[0] !== batch || paddingMask.shape[1] !== steps)
      throw new ShapeError(
        `${where}: paddingMask must be [B, T] = [${batch}, ${steps}], got ${formatShape(paddingMask.shape)}`,
      );
    // Validation needs the values on the host; pass plain `lengths` to avoid this read.
    const m = paddingMask.dataSync();
    values = [];
    for (let b = 0; b < batch; b++) {
      let len = steps;
      for (let t = 0; t < steps; t++) {
        const pad = m[b * steps + t] !== 0;
        if (pad && len === steps) len = t;
        if (!pad && len !== steps)
          throw new DataError(
            `${where}: paddingMask row ${b} must pad only at the end (true after the last false), but step ${t} follows padding`,
          );
      }
      values.push(len);
    }
  } else if (lengths !== undefined) {
    if (lengths instanceof tf.Tensor) {
      if (lengths.rank !== 1 || lengths.shape[0] !== batch)
        throw new ShapeError(`${where}: lengths must be [B] = [${batch}], got ${formatShape(lengths.shape)}`);
      values = Array.from(lengths.dataSync());
    } else {
      if (lengths.length !== batch)
        throw new ShapeError(`${where}: lengths must have B = ${batch} entries, got ${lengths.length}`);
      values = Array.from(lengths);
    }
  } else {
    return null;
  }
  values.forEach((len, b) => {
    if (!Number.isInteger(len) || len < 1 || len > steps)
      throw new DataError(
        `${where}: lengths[${b}] must be an integer in [1, T = ${steps}] (the input has ${steps} steps), got ${len}`,
      );
  });
  return values.every((len) => len === steps) ? null : values;
}

/** Tensors derived from per-sequence lengths, laid out time-major ([T, B, …]). Caller disposes. */
export interface LengthTensors {
  /** int32 [T·B]: row t·B + b reads row src·B + b, src = len_b − 1 − t inside the sequence, t past it. */
  reverseIndex: tf.Tensor1D;
  /** float32 [T, B, 1]: 1 where t < len_b. */
  validMask: tf.Tensor3D;
  /** float32 [T, B, 1]: 1 at t = len_b − 1 (where the final state is read). */
  lastStep: tf.Tensor3D;
}

/** Builds {@link LengthTensors} for `lengths` over `steps` steps. */
export function lengthTensors(lengths: readonly number[], steps: number): LengthTensors {
  const batch = lengths.length;
  const rev = new Int32Array(steps * batch);
  const valid = new Float32Array(steps * batch);
  const last = new Float32Array(steps * batch);
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const len = lengths[b] as number;
      const src = t < len ? len - 1 - t : t;
      rev[t * batch + b] = src * batch + b;
      valid[t * batch + b] = t < len ? 1 : 0;
      last[t * batch + b] = t === len - 1 ? 1 : 0;
    }
  }
  return {
    reverseIndex: tf.tensor1d(rev, 'int32'),
    validMask: tf.tensor3d(valid, [steps, batch, 1]),
    lastStep: tf.tensor3d(last, [steps, batch, 1]),
  };
}
