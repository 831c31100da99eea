import * as tf from '@tensorflow/tfjs-core';
import { Adam, NoamSchedule, Rng, useBackend } from '@ml/core';
import { toyTranslation } from '@ml/data-loaders';

import { Seq2SeqTransformer, Vocab, collatePairs, evaluateTranslation, teacherForcedLoss } from '@ml/seq2seq';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=')));
const backend = await useBackend((args.backend as 'wasm') ?? 'wasm');
const n = Number(args.t ?? 1000);
const data = toyTranslation({ n, seqLen: 6, noise: 0.1, seed: Number(args.seed ?? 0) });
const srcVocab = Vocab.build(data.srcTokens);
const tgtVocab = Vocab.build(data.tgtTokens);
const pairs = data.srcTokens.map((s, i) => ({ src: srcVocab.encode(s), tgt: tgtVocab.encode(data.tgtTokens[i]!) }));
data.dispose();
const nTrain = Math.floor(n * 0.8);
const train = pairs.slice(0, nTrain);
const test = pairs.slice(nTrain);
const model = new Seq2SeqTransformer({
  srcVocabSize: srcVocab.size, tgtVocabSize: tgtVocab.size,
  dModel: Number(args.d ?? 64), heads: Number(args.h ?? 4), encoderLayers: Number(args.L ?? 2), decoderLayers: Number(args.L ?? 2),
  dimFeedforward: Number(args.ff ?? 128), dropout: Number(args.drop ?? 0.1), maxLength: 16, seed: 0,
});
const opt = new Adam(model, { lr: Number(args.lr ?? 1e-3), betas: [0.9, 0.98], eps: 1e-9 });
const noam = args.warmup ? new NoamSchedule({ dModel: model.config.dModel, warmupSteps: Number(args.warmup), factor: Number(args.factor ?? 1) }) : null;
const rng = new Rng(0);
const epochs = Number(args.epochs ?? 20);
const bs = 16;
let step = 0;
const t0 = performance.now();
for (let e = 0; e < epochs; e++) {
  const order = rng.permutation(train.length);
  let sum = 0;
  let cnt = 0;
  for (let b = 0; b < train.length; b += bs) {
    const batch = collatePairs(order.slice(b, b + bs).map((i) => train[i]!));
    if (noam) opt.lr = noam.lrAt(step);
    const loss = opt.minimize(() => teacherForcedLoss(model, batch, { labelSmoothing: Number(args.ls ?? 0.1) }));
    sum += (await loss.data())[0]!;
    cnt++;
    step++;
    tf.dispose([loss, ...Object.values(batch)]);
  }
  if ((e + 1) % Number(args.every ?? 1) === 0 || e === epochs - 1) {
    const ev = await evaluateTranslation(model, test);
    console.log(`epoch ${e + 1} loss ${(sum / cnt).toFixed(4)} greedy ${ev.tokenAccuracy.accuracy.toFixed(4)} seq ${ev.sequenceAccuracy.accuracy.toFixed(3)} tf ${ev.teacherForcedAccuracy.accuracy.toFixed(4)} t=${((performance.now() - t0) / 1000).toFixed(1)}s cpu=${(process.cpuUsage().user / 1e6).toFixed(1)}s tensors=${tf.memory().numTensors}`);
  }
}
// oracle
const clean = test.map((p) => p.src.map((id) => tgtVocab.id('abcdefghijklmnopqrstuvwxyz'[['ei', 'bi:', 'si:', 'di:', 'i:', 'ef', 'dʒi:', 'eit∫', 'ai', 'dʒei', 'kei', 'el', 'em', 'en', 'əu', 'pi:', 'kju:', 'ɑ:', 'es', 'ti:', 'ju:', 'vi:', 'd∧blju:', 'eks', 'wai', 'zi:'].indexOf(srcVocab.token(id))]!)));
let ok = 0, tot = 0;
test.forEach((p, i) => p.tgt.forEach((id, j) => { tot++; if (clean[i]![j] === id) ok++; }));
console.log(backend, 'oracle', ok / tot);
