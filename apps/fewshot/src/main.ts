// Few-shot Fashion-MNIST with prototype completion. Five classes are "base" classes (plenty of
// labelled images: the backbone and ProtoComNet learn on them), five are "novel" (only 1 or 5
// labelled images per class in each 5-way episode). Compared on the same episodes:
//   protonet                  support mean per class, nearest by euclidean distance
//   transductive_baseline     one soft-assignment step over support ∪ queries, no knowledge
//   protocomnet_inductive     average of the mean prototype and ProtoComNet's completed one
//   protocomnet_transductive  Gaussian fusion of both, each from one soft-assignment step
//
//   pnpm demo fewshot [--out DIR] [--episodes 1000] [--pretrain-epochs 2] [--base-images 1000]
//                     [--protocomnet-epochs 20] [--queries 15] [--seed 0] [--backend wasm]
//                     [--graph-cache FILE] [--show-graph CLASS] [--help]
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import * as tf from '@tensorflow/tfjs-core';

import { Adam, Linear, Sequential, crossEntropy, useBackend } from '@ml/core';
import type { BackendName } from '@ml/core';
import { DataLoader, EpisodeSampler, TensorDataset, fashionMnist } from '@ml/data-loaders';
import {
  Conv4,
  FusionHead,
  ProtoComNet,
  classNodeId,
  classPrototypes,
  collectFeatureStatistics,
  describeClassGraph,
  loadKnowledgeGraph,
  meanWithCi95,
  protoComNetStep,
  protoNetLogits,
} from '@ml/fewshot-protocomnet';
import { Accuracy, ProgressBar, Runner } from '@ml/runner';

import { BASE_LABELS, FASHION_SYNSETS, NOVEL_LABELS } from './classes.js';

/** The methods of the table, in order. */
export const METHODS = [
  'protonet',
  'transductive_baseline',
  'protocomnet_inductive',
  'protocomnet_transductive',
] as const;
export type Method = (typeof METHODS)[number];

/** One cell of the table. */
export interface Score {
  mean: number;
  ci95: number;
}

/** What the demo writes to metrics.json. */
export interface FewShotMetrics {
  episodes: number;
  base_classes: string[];
  novel_classes: string[];
  results: Record<Method, { '1shot': Score; '5shot': Score }>;
}

/** Options of {@link runFewShot} (the CLI flags). */
export interface FewShotOptions {
  out: string;
  episodes: number;
  pretrainEpochs: number;
  /** Training images per base class for pretraining and statistics. */
  baseImages: number;
  protocomnetEpochs: number;
  queries: number;
  seed: number;
  backend: BackendName | 'auto';
  /** Where the knowledge graph is cached (default: <out>/knowledge-graph.json). */
  graphCache?: string;
  /** Print the full graph listing of these classes. */
  showGraph: string[];
  dataDir?: string;
}

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Defaults of the flags (the measured 2-core setting; see the README). */
export const FEWSHOT_DEFAULTS = {
  episodes: 1000,
  pretrainEpochs: 2,
  baseImages: 1000,
  protocomnetEpochs: 20,
  queries: 15,
  seed: 0,
  backend: 'wasm',
  ways: 5,
  pretrainBatch: 64,
  pretrainLr: 2e-3,
  protocomnetBatch: 128,
  protocomnetLr: 1e-3,
  featureBatch: 500,
} as const;

const HELP = `Few-shot Fashion-MNIST: ProtoNet vs ProtoComNet (prototype completion from WordNet parts).

Usage: pnpm demo fewshot [options]

  --out DIR                 output folder (default apps/fewshot/out): metrics.json, knowledge-graph.json
  --episodes N              test episodes per setting, the same for every method (default ${FEWSHOT_DEFAULTS.episodes})
  --pretrain-epochs N       backbone pretraining epochs on the base classes (default ${FEWSHOT_DEFAULTS.pretrainEpochs})
  --base-images N           training images per base class (default ${FEWSHOT_DEFAULTS.baseImages})
  --protocomnet-epochs N    ProtoComNet training epochs (default ${FEWSHOT_DEFAULTS.protocomnetEpochs})
  --queries N               query images per class in an episode (default ${FEWSHOT_DEFAULTS.queries})
  --seed N                  seed of weights, batches, samples and episodes (default ${FEWSHOT_DEFAULTS.seed})
  --backend NAME            wasm (default), cpu, tensorflow, auto
  --graph-cache FILE        knowledge-graph cache (default <out>/knowledge-graph.json)
  --show-graph CLASS        print a class's graph (its WordNet synset and shared parts); repeatable
  --data-dir DIR            Fashion-MNIST folder (default: Debian's dataset-fashion-mnist, else download)
  --help                    this text
`;

