import * as tf from '@tensorflow/tfjs-core';

import { DataError, ShapeError, checkPositiveInt, formatShape } from '@ml/core';

/**
 * One-hot encodes class ids: labels int32 [N] (any integer dtype of ids) → float32 [N, numClasses].
 * Unlike `tf.oneHot`, an id outside [0, numClasses) is a DataError (it would silently become a zero
 * row), which is why this reads the labels and is async.
 */
export async function oneHot(labels: tf.Tensor, numClasses: number): Promise<tf.Tensor2D> {
  checkPositiveInt('oneHot', 'numClasses', numClasses);
  if (labels.rank !== 1) throw new ShapeError(`oneHot: labels must be [N], got ${formatShape(labels.shape)}`);
  const values = await labels.data();
  for (let i = 0; i < values.length; i++) {
    const y = values[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= numClasses)
      throw new DataError(`oneHot: labels[${i}] must be an integer in [0, ${numClasses}), got ${y}`);
  }
  return tf.tidy(
    () => tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, numClasses), 'float32') as tf.Tensor2D,
  ); // [N, C]
}
