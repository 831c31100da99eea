import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, checkPositiveInt, formatShape } from '@ml/core';

/** Checks a cell's input [B, inputSize]; returns B. */
export function checkCellInput(where: string, x: tf.Tensor, inputSize: number): number {
  if (x.rank !== 2 || x.shape[1] !== inputSize)
    throw new ShapeError(
      `${where}: input must be [B, inputSize] = [B, ${inputSize}], got ${formatShape(x.shape)}`,
    );
  return x.shape[0];
}

/** Checks a cell state [B, H]. */
export function checkCellState(
  where: string,
  name: string,
  s: tf.Tensor,
  batch: number,
  hidden: number,
): void {
  if (s.rank !== 2 || s.shape[0] !== batch || s.shape[1] !== hidden)
    throw new ShapeError(
      `${where}: ${name} must be [B, H] = [${batch}, ${hidden}], got ${formatShape(s.shape)}`,
    );
}

/** Checks the sizes every cell takes. */
export function checkCellSizes(where: string, inputSize: number, hiddenSize: number): void {
  checkPositiveInt(where, 'inputSize', inputSize);
  checkPositiveInt(where, 'hiddenSize', hiddenSize);
}

/** U(±1/√H) of `shape`, PyTorch's init for every recurrent weight and bias. */
export function recurrentInit(
  draw: (n: number, lo: number, hi: number) => Float32Array,
  shape: number[],
  hidden: number,
): tf.Tensor {
  const bound = 1 / Math.sqrt(hidden);
  return tf.tensor(
    draw(
      shape.reduce((a, b) => a * b, 1),
      -bound,
      bound,
    ),
    shape,
  );
}
