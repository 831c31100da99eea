// The training demo: the toy "letter name → letter" set, an encoder-decoder Transformer trained
// with teacher forcing, evaluated by greedy decoding on the held-out 20 %.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { Adam, NoamSchedule, Rng, useBackend, type BackendName } from '@ml/core';
import { ArrayDataset, DataLoader, LETTERS, LETTER_NAMES, toyTranslation } from '@ml/data-loaders';
import { CurvePlotter, HistoryWriter, LrScheduler, ProgressBar, Runner } from '@ml/runner';
import {
  SEQ2SEQ_CONFIGS,
  Seq2SeqTransformer,
  type Vocab,
  bayesTokenAccuracy,
  collatePairs,
  contentTokenAccuracy,
  cropPair,
  encodePairs,
  evaluateTranslation,
  saveSeq2SeqCheckpoint,
  teacherForcedStep,
  type Seq2SeqBatch,
  type Seq2SeqConfigName,
  type Seq2SeqPair,
} from '@ml/seq2seq';

/** Settings of one demo run (the CLI's options). */
export interface DemoOptions {
  /** Output folder for metrics.json, curves, history and the checkpoint. */
  out: string;
  /** Sentence pairs generated (default 1000). */
  t: number;
  /** Tokens per sentence (default 6). */
  seqLen: number;
  /** Probability that a target letter is replaced by a random one (1 − r; default 0.1). */
  noise: number;
  /**
   * Probability that a training pair is cut to a random contiguous span (@ml/seq2seq's cropPair), so that the
   * model learns to stop where the source stops; 0 trains on the fixed-length pairs only.
   */
  crop: number;
  /** Share of the pairs used for training; the rest is the held-out test set (default 0.8). */
  trainFraction: number;
  batchSize: number;
  /** Epochs; default depends on t (about 1500 optimizer steps, at least 3 epochs). */
  epochs: number | undefined;
  /** Model size: 'demo' (d_model 64, 1 + 1 layers) or a SEQ2SEQ_CONFIGS name ('base' is the paper's 512/8/6+6). */
  config: 'demo' | Seq2SeqConfigName;
  /** Dropout of the model (default: the config's). */
  dropout: number | undefined;
  /** Noam schedule: warmup steps and factor. */
  warmup: number;
  lrFactor: number;
  labelSmoothing: number;
  /** Seeds the data, the model, the shuffling and dropout. */
  seed: number;
  backend: BackendName | 'auto';
  /** How many test translations to print. */
  show: number;
  /** Write progress to the terminal (false in tests). */
  quiet: boolean;
}

/** The demo's defaults: 1000 pairs of 6 tokens, 80 % for training, a model that trains in about a minute. */
export const DEFAULT_DEMO_OPTIONS: Omit<DemoOptions, 'out'> = {
  t: 1000,
  seqLen: 6,
  noise: 0.1,
  trainFraction: 0.8,
  crop: 0.5,
  batchSize: 16,
  epochs: undefined,
  config: 'demo',
  dropout: undefined,
  warmup: 200,
  lrFactor: 0.5,
  labelSmoothing: 0.1,
  seed: 0,
  backend: 'wasm',
  show: 5,
  quiet: false,
};

/**
 * The default model: the encoder-decoder Transformer at d_model 64, 4 heads, one encoder and one
 * decoder layer; dropout 0.2 (with 0.1 it memorises a few noisy pairs and misaligns repeated letters).
 */
export const DEMO_MODEL = { ...SEQ2SEQ_CONFIGS.small, encoderLayers: 1, decoderLayers: 1, dropout: 0.2 };

/** metrics.json: exactly these keys. */
export interface DemoMetrics {
  greedy_token_accuracy: number;
  greedy_sequence_accuracy: number;
  teacher_forced_token_accuracy: number;
  bayes_token_accuracy: number;
  seconds: number;
  backend: string;
}

