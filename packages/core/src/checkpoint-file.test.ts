import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { loadModule, loadSafetensorsFile, saveModule, saveSafetensorsFile } from './checkpoint-file.js';
import { CheckpointError, ConfigError } from './errors.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';
import { Sequential } from './sequential.js';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from './testing/index.js';

let dir: string;
beforeAll(async () => {
  await onBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'ml-core-checkpoint-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A safetensors file by hand: header length (or `claimedLength`), header JSON text, data bytes. */
function handMade(header: unknown, data: Uint8Array = new Uint8Array(0), claimedLength?: number): Uint8Array {
  const text = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + text.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(claimedLength ?? text.byteLength), true);
  out.set(text, 8);
  out.set(data, 8 + text.byteLength);
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const tempFiles = async () => (await readdir(dir)).filter((f) => f.includes('.tmp-'));

describe('saveSafetensorsFile / loadSafetensorsFile', () => {
  test('round-trips f32, f16 (half), i32 and bool tensors with metadata', async () => {
    const tensors = {
      w: tf.tensor2d([
        [0.1, -2.5],
        [3, 1e-3],
      ]),
      ids: tf.tensor1d([1, -7, 123456789], 'int32'),
      mask: tf.tensor2d([[true], [false]], [2, 1], 'bool'),
    };
    const path = join(dir, 'round-trip.safetensors');
    await saveSafetensorsFile(path, tensors, { metadata: { epoch: '4', config: '{"dim":16}' } });
    const loaded = await expectNoTensorLeak(() => loadSafetensorsFile(path), 3);
    expect(loaded.metadata).toEqual({ epoch: '4', config: '{"dim":16}' });
    expect(loaded.tensors.ids?.dtype).toBe('int32');
    expect(loaded.tensors.mask?.dtype).toBe('bool');
    expectTensorsClose(loaded.tensors.w as tf.Tensor, tensors.w, 0);
    expect(Array.from(await (loaded.tensors.ids as tf.Tensor).data())).toEqual([1, -7, 123456789]);
    expect(Array.from(await (loaded.tensors.mask as tf.Tensor).data())).toEqual([1, 0]);

    const halfPath = join(dir, 'half.safetensors');
    await saveSafetensorsFile(halfPath, tensors, { half: true });
    const half = await loadSafetensorsFile(halfPath);
    expect(half.tensors.w?.dtype).toBe('float32');
    expectTensorsClose(half.tensors.w as tf.Tensor, tensors.w, { atol: 0, rtol: 2 ** -11 });
    expect(Array.from(await (half.tensors.ids as tf.Tensor).data())).toEqual([1, -7, 123456789]);
    // F16 halves the float data: 4 floats × 2 bytes fewer.
    expect((await readFile(path)).byteLength - (await readFile(halfPath)).byteLength).toBeGreaterThanOrEqual(
      8,
    );
    tf.dispose([...Object.values(tensors), ...Object.values(loaded.tensors), ...Object.values(half.tensors)]);
    expect(await tempFiles()).toEqual([]);
  });

  test('overwrites an existing file in one rename and leaves no temporary file', async () => {
    const path = join(dir, 'overwrite.safetensors');
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([4, 5]);
    await saveSafetensorsFile(path, { x: a });
    await saveSafetensorsFile(path, { x: b });
    const loaded = await loadSafetensorsFile(path);
    expect(Array.from(await (loaded.tensors.x as tf.Tensor).data())).toEqual([4, 5]);
    expect(await tempFiles()).toEqual([]);
    tf.dispose([a, b, ...Object.values(loaded.tensors)]);
  });

  test('a failed save leaves the previous file intact and no temporary file behind', async () => {
    const path = join(dir, 'keep.safetensors');
    const good = tf.tensor1d([1, 2]);
    await saveSafetensorsFile(path, { x: good });
    const before = await readFile(path);
    // Failure while encoding (before anything is written).
    const c = tf.complex([1], [1]);
    const e1 = await errorOf(saveSafetensorsFile(path, { x: c }));
    expect(e1).toBeInstanceOf(CheckpointError);
    expect(e1.message).toBe(
      "encodeSafetensors: tensor 'x' has dtype complex64, which safetensors cannot hold",
    );
    // Failure at the rename, after the temporary file was written: the target is a directory.
    const target = join(dir, 'a-directory');
    await mkdir(join(target, 'inside'), { recursive: true });
    const e2 = await errorOf(saveSafetensorsFile(target, { x: good }));
    expect(e2).toBeInstanceOf(CheckpointError);
    expect(e2.message).toMatch(
      new RegExp(
        `^saveSafetensorsFile: cannot write '${target}' \\((EISDIR|ENOTEMPTY|EEXIST|EPERM)[^)]*\\); any previous file there is unchanged$`,
      ),
    );
    // Failure at open: the folder does not exist.
    const missing = join(dir, 'no-such-dir', 'x.safetensors');
    const e3 = await errorOf(saveSafetensorsFile(missing, { x: good }));
    expect(e3).toBeInstanceOf(CheckpointError);
    expect(e3.message.startsWith(`saveSafetensorsFile: cannot write '${missing}' (ENOENT`)).toBe(true);
    expect(await readFile(path)).toEqual(before);
    expect(await tempFiles()).toEqual([]);
    tf.dispose([good, c]);
  });

  test('bad arguments are ConfigErrors', async () => {
    const x = tf.scalar(1);
    expect(await errorOf(saveSafetensorsFile('', { x }))).toEqual(
      new ConfigError('saveSafetensorsFile: path must be a non-empty string, got '),
    );
    const e = await errorOf(
      saveSafetensorsFile(join(dir, 'm.safetensors'), { x }, { metadata: { epoch: 3 as unknown as string } }),
    );
    expect(e).toEqual(new ConfigError("saveSafetensorsFile: metadata['epoch'] must be a string, got number"));
    x.dispose();
  });
});

describe('corrupt files are CheckpointErrors that say what is wrong', () => {
  const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
  const entry = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

  async function loadError(name: string, bytes: Uint8Array): Promise<{ path: string; error: Error }> {
    const path = join(dir, name);
    await writeFile(path, bytes);
    const before = tf.memory().numTensors;
    const error = await errorOf(loadSafetensorsFile(path));
    expect(tf.memory().numTensors).toBe(before);
    expect(error).toBeInstanceOf(CheckpointError);
    return { path, error };
  }

  test('a truncated file', async () => {
    const path0 = join(dir, 'whole.safetensors');
    const t = tf.tensor1d([1, 2, 3, 4]);
    await saveSafetensorsFile(path0, { x: t });
    t.dispose();
    const whole = await readFile(path0);
    const { path, error } = await loadError('truncated.safetensors', whole.subarray(0, whole.byteLength - 6));
    expect(error.message).toBe(
      `${path}: tensor 'x' has data_offsets [0,16] outside the 10-byte data section; the file is truncated or corrupt`,
    );
    const { path: p2, error: e2 } = await loadError('stub.safetensors', whole.subarray(0, 3));
    expect(e2.message).toBe(`${p2}: file is 3 bytes, shorter than the 8-byte header length`);
  });

  test('a header length beyond the file', async () => {
    const { path, error } = await loadError('long-header.safetensors', handMade(entry, f32([1, 2]), 1000));
    expect(error.message).toBe(
      `${path}: header length 1000 goes beyond the file (70 bytes); the file is truncated or not safetensors`,
    );
  });

  test('an unknown dtype', async () => {
    const { path, error } = await loadError(
      'dtype.safetensors',
      handMade({ x: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, f32([1])),
    );
    expect(error.message).toBe(
      `${path}: tensor 'x' has unknown dtype 'F8_E4M3' (supported: F32, F16, BF16, I32, F64, I64, U8, BOOL)`,
    );
  });

  test('an invalid JSON header', async () => {
    const { path, error } = await loadError('json.safetensors', handMade('{"x": {"dtype": ', f32([1])));
    expect(error.message.startsWith(`${path}: header is not valid JSON (`)).toBe(true);
  });

  test('offsets out of range', async () => {
    const { path, error } = await loadError(
      'offsets.safetensors',
      handMade({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, f32([1, 2])),
    );
    expect(error.message).toBe(
      `${path}: tensor 'x' has data_offsets [8,16] outside the 8-byte data section; the file is truncated or corrupt`,
    );
  });

  test('a missing file', async () => {
    const path = join(dir, 'nope.safetensors');
    const error = await errorOf(loadSafetensorsFile(path));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message.startsWith(`loadSafetensorsFile: cannot read '${path}' (ENOENT`)).toBe(true);
  });
});

describe('integrity: checksums, finiteness, half-precision dtypes', () => {
  test('a flipped byte in tensor data is a CheckpointError naming the tensor; nothing leaks', async () => {
    const a = new Sequential([
      new Linear({ inFeatures: 4, outFeatures: 3, seed: 1 }),
      new LayerNorm({ normalizedShape: 3 }),
    ]);
    const path = join(dir, 'flipped.safetensors');
    await saveModule(path, a);
    const bytes = await readFile(path);
    // The data section ends with the last tensor in key order, LayerNorm's weight (all ones).
    bytes[bytes.byteLength - 2] = (bytes[bytes.byteLength - 2] as number) ^ 0x10;
    await writeFile(path, bytes);
    const before = tf.memory().numTensors;
    const error = await errorOf(loadModule(path, a));
    expect(tf.memory().numTensors).toBe(before);
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(
      new RegExp(
        `^${path}: tensor '1\\.weight' fails its checksum \\(CRC-32 [0-9a-f]{8}, the header says [0-9a-f]{8}\\); its data is corrupt$`,
      ),
    );
    a.dispose();
  });

  test('a NaN or infinity in a float tensor is a CheckpointError naming it, unless allowNonFinite', async () => {
    const path = join(dir, 'nan.safetensors');
    const t = tf.tensor1d([1, NaN, 3]);
    const ok = tf.tensor1d([1, 2]);
    await saveSafetensorsFile(path, { ok, 'head.bias': t });
    const error = await errorOf(loadSafetensorsFile(path));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toBe(
      `${path}: tensor 'head.bias' holds NaN at flat index 1; trained weights are finite, so the file is corrupt or was saved from a diverged run (pass allowNonFinite to read it anyway)`,
    );
    const loaded = await loadSafetensorsFile(path, { allowNonFinite: true });
    expect(Array.from(await (loaded.tensors['head.bias'] as tf.Tensor).data())).toEqual([1, NaN, 3]);
    tf.dispose([t, ok, ...Object.values(loaded.tensors)]);
  });

  test('reads BF16 and F16 tensors written by PyTorch as float32 (torch.bfloat16/float16 → .float())', async () => {
    const url = new URL('../fixtures/half-dtypes.safetensors', import.meta.url);
    const { tensors, metadata } = await loadSafetensorsFile(url.pathname);
    expect(metadata.format).toBe('pt');
    const bf16 = tensors['w.bf16'] as tf.Tensor;
    const f16 = tensors['w.f16'] as tf.Tensor;
    expect(bf16.dtype).toBe('float32');
    expect(bf16.shape).toEqual([4, 4]);
    expect(f16.shape).toEqual([16]);
    expectTensorsClose(bf16, tensors['w.bf16.f32'] as tf.Tensor, 0);
    expectTensorsClose(f16, tensors['w.f16.f32'] as tf.Tensor, 0);
    tf.dispose(Object.values(tensors));
  });
});

describe('saveModule / loadModule', () => {
  const model = (seed: number) =>
    new Sequential([
      new Linear({ inFeatures: 4, outFeatures: 3, seed }),
      new LayerNorm({ normalizedShape: 3 }),
    ]);

  test('a module round-trips through a file, and loading leaks nothing', async () => {
    const a = model(1);
    const b = model(2);
    const path = join(dir, 'model.safetensors');
    await saveModule(path, a, { metadata: { step: '10' } });
    const result = await expectNoTensorLeak(() => loadModule(path, b));
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [], metadata: { step: '10' } });
    for (const [name, v] of a.namedParameters())
      expectTensorsClose(b.stateDict()[name] as tf.Tensor, v, { atol: 0, label: name });
    a.dispose();
    b.dispose();
  });

  test('a file that does not fit is a CheckpointError listing the keys (strict), or reported (non-strict)', async () => {
    const a = new Sequential([new Linear({ inFeatures: 4, outFeatures: 3 })]);
    const path = join(dir, 'small.safetensors');
    await saveModule(path, a);
    const b = model(3);
    const before = tf.memory().numTensors;
    const error = await errorOf(loadModule(path, b));
    expect(tf.memory().numTensors).toBe(before);
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toBe(
      `loadModule('${path}'): Sequential.loadStateDict: state dict does not fit the model (missing keys: 1.weight, 1.bias)`,
    );
    const result = await loadModule(path, b, { strict: false });
    expect(result.missingKeys).toEqual(['1.weight', '1.bias']);
    expectTensorsClose((b.layers[0] as Linear).weight, (a.layers[0] as Linear).weight, 0);
    a.dispose();
    b.dispose();
  });
});