function shown(p: string): string {
  const r = relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') ? p : r;
}

/** Rows of `images`/`labels` whose label is in `keep`, at most `perClass` of each, in dataset order. */
async function selectClasses(
  images: tf.Tensor,
  labels: tf.Tensor,
  keep: readonly number[],
  perClass: number,
): Promise<{ x: tf.Tensor; y: number[] }> {
  const y = await labels.data();
  const taken = new Map<number, number>();
  const rows: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const c = y[i] as number;
    if (!keep.includes(c) || (taken.get(c) ?? 0) >= perClass) continue;
    taken.set(c, (taken.get(c) ?? 0) + 1);
    rows.push(i);
  }
  const x = tf.tidy(() => tf.gather(images, tf.tensor1d(rows, 'int32'))); // [n, 28, 28, 1]
  return { x, y: rows.map((i) => y[i] as number) };
}

/** Backbone features of `images` in eval mode, in batches: [n, s]. */
function extractFeatures(backbone: Conv4, images: tf.Tensor, batch: number): tf.Tensor2D {
  backbone.eval();
  const n = images.shape[0];
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < n; i += batch)
    parts.push(tf.tidy(() => backbone.forward(tf.slice(images, i, Math.min(batch, n - i)))));
  const out = tf.concat(parts, 0) as tf.Tensor2D; // [n, s]
  tf.dispose(parts);
  return out;
}

