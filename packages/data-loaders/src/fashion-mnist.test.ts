import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { DataError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { sha256Hex } from './download.js';
import {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_MIRROR,
  fashionMnist,
} from './fashion-mnist.js';
import { encodeIdx } from './idx.js';

async function summary(
  data: Awaited<ReturnType<typeof fashionMnist>>,
): Promise<{ counts: number[]; byteSum: number; first: number[]; centre: number }> {
  const y = await data.labels.data();
  const counts = new Array<number>(10).fill(0);
  for (const v of y) counts[v] = (counts[v] as number) + 1;
  const px = await data.images.data();
  let byteSum = 0;
  for (let i = 0; i < px.length; i++) byteSum += Math.round((px[i] as number) * 255);
  return {
    counts,
    byteSum,
    first: Array.from(y.subarray(0, 10)),
    centre: Math.round((px[14 * 28 + 14] as number) * 255),
  };
}

describe('fashionMnist from the Debian dataset-fashion-mnist files', () => {
  beforeAll(() => onBackend('cpu'));

  // The full training set is decoded once in the whole suite (~2 s: gunzip of 26 MB in JS).
  it('train: 60,000 images [28, 28, 1] in [0, 1], 6,000 per class, known checksum', async () => {
    const data = await fashionMnist();
    expect(data.source).toBe(`idx:${DEBIAN_FASHION_MNIST_DIR}`);
    expect(data.images.shape).toEqual([60000, 28, 28, 1]);
    expect(data.images.dtype).toBe('float32');
    expect(data.labels.dtype).toBe('int32');
    expect(data.classNames).toEqual(FASHION_MNIST_CLASSES);
    const s = await summary(data);
    data.dispose();
    expect(s.counts).toEqual(new Array(10).fill(6000));
    expect(s.byteSum).toBe(3431114169);
    expect(s.first).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(s.centre).toBe(217);
  });

  it('test: 10,000 images, 1,000 per class, known checksum', async () => {
    const data = await fashionMnist({ split: 'test' });
    expect(data.images.shape).toEqual([10000, 28, 28, 1]);
    const s = await summary(data);
    data.dispose();
    expect(s.counts).toEqual(new Array(10).fill(1000));
    expect(s.byteSum).toBe(573469082);
    expect(s.first).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(s.centre).toBe(110);
  });

  it('downloads from a mirror through a custom fetch when the directory lacks the files', async () => {
    const files: Record<string, Uint8Array> = {
      't10k-images-idx3-ubyte.gz': encodeIdx(
        { dtype: 'uint8', shape: [2, 28, 28], data: new Uint8Array(2 * 784).fill(255) },
        { gzip: true },
      ),
      't10k-labels-idx1-ubyte.gz': encodeIdx(
        { dtype: 'uint8', shape: [2], data: Uint8Array.of(8, 1) },
        { gzip: true },
      ),
    };
    const checksums: Record<string, string> = {};
    for (const [k, v] of Object.entries(files)) checksums[k] = await sha256Hex(v);
    const asked: string[] = [];
    const fetch = (url: string) => {
      asked.push(url);
      const body = files[url.slice(FASHION_MNIST_MIRROR.length)];
      return Promise.resolve({
        ok: body !== undefined,
        status: body ? 200 : 404,
        arrayBuffer: () => Promise.resolve((body ?? new Uint8Array()).slice().buffer),
      });
    };
    const dir = await mkdtemp(join(tmpdir(), 'fashion-'));
    const data = await fashionMnist({ dir, split: 'test', fetch, checksums });
    expect(asked).toEqual([
      `${FASHION_MNIST_MIRROR}t10k-images-idx3-ubyte.gz`,
      `${FASHION_MNIST_MIRROR}t10k-labels-idx1-ubyte.gz`,
    ]);
    expect(data.source).toBe(`download:${FASHION_MNIST_MIRROR}`);
    expect(Array.from(await data.labels.data())).toEqual([8, 1]);
    expect((await data.images.data())[100]).toBe(1);
    data.dispose();
    await expect(
      fashionMnist({ dir: await mkdtemp(join(tmpdir(), 'fashion-')), split: 'test', fetch }),
    ).rejects.toThrow(DataError);
  });
});
