// @ml's convolutions (patches gathered while the GEMM packs; ../src/internal/kernels/conv-gemm.ts) against
// XNNPACK's (tfjs-wasm's stock Conv2D) on the convolutions one training step of the core bench's CNN
// runs, in the same process on the same operands, one thread: best of several runs each, and the
// largest difference relative to the output's largest magnitude. The filter is a new tensor every call,
// as in training (XNNPACK caches its packed copy of a filter it has seen). Before @ml's own, the
// gradients ran as the XNNPACK convolutions listed (the filter gradient: the transposed input convolved
// with dy; transposes and pads not counted); @ml's filter gradient is one product of its own.
//   node --conditions=@ml/source --import tsx bench/conv.ts
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

import { useBackend } from '../src/index.js';
import { runStock } from '../src/internal/kernels/kernel-utils.js';

await useBackend('wasm', { threads: 1 });

type Shape4 = [number, number, number, number];
/**
 * [what, x, filter, pad]: the CNN's convolutions (stride 1) as XNNPACK ran them; a filter gradient also
 * names the forward convolution's [x, filter] shapes that @ml's kernel takes.
 */
const CONVS: [string, Shape4, Shape4, 'same' | 'valid', [Shape4, Shape4]?][] = [
  ['conv1 forward', [50, 28, 28, 1], [5, 5, 1, 32], 'same'],
  [
    'conv1 filter gradient',
    [1, 32, 32, 50],
    [28, 28, 50, 32],
    'valid',
    [
      [50, 28, 28, 1],
      [5, 5, 1, 32],
    ],
  ],
  ['conv2 forward', [50, 14, 14, 32], [5, 5, 32, 64], 'same'],
  ['conv2 input gradient', [50, 18, 18, 64], [5, 5, 64, 32], 'valid'],
  [
    'conv2 filter gradient',
    [32, 18, 18, 50],
    [14, 14, 50, 64],
    'valid',
    [
      [50, 14, 14, 32],
      [5, 5, 32, 64],
    ],
  ],
];

const best = (f: () => tf.Tensor): number => {
  tf.dispose(f());
  let t = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const y = f();
    y.dataSync();
    t = Math.min(t, performance.now() - t0);
    y.dispose();
  }
  return t;
};

console.log('| convolution | XNNPACK | @ml (GEMM, gathered patches) | speed-up | max rel. difference |');
console.log('|---|---|---|---|---|');
for (const [what, xs, fs, pad, forward] of CONVS) {
  const x = tf.randomNormal<tf.Rank.R4>(xs, 0, 1, 'float32', 1);
  const w = tf.randomNormal<tf.Rank.R4>(fs, 0, 1, 'float32', 2);
  const info = tf.backend_util.computeConv2DInfo(xs, fs, 1, 1, pad);
  const p = info.padInfo;
  const explicit = [
    [0, 0],
    [p.top, p.bottom],
    [p.left, p.right],
    [0, 0],
  ];
  const attrs = { strides: 1, dataFormat: 'NHWC', dilations: 1 };
  // A new filter tensor (a new data id; tf.clone would share it), as every training step has: both sides
  // pay for the copy.
  const fresh = () => tf.add<tf.Tensor4D>(w, 0);
  // The stock kernel with explicit pads (its 'same' flag is broken for strides above the filter).
  const xnn = () =>
    tf.tidy(() =>
      tf.engine().makeTensorFromTensorInfo(
        runStock('Conv2D', {
          inputs: { x, filter: fresh() },
          backend: tf.backend(),
          attrs: { ...attrs, pad: explicit },
        }),
      ),
    );
  let ours: () => tf.Tensor;
  let check: () => tf.Tensor;
  if (forward === undefined) {
    ours = () => tf.tidy(() => tf.conv2d(x, fresh(), 1, pad));
    check = xnn;
  } else {
    // dW of the forward convolution [N, H, W, CI] ∗ [KH, KW, CI, CO] with 'same' pads, from its x and dy.
    const [fx, ff] = forward;
    const fxT = tf.randomNormal<tf.Rank.R4>(fx, 0, 1, 'float32', 3);
    const dy = tf.randomNormal<tf.Rank.R4>([fx[0], fx[1], fx[2], ff[3]], 0, 1, 'float32', 4);
    ours = () =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel<tf.Tensor>(
            'Conv2DBackpropFilter',
            { x: fxT, dy: tf.add(dy, 0) },
            { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: ff },
          ),
      );
    // The same dW through XNNPACK's formulation, for the difference column.
    check = () =>
      tf.tidy(() => {
        const xt = tf.pad(tf.transpose(fxT, [3, 1, 2, 0]), [
          [0, 0],
          [2, 2],
          [2, 2],
          [0, 0],
        ]);
        const f = tf.transpose(dy, [1, 2, 0, 3]);
        const g = tf.engine().makeTensorFromTensorInfo(
          runStock('Conv2D', {
            inputs: { x: xt, filter: f },
            backend: tf.backend(),
            attrs: { ...attrs, pad: 'valid' },
          }),
        );
        return tf.transpose(g, [1, 2, 0, 3]);
      });
  }
  const [a, b] = [check(), ours()];
  const [ad, bd] = [a.dataSync(), b.dataSync()];
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < ad.length; i++) {
    scale = Math.max(scale, Math.abs(ad[i]!));
    diff = Math.max(diff, Math.abs(ad[i]! - bd[i]!));
  }
  tf.dispose([a, b]);
  const [tx, to] = [best(xnn), best(ours)];
  console.log(
    `| ${what} ${xs.join('×')} ∗ ${fs.join('×')} | ${tx.toFixed(1)} ms | ${to.toFixed(1)} ms | ${(tx / to).toFixed(2)}× | ${(diff / scale).toExponential(1)} |`,
  );
  tf.dispose([x, w]);
}
