import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { crc32 } from './crc32.js';
import { CheckpointError } from './errors.js';
import {
  CHECKSUM_METADATA_KEY,
  decodeSafetensors,
  encodeRawSafetensors,
  encodeSafetensors,
  rawToTensors,
  type RawTensor,
} from './safetensors.js';
import { expectNoTensorLeak, onBackend } from './testing/index.js';

/** Builds a safetensors file by hand: 8-byte header length (or `claimedLength`), header text, data. */
function handMade(header: unknown, data: Uint8Array = new Uint8Array(0), claimedLength?: number): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(claimedLength ?? text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

/** The F16 bits `encodeRawSafetensors` writes for `value`. */
function halfBits(value: number): number {
  const bytes = encodeRawSafetensors(
    { x: { dtype: 'F32', shape: [1], data: new Float32Array([value]) } },
    { half: true },
  );
  return new DataView(bytes.buffer).getUint16(bytes.byteLength - 2, true);
}

beforeAll(() => onBackend('cpu'));

describe('checksums', () => {
  test('CRC-32 is the standard one (zlib/PNG): "123456789" → cbf43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe('cbf43926');
    expect(crc32(new Uint8Array(0))).toBe('00000000');
  });

  test('each tensor gets a checksum in the metadata, verified and left out of the metadata on read', () => {
    const bytes = encodeRawSafetensors(
      { a: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } },
      { metadata: { epoch: '3' } },
    );
    const header = JSON.parse(
      new TextDecoder().decode(
        bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
      ),
    ) as { __metadata__: Record<string, string> };
    expect(JSON.parse(header.__metadata__[CHECKSUM_METADATA_KEY] as string)).toEqual({
      a: crc32(f32Bytes([1, 2])),
    });
    expect(decodeSafetensors(bytes).metadata).toEqual({ epoch: '3' });
    const flipped = bytes.slice();
    flipped[flipped.byteLength - 1]! ^= 1;
    expect(() => decodeSafetensors(flipped, 'f.st')).toThrow(
      new CheckpointError(
        `f.st: tensor 'a' fails its checksum (CRC-32 ${crc32(flipped.subarray(flipped.byteLength - 8))}, the header says ${crc32(f32Bytes([1, 2]))}); its data is corrupt`,
      ),
    );
    expect(() => encodeRawSafetensors({}, { metadata: { [CHECKSUM_METADATA_KEY]: '{}' } })).toThrow(
      `encodeSafetensors: metadata key '${CHECKSUM_METADATA_KEY}' is reserved for @ml's tensor checksums`,
    );
  });
});

