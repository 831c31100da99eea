import * as tf from '@tensorflow/tfjs-core';

// tfjs-core's CommonJS bundle (what plain Node loads) does not attach the chained ops (`t.add(b)`,
// `t.reshape(s)`, …) to Tensor; its ESM build does so only through files plain Node cannot import. These
// are the same methods, defined as tfjs defines them, for the ops whose method is `op(this, ...args)`.
const FORWARDED = `abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh avgPool batchToSpaceND
batchNorm broadcastTo cast ceil clipByValue conv1d conv2d conv2dTranspose cos cosh cumprod cumsum depthToSpace
depthwiseConv2d dilation2d div divNoNan dot elu equal erf euclideanNorm exp expandDims expm1 fft floor floorDiv
gather greater greaterEqual ifft irfft isFinite isInf isNaN leakyRelu less lessEqual localResponseNormalization
log log1p logSigmoid logSoftmax logSumExp logicalAnd logicalNot logicalOr logicalXor matMul max maxPool maximum
mean min minimum mirrorPad mod mul neg norm notEqual oneHot onesLike pad pool pow prelu prod reciprocal relu relu6
reshape resizeBilinear resizeNearestNeighbor reverse rfft round rsqrt selu separableConv2d sigmoid sign sin sinh
slice softmax softplus spaceToBatchND split sqrt square squaredDifference squeeze step stridedSlice sub sum tan
tanh tile topk transpose unique unsortedSegmentSum unstack zerosLike`.split(/\s+/);

type AnyFn = (...args: unknown[]) => unknown;

/** Attaches tfjs' chained ops to Tensor.prototype where the loaded tfjs-core build lacks them. */
export function registerChainedOps(): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, AnyFn>;
  const define = (name: string, fn: (this: tf.Tensor, ...args: unknown[]) => unknown) => {
    if (typeof proto[name] === 'function') return;
    proto[name] = function (this: tf.Tensor, ...args: unknown[]) {
      this.throwIfDisposed();
      return fn.apply(this, args);
    };
  };
  for (const name of FORWARDED) {
    const op = ops[name];
    if (typeof op === 'function')
      define(name, function (...args) {
        return op(this, ...args);
      });
  }
  const reshape = (t: tf.Tensor, shape: number[]) => tf.reshape(t, shape);
  define('as1D', function () {
    return reshape(this, [this.size]);
  });
  define('flatten', function () {
    return reshape(this, [this.size]);
  });
  define('as2D', function (...s) {
    return reshape(this, s as number[]);
  });
  define('as3D', function (...s) {
    return reshape(this, s as number[]);
  });
  define('as4D', function (...s) {
    return reshape(this, s as number[]);
  });
  define('as5D', function (...s) {
    return reshape(this, s as number[]);
  });
  define('asScalar', function () {
    return reshape(this, []);
  });
  define('reshapeAs', function (x) {
    return reshape(this, (x as tf.Tensor).shape);
  });
  define('asType', function (dtype) {
    return tf.cast(this, dtype as tf.DataType);
  });
  define('toBool', function () {
    return tf.cast(this, 'bool');
  });
  define('toFloat', function () {
    return tf.cast(this, 'float32');
  });
  define('toInt', function () {
    return tf.cast(this, 'int32');
  });
  define('concat', function (x, axis) {
    return tf.concat(
      [this, ...(Array.isArray(x) ? (x as tf.Tensor[]) : [x as tf.Tensor])],
      axis as number | undefined,
    );
  });
  define('stack', function (x, axis) {
    return tf.stack(
      [this, ...(Array.isArray(x) ? (x as tf.Tensor[]) : [x as tf.Tensor])],
      axis as number | undefined,
    );
  });
  define('where', function (condition, x) {
    return tf.where(condition as tf.Tensor, this, x as tf.Tensor);
  });
}
