// Iris on @ml: min-max normalised Iris, a 120/15/15 split, a 4-6-3 sigmoid network trained with
// SGD (lr 0.2, batch 16, 150 epochs), evaluated on the dev set every 50 steps with the best-dev model
// kept — next to softmax regression trained the same way and an RBF SVM. Prints progress and test
// accuracies; writes metrics.json, loss/accuracy curves (SVG), history files and checkpoints.
//
//   pnpm demo iris [--out DIR] [--epochs 150] [--seed 0] [--backend auto|wasm|cpu] [--help]
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

import { SGD, crossEntropy, useBackend } from '@ml/core';
import type { BackendName, Module } from '@ml/core';
import { DataLoader, TensorDataset, iris, splitIndices } from '@ml/data-loaders';
import { Accuracy, CurvePlotter, HistoryWriter, ModelCheckpoint, ProgressBar, Runner } from '@ml/runner';
import type { Logs } from '@ml/runner';
import { SVC } from '@ml/svm';

import { IrisMlp, SoftmaxRegression } from './models.js';

/** What the demo writes to metrics.json. */
export interface IrisMetrics {
  fnn_test_accuracy: number;
  softmax_test_accuracy: number;
  svm_test_accuracy: number;
  fnn_test_loss: number;
  softmax_test_loss: number;
  epochs: number;
  backend: string;
}

/** Options of {@link runIris} (the CLI flags). */
export interface IrisDemoOptions {
  out: string;
  epochs: number;
  seed: number;
  backend: BackendName | 'auto';
}

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The demo's settings. */
export const IRIS_DEMO_DEFAULTS = {
  epochs: 150,
  seed: 0,
  backend: 'auto',
  batchSize: 16,
  lr: 0.2,
  evalEvery: 50,
  split: [120, 15, 15],
} as const;

const loss = (logits: tf.Tensor, labels: tf.Tensor): tf.Scalar => crossEntropy(logits, labels);

interface Split {
  x: tf.Tensor;
  y: tf.Tensor;
}

async function trainOne(
  name: string,
  title: string,
  model: Module & { forward(x: tf.Tensor): tf.Tensor },
  data: { train: Split; dev: Split; test: Split },
  options: IrisDemoOptions,
): Promise<Logs> {
  const ckptDir = join(options.out, 'checkpoints', name);
  await rm(ckptDir, { recursive: true, force: true }); // a fresh run: no stale `best` from an earlier one
  const loader = (s: Split, shuffle: boolean): DataLoader<tf.Tensor[], tf.Tensor[]> =>
    new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([s.x, s.y]), {
      batchSize: IRIS_DEMO_DEFAULTS.batchSize,
      shuffle,
      seed: options.seed,
    });
  const best = new ModelCheckpoint({ dir: ckptDir, monitor: 'val_accuracy', keepLast: 1 });
  const runner = new Runner({
    model,
    optimizer: new SGD(model, { lr: IRIS_DEMO_DEFAULTS.lr }),
    loss,
    metrics: [new Accuracy()],
    seed: options.seed,
    callbacks: [
      new ProgressBar({ summaryEvery: Math.max(1, Math.round(options.epochs / 6)) }),
      best,
      new HistoryWriter({ dir: options.out, name: `${name}-history` }),
      new CurvePlotter({ path: join(options.out, `${name}-curves.svg`), title }),
    ],
  });
  console.log(`\n${title}`);
  await runner.fit(loader(data.train, true), {
    epochs: options.epochs,
    valLoader: loader(data.dev, false),
    evalEvery: IRIS_DEMO_DEFAULTS.evalEvery,
    logEvery: 10,
  });
  const { value, epoch, step } = best.best;
  console.log(`best dev accuracy ${value} at epoch ${epoch} (step ${step}); loading that model`);
  await runner.loadWeights(ckptDir, 'best');
  const test = await runner.evaluate(loader(data.test, false));
  console.log(
    `[Test] ${name} accuracy/loss: ${(test.accuracy as number).toFixed(4)}/${(test.loss as number).toFixed(4)}`,
  );
  return test;
}

