import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, Rng, ShapeError } from '@ml/core';
import { TEST_BACKENDS, expectNoTensorLeak, onBackend } from '@ml/core/testing';

import { DEFAULT_AUGMENT_OPTIONS, augmentBatch, augmentImages } from './augment.js';
import { DataLoader } from './data-loader.js';
import { TensorDataset } from './dataset.js';
import { drawInverseAffine } from './internal/affine.js';

const H = 12;
const W = 10;

/** Images with distinct, asymmetric content: pixel (y, x) of image i = ((i + 1)·(3y + x)) mod 7 / 7, border 0. */
function testImages(n: number, c = 1): tf.Tensor4D {
  const v = new Float32Array(n * H * W * c);
  for (let i = 0; i < n; i++)
    for (let y = 2; y < H - 2; y++)
      for (let x = 2; x < W - 2; x++)
        for (let k = 0; k < c; k++) v[((i * H + y) * W + x) * c + k] = (((i + 1) * (3 * y + x) + k) % 7) / 7;
  return tf.tensor4d(v, [n, H, W, c]);
}

/** Shift of `img` by whole pixels (dx, dy) with 0 fill. */
function shifted(img: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(img.length);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sx < W && sy >= 0 && sy < H) out[y * W + x] = img[sy * W + sx] as number;
    }
  return out;
}

function same(a: Float32Array, b: Float32Array): boolean {
  return a.every((v, i) => Math.abs(v - (b[i] as number)) < 1e-6);
}

for (const backend of TEST_BACKENDS) {
  describe(`augmentImages (${backend})`, () => {
    beforeAll(() => onBackend(backend));

    it('is the identity with every range at zero, and leaks nothing', async () => {
      const x = testImages(3, 2);
      const y = await expectNoTensorLeak(
        () => augmentImages(x, new Rng(0), { rotation: 0, zoom: [1, 1], shift: 0 }),
        1,
      );
      expect(y.shape).toEqual([3, H, W, 2]);
      expect(same((await y.data()) as Float32Array, (await x.data()) as Float32Array)).toBe(true);
      tf.dispose([x, y]);
    });

    it('shift and pad-crop move each image by whole pixels within range, zero-filled', async () => {
      const x = testImages(16);
      const src = await x.data();
      for (const options of [{ shift: 3 }, { shift: 0, padCrop: 2 }]) {
        const y = await augmentImages(x, new Rng(1), { rotation: 0, zoom: [1, 1], ...options });
        const out = await y.data();
        const r = 'shift' in options && options.shift ? options.shift : 2;
        const found = new Set<string>();
        for (let i = 0; i < 16; i++) {
          const a = src.subarray(i * H * W, (i + 1) * H * W) as Float32Array;
          const b = out.subarray(i * H * W, (i + 1) * H * W) as Float32Array;
          let match: string | null = null;
          for (let dy = -r; dy <= r && match === null; dy++)
            for (let dx = -r; dx <= r && match === null; dx++)
              if (same(shifted(a, dx, dy), b)) match = `${dx},${dy}`;
          expect(match).not.toBeNull();
          found.add(match!);
        }
        expect(found.size).toBeGreaterThan(5); // the shifts vary
        y.dispose();
      }
      x.dispose();
    });

    it('horizontal flips mirror about half of the images', async () => {
      const x = testImages(40);
      const y = await augmentImages(x, new Rng(2), {
        rotation: 0,
        zoom: [1, 1],
        shift: 0,
        flip: 'horizontal',
      });
      const mirroredT = tf.reverse(x, 2);
      const mirrored = await mirroredT.data();
      const src = await x.data();
      const out = await y.data();
      let flips = 0;
      for (let i = 0; i < 40; i++) {
        const o = out.subarray(i * H * W, (i + 1) * H * W) as Float32Array;
        const isFlip = same(o, mirrored.subarray(i * H * W, (i + 1) * H * W) as Float32Array);
        expect(isFlip || same(o, src.subarray(i * H * W, (i + 1) * H * W) as Float32Array)).toBe(true);
        flips += isFlip ? 1 : 0;
      }
      expect(flips).toBeGreaterThan(10);
      expect(flips).toBeLessThan(30);
      tf.dispose([x, y, mirroredT]);
    });

    it('zoom enlarges a centred square by the drawn factor; rotation keeps its mass and centre', async () => {
      const n = 20;
      const size = 41;
      const v = new Float32Array(n * size * size);
      for (let i = 0; i < n; i++)
        for (let y = 15; y <= 25; y++) for (let x = 15; x <= 25; x++) v[(i * size + y) * size + x] = 1;
      const x = tf.tensor4d(v, [n, size, size, 1]);
      const zoomedT = await augmentImages(x, new Rng(3), { rotation: 0, zoom: [1.1, 1.3], shift: 0 });
      const rotatedT = await augmentImages(x, new Rng(3), { rotation: 30, zoom: [1, 1], shift: 0 });
      const zoomed = (await zoomedT.data()) as Float32Array;
      const rotated = (await rotatedT.data()) as Float32Array;
      for (let i = 0; i < n; i++) {
        const z = zoomed.subarray(i * size * size, (i + 1) * size * size);
        const mass = z.reduce((a, b) => a + b, 0);
        expect(mass / 121).toBeGreaterThan(1.1 ** 2 * 0.9);
        expect(mass / 121).toBeLessThan(1.3 ** 2 * 1.1);
        const r = rotated.subarray(i * size * size, (i + 1) * size * size);
        let m = 0;
        let cx = 0;
        let cy = 0;
        r.forEach((val, k) => {
          m += val;
          cx += val * (k % size);
          cy += val * Math.floor(k / size);
        });
        expect(Math.abs(m / 121 - 1)).toBeLessThan(0.05);
        expect(Math.abs(cx / m - 20)).toBeLessThan(0.05);
        expect(Math.abs(cy / m - 20)).toBeLessThan(0.05);
      }
      tf.dispose([x, zoomedT, rotatedT]);
    });

    it('same seed, same images; another seed, others', async () => {
      const x = testImages(4);
      const a = await augmentImages(x, new Rng(9));
      const b = await augmentImages(x, new Rng(9));
      const c = await augmentImages(x, new Rng(10));
      expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
      expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
      tf.dispose([x, a, b, c]);
    });
  });
}