describe('encode / decode', () => {
  test('tensors round-trip with dtypes, shapes and metadata; keys are sorted, data 8-byte aligned', async () => {
    const tensors = {
      'b.weight': tf.tensor2d([
        [1.5, -2],
        [3.25, 4],
      ]),
      'a.ids': tf.tensor1d([7, -3, 2 ** 30], 'int32'),
      mask: tf.tensor1d([true, false, true], 'bool'),
      scalar: tf.scalar(0.1),
      empty: tf.zeros([0, 3]),
    };
    const bytes = await encodeSafetensors(tensors, { metadata: { epoch: '3', note: 'ünïcödé' } });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLen) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
      string,
      unknown
    >;
    expect(Object.keys(header)).toEqual(['__metadata__', 'a.ids', 'b.weight', 'empty', 'mask', 'scalar']);
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ epoch: '3', note: 'ünïcödé' });
    expect(decoded.tensors['b.weight']).toEqual({
      dtype: 'F32',
      shape: [2, 2],
      data: new Float32Array([1.5, -2, 3.25, 4]),
    });
    expect(decoded.tensors['a.ids']).toEqual({
      dtype: 'I32',
      shape: [3],
      data: new Int32Array([7, -3, 2 ** 30]),
    });
    expect(decoded.tensors.mask).toEqual({ dtype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) });
    expect(decoded.tensors.scalar?.shape).toEqual([]);
    expect(decoded.tensors.empty?.shape).toEqual([0, 3]);
    const back = await expectNoTensorLeak(() => rawToTensors(decoded.tensors), 5);
    expect(back.mask?.dtype).toBe('bool');
    expect(back['a.ids']?.dtype).toBe('int32');
    expect(await back.scalar?.data()).toEqual(new Float32Array([0.1]));
    tf.dispose([...Object.values(tensors), ...Object.values(back)]);
  });

  test('a non-ASCII tensor name keeps the data section aligned (padding counts UTF-8 bytes)', () => {
    const bytes = encodeRawSafetensors({
      'gewicht.größe': { dtype: 'F32', shape: [1], data: new Float32Array([1]) },
    });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    expect(decodeSafetensors(bytes).tensors['gewicht.größe']?.data).toEqual(new Float32Array([1]));
  });

  test('F16 uses round-to-nearest-even, including subnormals, and reads back exactly', () => {
    expect(halfBits(1)).toBe(0x3c00);
    expect(halfBits(-2)).toBe(0xc000);
    expect(halfBits(65504)).toBe(0x7bff); // largest half
    expect(halfBits(65520)).toBe(0x7c00); // rounds up to +inf
    expect(halfBits(Infinity)).toBe(0x7c00);
    expect(halfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(halfBits(NaN) & 0x3ff).not.toBe(0);
    expect(halfBits(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(halfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(halfBits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(halfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(halfBits(2 ** -25)).toBe(0x0000); // tie → even (zero)
    expect(halfBits(3 * 2 ** -25)).toBe(0x0002); // tie → even (up)
    expect(halfBits(0.75 * 2 ** -24)).toBe(0x0001);
    expect(halfBits(-(2 ** -30))).toBe(0x8000);
    const values = [1, -2, 0.5, 2 ** -24, 3 * 2 ** -24, 65504, -0.0999755859375];
    const bytes = encodeRawSafetensors(
      { h: { dtype: 'F32', shape: [values.length], data: new Float32Array(values) } },
      { half: true },
    );
    const t = decodeSafetensors(bytes).tensors.h as RawTensor;
    expect(t.dtype).toBe('F16');
    expect(Array.from(t.data)).toEqual(values);
  });

  test('F64, I64 and U8 files are read (narrowed to F32/I32) and re-encode as valid F32/I32 files', () => {
    const data = new Uint8Array(8 + 8 + 2);
    const dv = new DataView(data.buffer);
    dv.setFloat64(0, 0.25, true);
    dv.setBigInt64(8, -5n, true);
    data.set([200, 7], 16);
    const bytes = handMade(
      {
        d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
        l: { dtype: 'I64', shape: [1], data_offsets: [8, 16] },
        u: { dtype: 'U8', shape: [2], data_offsets: [16, 18] },
      },
      data,
    );
    const decoded = decodeSafetensors(bytes);
    expect(decoded.tensors.d).toEqual({ dtype: 'F64', shape: [1], data: new Float32Array([0.25]) });
    expect(decoded.tensors.l).toEqual({ dtype: 'I64', shape: [1], data: new Int32Array([-5]) });
    expect(decoded.tensors.u).toEqual({ dtype: 'U8', shape: [2], data: new Uint8Array([200, 7]) });
    const again = decodeSafetensors(encodeRawSafetensors(decoded.tensors));
    expect(again.tensors.d).toEqual({ dtype: 'F32', shape: [1], data: new Float32Array([0.25]) });
    expect(again.tensors.l).toEqual({ dtype: 'I32', shape: [1], data: new Int32Array([-5]) });
  });

  test('reads the files PyTorch fixtures write', async () => {
    const { readFile } = await import('node:fs/promises');
    const bytes = new Uint8Array(
      await readFile(new URL('../fixtures/optim-sgd.safetensors', import.meta.url)),
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(tensors['init.weight']?.shape).toEqual([3, 4]);
    expect(JSON.parse(metadata.options as string)).toEqual({ type: 'SGD', lr: 0.1 });
  });

  test('encoding errors are CheckpointErrors', async () => {
    expect(() =>
      encodeRawSafetensors({ x: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } }),
    ).toThrow(new CheckpointError("encodeSafetensors: tensor 'x' has 3 values, but its shape [2,2] needs 4"));
    expect(() =>
      encodeRawSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }),
    ).toThrow(
      new CheckpointError(
        "encodeSafetensors: a tensor may not be named '__metadata__' (the format reserves it)",
      ),
    );
    const c = tf.complex([1], [2]);
    await expect(encodeSafetensors({ c })).rejects.toThrow(
      new CheckpointError("encodeSafetensors: tensor 'c' has dtype complex64, which safetensors cannot hold"),
    );
    c.dispose();
  });
});

describe('decode errors name the file and what is wrong', () => {
  const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const cases: [string, Uint8Array, string][] = [
    [
      'shorter than 8 bytes',
      new Uint8Array(5),
      'f.st: file is 5 bytes, shorter than the 8-byte header length',
    ],
    [
      'a header length beyond the file',
      handMade(ok, f32Bytes([1, 2]), 4000),
      'f.st: header length 4000 goes beyond the file (70 bytes); the file is truncated or not safetensors',
    ],
    [
      'an absurd header length',
      handMade(ok, f32Bytes([1, 2]), 2 ** 60),
      `f.st: header length ${2 ** 60} goes beyond the file (70 bytes); the file is truncated or not safetensors`,
    ],
    [
      'truncated data',
      handMade(ok, f32Bytes([1])),
      "f.st: tensor 'x' has data_offsets [0,8] outside the 4-byte data section; the file is truncated or corrupt",
    ],
    [
      'invalid JSON',
      handMade('{"x": {"dtype": "F32",', new Uint8Array(0)),
      'f.st: header is not valid JSON (',
    ],
    ['a header that is not an object', handMade('[1, 2]'), 'f.st: header must be a JSON object'],
    [
      'an unknown dtype',
      handMade({ x: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' has unknown dtype 'Q7' (supported: F32, F16, BF16, I32, F64, I64, U8, BOOL)",
    ],
    [
      'an inherited-property dtype',
      handMade({ x: { dtype: 'toString', shape: [2], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' has unknown dtype 'toString'",
    ],
    [
      'offsets beyond the data',
      handMade({ x: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' has data_offsets [4,12] outside the 8-byte data section; the file is truncated or corrupt",
    ],
    [
      'negative offsets',
      handMade({ x: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' has data_offsets [-4,0] outside the 8-byte data section",
    ],
    [
      'reversed offsets',
      handMade({ x: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' has data_offsets [8,0] outside",
    ],
    [
      'a size that disagrees with the shape',
      handMade({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' holds 8 bytes, but F32 [3] needs 12",
    ],
    [
      'an invalid shape',
      handMade({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, f32Bytes([1, 2])),
      "f.st: tensor 'x' has an invalid shape [-2]",
    ],
    [
      'an entry that is not an object',
      handMade({ x: 5 }),
      "f.st: tensor 'x' must be described by an object with dtype, shape and data_offsets, got 5",
    ],
    [
      'metadata that is not strings',
      handMade({ __metadata__: { epoch: 3 } }),
      'f.st: __metadata__ must be an object of strings, got {"epoch":3}',
    ],
  ];
  for (const [what, bytes, message] of cases) {
    test(what, () => {
      let error: unknown;
      try {
        decodeSafetensors(bytes, 'f.st');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message.slice(0, message.length)).toBe(message);
    });
  }
});