/** Runs the whole demo and returns (and writes) its metrics. */
export async function runIris(options: IrisDemoOptions): Promise<IrisMetrics> {
  const backend = await useBackend(options.backend);
  await mkdir(options.out, { recursive: true });
  const data = iris({ normalize: 'minmax' });
  const labels = Array.from(await data.labels.data());
  const [trainIdx, devIdx, testIdx] = splitIndices(150, IRIS_DEMO_DEFAULTS.split, {
    seed: options.seed,
    stratify: labels,
  }) as [number[], number[], number[]];
  const take = (idx: number[]): Split =>
    tf.tidy(() => {
      const i = tf.tensor1d(idx, 'int32');
      return { x: tf.gather(data.features, i), y: tf.gather(data.labels, i) }; // [n, 4], [n]
    });
  const split = { train: take(trainIdx), dev: take(devIdx), test: take(testIdx) };
  data.dispose();
  console.log(
    `Iris (${data.source}), min-max normalised, split ${trainIdx.length}/${devIdx.length}/${testIdx.length} (stratified, seed ${options.seed}), backend ${backend}`,
  );
  console.log(
    `SGD lr ${IRIS_DEMO_DEFAULTS.lr}, batch ${IRIS_DEMO_DEFAULTS.batchSize}, ${options.epochs} epochs, dev evaluation every ${IRIS_DEMO_DEFAULTS.evalEvery} steps, best-dev model kept`,
  );

  const fnnModel = new IrisMlp({ seed: options.seed });
  const fnn = await trainOne('fnn', 'Feed-forward network 4→6→3 (sigmoid)', fnnModel, split, options);
  const softmaxModel = new SoftmaxRegression({ seed: options.seed });
  const softmax = await trainOne('softmax', 'Softmax regression 4→3', softmaxModel, split, options);

  const svc = new SVC({ kernel: 'rbf', C: 1 });
  await svc.fit(split.train.x, split.train.y);
  const svmAccuracy = await svc.score(split.test.x, split.test.y);
  console.log(`\nSVM (RBF kernel, C 1, gamma 'scale') [Test] accuracy: ${svmAccuracy.toFixed(4)}`);

  const metrics: IrisMetrics = {
    fnn_test_accuracy: fnn.accuracy as number,
    softmax_test_accuracy: softmax.accuracy as number,
    svm_test_accuracy: svmAccuracy,
    fnn_test_loss: fnn.loss as number,
    softmax_test_loss: softmax.loss as number,
    epochs: options.epochs,
    backend,
  };
  const metricsPath = join(options.out, 'metrics.json');
  await writeFile(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  tf.dispose([split.train.x, split.train.y, split.dev.x, split.dev.y, split.test.x, split.test.y]);
  fnnModel.dispose();
  softmaxModel.dispose();

  const shown = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  console.log(
    `\ntest accuracy — FNN ${metrics.fnn_test_accuracy.toFixed(4)} · softmax regression ${metrics.softmax_test_accuracy.toFixed(4)} · SVM ${metrics.svm_test_accuracy.toFixed(4)}`,
  );
  console.log(
    `wrote ${shown(metricsPath)}, curves ${shown(join(options.out, 'fnn-curves.svg'))} and ${shown(join(options.out, 'softmax-curves.svg'))}, history *.jsonl/*.csv and checkpoints in ${shown(join(options.out, 'checkpoints'))}`,
  );
  return metrics;
}

/** What `--help` prints. */
export const IRIS_USAGE = `Usage: pnpm demo iris [options]

A 4-6-3 feed-forward network next to softmax regression (both trained with @ml/runner) and an RBF SVM
(@ml/svm) on min-max normalised Iris with a stratified 120/15/15 split. Prints progress and test
accuracies; writes metrics.json, loss/accuracy curves (SVG), history files and checkpoints.

Options:
  --out DIR          output folder (default: apps/iris/out)
  --epochs N         training epochs of both networks (default: ${IRIS_DEMO_DEFAULTS.epochs})
  --seed N           seed of the split, the weights and the batches (default: ${IRIS_DEMO_DEFAULTS.seed})
  --backend NAME     auto, wasm or cpu (default: ${IRIS_DEMO_DEFAULTS.backend})
  -h, --help         print this help and exit`;

/** Parses the CLI flags and runs the demo; with `--help`, prints {@link IRIS_USAGE} and returns null. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<IrisMetrics | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(IRIS_USAGE);
    return null;
  }
  const epochs = Number(values.epochs ?? IRIS_DEMO_DEFAULTS.epochs);
  const seed = Number(values.seed ?? IRIS_DEMO_DEFAULTS.seed);
  if (!Number.isInteger(epochs) || epochs < 1)
    throw new Error(`--epochs must be a positive integer, got ${values.epochs}`);
  if (!Number.isFinite(seed)) throw new Error(`--seed must be a number, got ${values.seed}`);
  return runIris({
    out: values.out ?? join(APP_DIR, 'out'),
    epochs,
    seed,
    backend: (values.backend ?? IRIS_DEMO_DEFAULTS.backend) as BackendName | 'auto',
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(1);
  });
}