describe('augmentImages vs tf.image.transform (wasm)', () => {
  beforeAll(() => onBackend('wasm'));

  it('resamples exactly like the wasm Transform kernel for the same affine maps', async () => {
    const x = testImages(6);
    const ours = await augmentImages(x, new Rng(5), DEFAULT_AUGMENT_OPTIONS);
    const rng = new Rng(5);
    const params = new Float32Array(6 * 8);
    for (let i = 0; i < 6; i++)
      params.set(drawInverseAffine({ ...DEFAULT_AUGMENT_OPTIONS }, rng, H, W), i * 8);
    const ref = tf.tidy(() => tf.image.transform(x, tf.tensor2d(params, [6, 8]), 'bilinear', 'constant', 0));
    const diff = (await tf.max(tf.abs(tf.sub(ours, ref))).data())[0] as number;
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, ours, ref]);
  });
});

describe('augmentBatch in a DataLoader', () => {
  beforeAll(() => onBackend('cpu'));

  it('augments the images only, reproducibly per (seed, epoch, batch), without leaks', async () => {
    const x = testImages(10);
    const y = tf.range(0, 10, 1, 'int32');
    const ds = new TensorDataset([x, y]);
    const run = async (): Promise<number[]> => {
      const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 1, transform: augmentBatch() });
      const sums: number[] = [];
      const before = tf.memory().numTensors;
      for await (const [imgs, labels] of loader) {
        expect(imgs!.shape).toEqual([imgs!.shape[0], H, W, 1]);
        expect(labels!.dtype).toBe('int32');
        const total = tf.sum(imgs!);
        sums.push((await total.data())[0] as number);
        tf.dispose([imgs!, labels!, total]);
      }
      expect(tf.memory().numTensors).toBe(before);
      return sums;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    tf.dispose([x, y]);
  });

  it('bad input is a named error', async () => {
    expect(() => augmentBatch({ rotation: -1 })).toThrow(ConfigError);
    expect(() => augmentBatch({ rotation: -1 })).toThrow(
      'augmentImages: rotation must be in [0, 180] degrees, got -1',
    );
    expect(() => augmentBatch({ shift: 1.5 })).toThrow(
      'augmentImages: shift must be an integer ≥ 0, got 1.5',
    );
    expect(() => augmentBatch({ zoom: [1.2, 1] })).toThrow(
      'augmentImages: zoom must be [lo, hi] with 0 < lo ≤ hi, got [1.2,1]',
    );
    const flat = tf.zeros([2, 28, 28]);
    await expect(augmentImages(flat, new Rng(0))).rejects.toThrow(ShapeError);
    await expect(augmentImages(flat, new Rng(0))).rejects.toThrow(
      'augmentImages: images must be [N, H, W, C], got [2, 28, 28]',
    );
    flat.dispose();
  });
});
