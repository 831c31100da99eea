// Trains a conv + embedding model on wasm under plain Node (no vitest resolver, no bundler), through
// @ml/core's package entry: gradients, @ml's wasm kernels and the backend loader as a user gets them.
// Prints one JSON line: { backend, first, last }. Spawned by src/plain-node.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@ml/core';

const backend = await useBackend('wasm');
const n = 12;
const ids = tf.tensor2d(
  Array.from({ length: n * 3 }, (_, i) => (i * 5 + 1) % 7),
  [n, 3],
  'int32',
);
const labels = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: n }, (_, i) => ((i * 15 + 1) % 7) % 2),
    'int32',
  ),
  2,
);
const emb = tf.variable(tf.randomNormal([7, 4], 0, 0.3, 'float32', 1)); // trainable embedding: gather's gradient
const filt = tf.variable(tf.randomNormal([2, 2, 1, 2], 0, 0.3, 'float32', 2)); // conv filter: Conv2DBackpropFilter
const w = tf.variable(tf.randomNormal([2 * 2 * 2, 2], 0, 0.3, 'float32', 3));
const opt = tf.train.adam(0.05);
const loss = () =>
  tf.tidy(() => {
    const e = tf.reshape(tf.gather(emb, ids), [n, 3, 4, 1]); // [N, 3, 4, 1] "image"
    const h = tf.relu(tf.conv2d(e, filt, [2, 2], 'same')); // [N, 2, 2, 2]
    return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.reshape(h, [n, 8]), w));
  });
const losses = [];
for (let i = 0; i < 60; i++) {
  const l = opt.minimize(loss, true);
  losses.push((await l.data())[0]);
  l.dispose();
}
console.log(JSON.stringify({ backend, active: tf.getBackend(), first: losses[0], last: losses.at(-1) }));
