import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@ml/core';
import { TransformerEncoderLayer } from '../src/index.js';

await useBackend('wasm');
const B = 32, T = 64, D = 128;
const layer = new TransformerEncoderLayer({ dim: D, heads: 4, dimFeedforward: 512, dropout: 0 });
const x = tf.randomNormal([B, T, D]);

const mode = process.argv[3] ?? 'fwd';
layer.train(mode !== 'fwd');
const run = () => mode === 'fwd' ? tf.dispose(layer.forward(x)) : tf.dispose(tf.variableGrads(() => tf.mean(tf.square(layer.forward(x))) as tf.Scalar).grads);
for (let i = 0; i < 3; i++) run();
const t0 = performance.now();
const prof = await tf.profile(() => { run(); });
console.log('total', (performance.now() - t0).toFixed(1));
const agg = new Map<string, { ms: number; n: number }>();
for (const k of prof.kernels) {
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const a = agg.get(key) ?? { ms: 0, n: 0 };
  a.ms += k.kernelTimeMs as number; a.n++;
  agg.set(key, a);
}
const rows = [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30);
let total = 0; for (const [, a] of agg) total += a.ms;
console.log('kernel total', total.toFixed(1));
for (const [k, a] of rows) console.log(a.ms.toFixed(2).padStart(8), String(a.n).padStart(3), k);