/** Epochs for `t` pairs when not given: about 1500 optimizer steps, 3 to 100 epochs. */
export function defaultEpochs(t: number, trainFraction: number, batchSize: number): number {
  const stepsPerEpoch = Math.ceil((t * trainFraction) / batchSize);
  return Math.min(100, Math.max(3, Math.round(1500 / stepsPerEpoch)));
}

/**
 * Token accuracy of the best possible translator on these pairs: the clean letter for every name.
 * Differs from {@link bayesTokenAccuracy}'s expectation by the luck of the draw.
 */
function oracleAccuracy(pairs: readonly Seq2SeqPair[], srcVocab: Vocab, tgtVocab: Vocab): number {
  let right = 0;
  let total = 0;
  for (const { src, tgt } of pairs) {
    src.forEach((id, j) => {
      const clean = tgtVocab.id(LETTERS[LETTER_NAMES.indexOf(srcVocab.token(id))] as string);
      if (tgt[j] === clean) right++;
      total++;
    });
  }
  return right / total;
}

/** Runs the demo end to end; returns the metrics it wrote to `<out>/metrics.json`. */
export async function runDemo(options: DemoOptions): Promise<DemoMetrics> {
  const o = options;
  const log = (line = '') => {
    if (!o.quiet) process.stdout.write(`${line}\n`);
  };
  const t0 = performance.now();
  const backend = await useBackend(o.backend);
  log(`backend: ${backend}`);

  // Data: raw token pairs from @ml/data-loaders; @ml/seq2seq's vocabularies turn them into ids
  // (most frequent token first) and collatePairs pads each batch.
  const data = toyTranslation({ n: o.t, seqLen: o.seqLen, noise: o.noise, seed: o.seed });
  const { pairs, srcVocab, tgtVocab } = encodePairs(data.pairs);
  const nTrain = Math.floor(o.t * o.trainFraction);
  const trainPairs = pairs.slice(0, nTrain);
  const testPairs = pairs.slice(nTrain);
  log(
    `data: ${o.t} pairs of ${o.seqLen} tokens (r = ${1 - o.noise}), ${trainPairs.length} train / ${testPairs.length} test; vocab ${srcVocab.size} source, ${tgtVocab.size} target tokens`,
  );
  log(`  e.g. ${data.pairs[0]?.src.join(' ')} → ${data.pairs[0]?.tgt.join(' ')}`);

  const sizes = o.config === 'demo' ? DEMO_MODEL : SEQ2SEQ_CONFIGS[o.config];
  const model = new Seq2SeqTransformer({
    srcVocabSize: srcVocab.size,
    tgtVocabSize: tgtVocab.size,
    ...sizes,
    ...(o.dropout === undefined ? {} : { dropout: o.dropout }),
    // <eos> after each source shows the decoder where a typed sentence ends (see cropPair).
    sourceEos: true,
    maxLength: o.seqLen + 1,
    seed: o.seed,
  });
  const cfg = model.config;
  log(
    `model: d_model ${cfg.dModel}, ${cfg.heads} heads, ${cfg.encoderLayers}+${cfg.decoderLayers} layers, ff ${cfg.dimFeedforward}, dropout ${cfg.dropout} (${model.numParameters().toLocaleString('en')} parameters)`,
  );

  const cropRng = new Rng(o.seed + 1);
  const loader = (items: Seq2SeqPair[], train: boolean) =>
    new DataLoader<Seq2SeqPair, Seq2SeqBatch>(new ArrayDataset(items), {
      batchSize: o.batchSize,
      shuffle: train,
      seed: o.seed,
      // Batches are collated in order (prefetch keeps the order), so the crops are deterministic.
      collate: (batch) => collatePairs(train ? batch.map((p) => cropPair(p, cropRng, o.crop)) : batch),
    });
  const epochs = o.epochs ?? defaultEpochs(o.t, o.trainFraction, o.batchSize);
  const optimizer = new Adam(model, { lr: 0, betas: [0.9, 0.98], eps: 1e-9 });
  await mkdir(o.out, { recursive: true });
  const runner = new Runner<Seq2SeqTransformer, Seq2SeqBatch>({
    model,
    optimizer,
    seed: o.seed,
    step: (batch, ctx) => teacherForcedStep(ctx.model, batch, { labelSmoothing: o.labelSmoothing }),
    // Letters only (no <pad>, no <eos>), like the final metrics and the Bayes limit.
    metrics: [contentTokenAccuracy({ padId: cfg.padId })],
    callbacks: [
      new LrScheduler({
        schedule: new NoamSchedule({ dModel: cfg.dModel, warmupSteps: o.warmup, factor: o.lrFactor }),
      }),
      new CurvePlotter({
        path: join(o.out, 'curves.svg'),
        title: 'Toy translation: teacher-forced loss and token accuracy',
      }),
      new HistoryWriter({ dir: o.out }),
      ...(o.quiet ? [] : [new ProgressBar()]),
    ],
  });
  log(
    `training: ${epochs} epochs of ${Math.ceil(trainPairs.length / o.batchSize)} batches of ${o.batchSize}, Adam + Noam warmup ${o.warmup}, label smoothing ${o.labelSmoothing}, ${Math.round(o.crop * 100)} % of pairs cropped to random spans`,
  );
  await runner.fit(loader(trainPairs, true), { epochs, valLoader: loader(testPairs, false) });

  const evaluation = await evaluateTranslation(model, testPairs);
  const seconds = (performance.now() - t0) / 1000;
  const metrics: DemoMetrics = {
    greedy_token_accuracy: evaluation.tokenAccuracy.accuracy,
    greedy_sequence_accuracy: evaluation.sequenceAccuracy.accuracy,
    teacher_forced_token_accuracy: evaluation.teacherForcedAccuracy,
    bayes_token_accuracy: bayesTokenAccuracy({ correct: 1 - o.noise, classes: LETTERS.length }),
    seconds,
    backend,
  };

  log('\ntest translations (greedy):');
  for (let i = 0; i < Math.min(o.show, testPairs.length); i++) {
    const p = testPairs[i] as Seq2SeqPair;
    const got = tgtVocab.decode(evaluation.predictions[i] as number[]);
    const ref = tgtVocab.decode(p.tgt);
    const wrong = ref.filter((r, j) => got[j] !== r).length + Math.max(0, got.length - ref.length);
    log(
      `  ${srcVocab.decode(p.src).join(' ')}  →  ${got.join(' ')}   (reference ${ref.join(' ')}${wrong === 0 ? '' : `, ${wrong} differ`})`,
    );
  }
  const oracle = oracleAccuracy(testPairs, srcVocab, tgtVocab);
  log('\nheld-out metrics:');
  log(`  greedy token accuracy          ${metrics.greedy_token_accuracy.toFixed(4)}`);
  log(`  greedy sequence accuracy       ${metrics.greedy_sequence_accuracy.toFixed(4)}`);
  log(`  teacher-forced token accuracy  ${metrics.teacher_forced_token_accuracy.toFixed(4)}`);
  log(
    `  Bayes limit r + (1 − r)/26     ${metrics.bayes_token_accuracy.toFixed(4)}   (the clean mapping scores ${oracle.toFixed(4)} on this test set)`,
  );

  const checkpoint = join(o.out, 'model.safetensors');
  await saveSeq2SeqCheckpoint(
    checkpoint,
    { model, srcVocab, tgtVocab },
    { metadata: { metrics: JSON.stringify(metrics) } },
  );
  await writeFile(join(o.out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  model.dispose();
  optimizer.dispose();
  log(
    `\n${seconds.toFixed(1)} s on ${backend}. Wrote ${join(o.out, 'metrics.json')}, curves.svg, history.jsonl/csv and model.safetensors.`,
  );
  return metrics;
}
