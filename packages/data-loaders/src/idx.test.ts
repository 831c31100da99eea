import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';

import { DataError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { encodeIdx, idxToTensor, readIdx, readIdxFile, type IdxArray } from './idx.js';

const samples: IdxArray[] = [
  { dtype: 'uint8', shape: [2, 3, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) },
  { dtype: 'int8', shape: [4], data: Int8Array.of(-128, -1, 0, 127) },
  { dtype: 'int16', shape: [2, 2], data: Int16Array.of(-32768, -2, 300, 32767) },
  { dtype: 'int32', shape: [3], data: Int32Array.of(-(2 ** 31), 70000, 2 ** 31 - 1) },
  { dtype: 'float32', shape: [1, 3], data: Float32Array.of(-1.5, 0, 3.25) },
  { dtype: 'float64', shape: [2], data: Float64Array.of(Math.PI, -1e300) },
];

describe('IDX reader', () => {
  beforeAll(() => onBackend('cpu'));

  it('round-trips every element type, plain and gzipped', () => {
    for (const s of samples) {
      for (const gzip of [false, true]) {
        const back = readIdx(encodeIdx(s, { gzip }), { name: `${s.dtype}.idx` });
        expect(back.dtype).toBe(s.dtype);
        expect(back.shape).toEqual(s.shape);
        expect(Array.from(back.data)).toEqual(Array.from(s.data));
      }
    }
  });

  it('reads the big-endian layout byte for byte', () => {
    const bytes = Uint8Array.of(0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe);
    expect(readIdx(bytes)).toEqual({ dtype: 'int32', shape: [2], data: Int32Array.of(256, -2) });
  });

  it('reads files (with .gz) and makes tensors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idx-'));
    const path = join(dir, 'x-idx3-ubyte.gz');
    await writeFile(path, encodeIdx(samples[0]!, { gzip: true }));
    const arr = await readIdxFile(path);
    const t = idxToTensor(arr, { scale: 1 / 255 });
    expect(t.shape).toEqual([2, 3, 2]);
    expect(t.dtype).toBe('float32');
    expect((await t.data())[11]).toBeCloseTo(220 / 255, 6);
    const ti = idxToTensor(samples[3]!);
    expect(ti.dtype).toBe('int32');
    expect(Array.from(await ti.data())).toEqual([-(2 ** 31), 70000, 2 ** 31 - 1]);
    tf.dispose([t, ti]);
    await expect(readIdxFile(join(dir, 'missing'))).rejects.toThrow(
      `readIdxFile: cannot read ${join(dir, 'missing')}`,
    );
  });

  it('truncated data names the file and the byte offset', () => {
    const full = encodeIdx(samples[0]!);
    expect(() => readIdx(full.subarray(0, 20), { name: 'train-images' })).toThrow(DataError);
    expect(() => readIdx(full.subarray(0, 20), { name: 'train-images' })).toThrow(
      'readIdx: train-images is truncated at byte offset 20: dims [2, 3, 2] of uint8 need 12 data bytes after the 16-byte header (up to byte offset 28), found 4',
    );
    expect(() => readIdx(full.subarray(0, 9), { name: 'f' })).toThrow(
      'readIdx: f is truncated at byte offset 9: its header of 3 dims needs 16 bytes',
    );
    expect(() => readIdx(full.subarray(0, 2), { name: 'f' })).toThrow(
      'readIdx: f is truncated at byte offset 2: the 4-byte magic number needs bytes 0–3',
    );
  });

  it('a wrong magic number is a DataError', () => {
    const bad = Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0);
    expect(() => readIdx(bad, { name: 'a.zip' })).toThrow(
      'readIdx: a.zip has a wrong magic number 0x504b0304 at byte offset 0: expected 0x0000TTNN',
    );
    expect(() => readIdx(Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 0), { name: 'b' })).toThrow(
      'wrong magic number 0x00000a01',
    );
  });

  it('dims that disagree with the file size are a DataError', () => {
    const extra = new Uint8Array([...encodeIdx(samples[1]!), 9, 9]);
    expect(() => readIdx(extra, { name: 'labels' })).toThrow(
      'readIdx: labels has 2 bytes after the data end at byte offset 12: dims [4] of int8 disagree with the file size (14 bytes)',
    );
    const huge = Uint8Array.of(0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1);
    expect(() => readIdx(huge, { name: 'h' })).toThrow('readIdx: h is truncated at byte offset 13');
  });

  it('broken gzip is a DataError', () => {
    const gz = gzipSync(encodeIdx(samples[0]!));
    expect(() => readIdx(gz.subarray(0, gz.length - 12), { name: 'x.gz' })).toThrow(
      'readIdx: x.gz is not valid gzip data',
    );
  });

  it('property: random bytes (raw or behind a gzip magic) return data or throw DataError, quickly', () => {
    const idxLike = fc
      .tuple(
        fc.constantFrom(8, 9, 11, 12, 13, 14),
        fc.integer({ min: 0, max: 4 }),
        fc.uint8Array({ maxLength: 64 }),
      )
      .map(([code, rank, rest]) => Uint8Array.from([0, 0, code, rank, ...rest]));
    const gzLike = fc
      .uint8Array({ maxLength: 256 })
      .map((rest) => Uint8Array.from([0x1f, 0x8b, 8, 0, ...rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), idxLike, gzLike), (bytes) => {
        try {
          const out = readIdx(bytes);
          expect(out.data.length).toBe(out.shape.reduce((a, b) => a * b, 1));
        } catch (e) {
          expect(e).toBeInstanceOf(DataError);
        }
      }),
      { numRuns: 2000, seed: 42 },
    );
  });
});
