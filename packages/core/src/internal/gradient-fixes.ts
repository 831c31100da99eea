import * as tf from '@tensorflow/tfjs-core';

// Replacing a registered gradient makes tfjs warn on the console; libraries must not print.
function replaceGradient(config: tf.GradConfig): void {
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(config);
  } finally {
    console.warn = warn;
  }
}

/**
 * BatchMatMul's stock gradient multiplies with transposeA/transposeB flags, which the wasm backend
 * runs 10–40× slower than a plain product. Transposing explicitly gives identical gradients.
 */
function matMulGradient(): tf.GradConfig {
  return {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const g = dy as tf.Tensor;
      const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y);
      const t = transposeLast2;
      // Each branch is d(A·B) written with explicit transposes; sumToShape sums broadcast batch dims.
      let da: () => tf.Tensor;
      let db: () => tf.Tensor;
      if (!transposeA && !transposeB) {
        da = () => mm(g, t(b));
        db = () => mm(t(a), g);
      } else if (!transposeA && transposeB) {
        da = () => mm(g, b);
        db = () => mm(t(g), a);
      } else if (transposeA && !transposeB) {
        da = () => mm(b, t(g));
        db = () => mm(a, g);
      } else {
        da = () => mm(t(b), t(g));
        db = () => mm(t(g), t(a));
      }
      return { a: () => sumToShape(da(), a.shape), b: () => sumToShape(db(), b.shape) };
    },
  };
}

/** Swaps the last two axes: [..., m, n] → [..., n, m]. */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const perm = [...Array(x.rank).keys()];
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm);
}

/**
 * SquaredDifference's stock gradient ignores broadcasting (an `a` of [B, D] minus a `b` of [D] gets a
 * [B, D] gradient for `b`). This one reduces each gradient to its input's shape.
 */
function squaredDifferenceGradient(): tf.GradConfig {
  return {
    kernelName: 'SquaredDifference',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as [tf.Tensor, tf.Tensor];
      const two = tf.scalar(2);
      const grad = () => tf.mul(dy as tf.Tensor, tf.mul(two, tf.sub(a, b)));
      return {
        a: () => sumToShape(grad(), a.shape),
        b: () => sumToShape(tf.neg(grad()), b.shape),
      };
    },
  };
}

/** Sums `grad` over the axes along which an input of `shape` was broadcast. */
export function sumToShape(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(tf.sum(grad, axes), shape);
}

let installed = false;

/** Registers @ml's gradient replacements once; safe to call many times. */
export function installGradientFixes(): void {
  if (installed) return;
  installed = true;
  replaceGradient(matMulGradient());
  replaceGradient(squaredDifferenceGradient());
}
