import {
  datasetCacheDir,
  loadIdxImages,
  type IdxImageOptions,
  type IdxSplitFiles,
  type ImageClassificationData,
} from './image-dataset.js';

/** The mirror {@link fashionMnist} downloads from by default (Zalando's S3 bucket). */
export const FASHION_MNIST_MIRROR = 'https://fashion-mnist.s3.eu-central-1.amazonaws.com/';

/** Where Debian's `dataset-fashion-mnist` package installs the files; the default `dir` when present. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * The official Fashion-MNIST files with their SHA-256 checksums (of the `.gz` files as Zalando
 * serves them; Debian's copies are re-compressed, so their `.gz` bytes differ but the data is the same).
 */
export const FASHION_MNIST_FILES: Readonly<Record<'train' | 'test', IdxSplitFiles>> = {
  train: {
    images: {
      name: 'train-images-idx3-ubyte.gz',
      sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
    },
    labels: {
      name: 'train-labels-idx1-ubyte.gz',
      sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
    },
  },
  test: {
    images: {
      name: 't10k-images-idx3-ubyte.gz',
      sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
    },
    labels: {
      name: 't10k-labels-idx1-ubyte.gz',
      sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
    },
  },
};

/** Fashion-MNIST's class names, by label id. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

async function defaultFashionDir(): Promise<string> {
  const { access } = await import('node:fs/promises');
  const nodePath = await import('node:path');
  try {
    await access(nodePath.join(DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_FILES.train.images.name));
    return DEBIAN_FASHION_MNIST_DIR;
  } catch {
    return datasetCacheDir('fashion-mnist');
  }
}

/**
 * Fashion-MNIST (Zalando article images): images float32 [N, 28, 28, 1] in [0, 1] (NHWC, 0 =
 * background), labels int32 [N] in 0–9 ({@link FASHION_MNIST_CLASSES}); N = 60,000 (train) or
 * 10,000 (test). `dir` defaults to {@link DEBIAN_FASHION_MNIST_DIR} when it holds the files, else
 * `defaultDataDir()/fashion-mnist`, where missing files are downloaded and checked.
 */
export async function fashionMnist(options: IdxImageOptions = {}): Promise<ImageClassificationData> {
  return loadIdxImages('fashionMnist', FASHION_MNIST_FILES, FASHION_MNIST_CLASSES, {
    ...options,
    defaultBaseUrl: FASHION_MNIST_MIRROR,
    defaultDir: defaultFashionDir,
  });
}