/** Runs the demo and returns (and writes) its metrics. */
export async function runFewShot(options: FewShotOptions): Promise<FewShotMetrics> {
  const started = Date.now();
  const backend = await useBackend(options.backend);
  await mkdir(options.out, { recursive: true });
  const d = FEWSHOT_DEFAULTS;
  const names = (labels: readonly number[]): string[] =>
    labels.map((l) => (FASHION_SYNSETS[Object.keys(FASHION_SYNSETS)[l] as string] as { name: string }).name);
  const baseNames = names(BASE_LABELS);
  const novelNames = names(NOVEL_LABELS);

  // 1. The knowledge graph (WordNet parts + word vectors), cached.
  const cachePath = options.graphCache ?? join(options.out, 'knowledge-graph.json');
  const { graph, cached } = await loadKnowledgeGraph({
    base: baseNames.map((n) => FASHION_SYNSETS[n] as (typeof FASHION_SYNSETS)[string]),
    novel: novelNames.map((n) => FASHION_SYNSETS[n] as (typeof FASHION_SYNSETS)[string]),
    cachePath,
  });
  const C = baseNames.length + novelNames.length;
  console.log(
    `knowledge graph (${cached ? 'cached' : 'built'}: ${shown(cachePath)}): ${C} classes, ${graph.nodes.length - C} attributes shared by base and novel classes, ${graph.dimensions}-d word vectors`,
  );
  for (const [i, name] of [...baseNames, ...novelNames].entries()) {
    const attrs = (graph.edges[i] as number[]).map((a) => graph.nodes[a]?.name);
    console.log(
      `  ${i < baseNames.length ? 'base ' : 'novel'} ${name.padEnd(12)} ${String(attrs.length).padStart(2)} parts: ${attrs.slice(0, 6).join(', ')}${attrs.length > 6 ? ', …' : ''}`,
    );
  }
  for (const name of options.showGraph) console.log(describeClassGraph(graph, name));

  // 2. Data: base classes from the training split, novel classes from the test split.
  const dataOptions = options.dataDir !== undefined ? { dir: options.dataDir } : {};
  const train = await fashionMnist({ ...dataOptions, split: 'train' });
  const base = await selectClasses(train.images, train.labels, BASE_LABELS, options.baseImages);
  train.dispose();
  const test = await fashionMnist({ ...dataOptions, split: 'test' });
  const novel = await selectClasses(test.images, test.labels, NOVEL_LABELS, Infinity);
  test.dispose();
  const basePositions = base.y.map((l) => BASE_LABELS.indexOf(l as (typeof BASE_LABELS)[number]));
  const baseY = tf.tensor1d(basePositions, 'int32');
  console.log(
    `Fashion-MNIST: ${base.y.length} base training images (${baseNames.join(', ')}); ${novel.y.length} novel test images (${novelNames.join(', ')}); backend ${backend}`,
  );

  // 3. Backbone: Conv-4 + a linear classifier over the base classes, trained with the Runner.
  const backbone = new Conv4({ seed: options.seed });
  const classifier = new Sequential([
    backbone,
    new Linear({ inFeatures: backbone.featureSize, outFeatures: baseNames.length, seed: options.seed + 1 }),
  ]);
  const progress = (): ProgressBar => new ProgressBar({ logLines: false });
  console.log(`pretraining Conv-4 (${backbone.featureSize}-d features) on the base classes`);
  const pretrain = new Runner({
    model: classifier,
    optimizer: new Adam(classifier, { lr: d.pretrainLr }),
    loss: (logits, y) => crossEntropy(logits, y),
    metrics: [new Accuracy()],
    seed: options.seed,
    callbacks: [progress()],
  });
  await pretrain.fit(
    new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([base.x, baseY]), {
      batchSize: d.pretrainBatch,
      shuffle: true,
      seed: options.seed,
    }),
    { epochs: options.pretrainEpochs },
  );
  const baseFeatures = extractFeatures(backbone, base.x, d.featureBatch); // [n_base, s]
  const novelFeatures = extractFeatures(backbone, novel.x, d.featureBatch); // [n_novel, s]
  tf.dispose([base.x, novel.x]);

  // 4. Statistics and ProtoComNet's training phase (Runner with the ProtoComNet step).
  const stats = await collectFeatureStatistics(graph, baseFeatures, basePositions);
  const protocomnet = new ProtoComNet({ graph, featureSize: backbone.featureSize, seed: options.seed + 2 });
  console.log(
    `training ProtoComNet (${protocomnet.numParameters()} parameters) to complete base prototypes from single-image features and sampled part features`,
  );
  const pcnRunner = new Runner({
    model: protocomnet,
    optimizer: new Adam(protocomnet, { lr: d.protocomnetLr }),
    step: protoComNetStep(stats),
    seed: options.seed,
    callbacks: [progress()],
  });
  await pcnRunner.fit(
    new DataLoader<tf.Tensor[], tf.Tensor[]>(new TensorDataset([baseFeatures, baseY]), {
      batchSize: d.protocomnetBatch,
      shuffle: true,
      seed: options.seed + 3,
    }),
    { epochs: options.protocomnetEpochs },
  );
  protocomnet.eval();

  // 5. Evaluation: the same episodes for every method.
  const fusion = new FusionHead();
  const novelNodeIds = novelNames.map((name) => classNodeId(graph, name));
  const results = {} as Record<Method, { '1shot': Score; '5shot': Score }>;
  for (const m of METHODS) results[m] = { '1shot': { mean: 0, ci95: 0 }, '5shot': { mean: 0, ci95: 0 } };
  for (const shots of [1, 5] as const) {
    const sampler = new EpisodeSampler({
      data: novelFeatures,
      labels: novel.y,
      ways: d.ways,
      shots,
      queries: options.queries,
      classes: [...NOVEL_LABELS],
      seed: options.seed + 100 + shots,
    });
    const acc: Record<Method, number[]> = {
      protonet: [],
      transductive_baseline: [],
      protocomnet_inductive: [],
      protocomnet_transductive: [],
    };
    const t0 = Date.now();
    for (let e = 0; e < options.episodes; e++) {
      const ep = sampler.episode(e);
      const ids = ep.classIds.map(
        (c) => novelNodeIds[NOVEL_LABELS.indexOf(c as (typeof NOVEL_LABELS)[number])] as number,
      );
      const correct = tf.tidy(() => {
        const prototypes = classPrototypes(ep.support, ep.supportLabels, d.ways); // [N, s]
        const completed = protocomnet.forward(prototypes, tf.tensor1d(ids, 'int32'), stats.attributeMean); // [N, s]
        const input = {
          support: ep.support,
          supportLabels: ep.supportLabels,
          query: ep.query,
          prototypes,
          completed,
        };
        const logits: Record<Method, tf.Tensor> = {
          protonet: protoNetLogits(prototypes, ep.query),
          transductive_baseline: fusion.forward(input, 'knowledge-free'),
          protocomnet_inductive: fusion.forward(input, 'inductive'),
          protocomnet_transductive: fusion.forward(input, 'transductive'),
        };
        return tf.stack(
          METHODS.map((m) => tf.mean(tf.cast(tf.equal(tf.argMax(logits[m], 1), ep.queryLabels), 'float32'))),
        ); // [4]
      });
      const values = await correct.data();
      correct.dispose();
      ep.dispose();
      METHODS.forEach((m, i) => acc[m].push(values[i] as number));
    }
    for (const m of METHODS) results[m][`${shots}shot`] = meanWithCi95(acc[m]);
    console.log(
      `5-way ${shots}-shot: ${options.episodes} episodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  }

  const metrics: FewShotMetrics = {
    episodes: options.episodes,
    base_classes: baseNames,
    novel_classes: novelNames,
    results,
  };
  const metricsPath = join(options.out, 'metrics.json');
  await writeFile(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  tf.dispose([baseFeatures, novelFeatures, baseY]);
  stats.dispose();
  protocomnet.dispose();
  classifier.dispose();
  fusion.dispose();

  const pct = (s: Score): string => `${(100 * s.mean).toFixed(2)} ± ${(100 * s.ci95).toFixed(2)}`;
  console.log(
    `\nnovel classes, 5-way, mean accuracy % ± 95% CI over ${options.episodes} episodes (${options.queries} queries per class)`,
  );
  console.log(`${'method'.padEnd(26)} ${'1-shot'.padStart(15)} ${'5-shot'.padStart(15)}`);
  for (const m of METHODS)
    console.log(
      `${m.padEnd(26)} ${pct(results[m]['1shot']).padStart(15)} ${pct(results[m]['5shot']).padStart(15)}`,
    );
  console.log(`wrote ${shown(metricsPath)} · ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
  return metrics;
}

function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  const n = Number(value ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, got ${value}`);
  return n;
}

/** Parses the CLI flags (see `--help`) and runs the demo; null after printing the help. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<FewShotMetrics | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      episodes: { type: 'string' },
      'pretrain-epochs': { type: 'string' },
      'base-images': { type: 'string' },
      'protocomnet-epochs': { type: 'string' },
      queries: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      'graph-cache': { type: 'string' },
      'show-graph': { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) {
    console.log(HELP);
    return null;
  }
  const d = FEWSHOT_DEFAULTS;
  const seed = Number(values.seed ?? d.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`--seed must be an integer ≥ 0, got ${values.seed}`);
  return runFewShot({
    out: values.out ?? join(APP_DIR, 'out'),
    episodes: positiveInt('episodes', values.episodes, d.episodes),
    pretrainEpochs: positiveInt('pretrain-epochs', values['pretrain-epochs'], d.pretrainEpochs),
    baseImages: positiveInt('base-images', values['base-images'], d.baseImages),
    protocomnetEpochs: positiveInt('protocomnet-epochs', values['protocomnet-epochs'], d.protocomnetEpochs),
    queries: positiveInt('queries', values.queries, d.queries),
    seed,
    backend: (values.backend ?? d.backend) as BackendName | 'auto',
    showGraph: values['show-graph'] ?? [],
    ...(values['graph-cache'] !== undefined ? { graphCache: values['graph-cache'] } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
  });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
    process.exit(1);
  });
}
