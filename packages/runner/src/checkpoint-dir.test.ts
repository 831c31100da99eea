import { mkdtemp, readFile, readdir, rm, truncate, writeFile, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { CheckpointError, ConfigError } from '@ml/core';
import { expectNoTensorLeak, onBackend } from '@ml/core/testing';

import {
  MANIFEST_FILE,
  hasCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint-dir.js';

let dir: string;

beforeAll(() => onBackend('cpu'));
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ml-ckpt-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function save(
  value: number,
  step: number,
  options: { tags?: ('latest' | 'best')[]; keepLast?: number } = {},
): Promise<string> {
  const w = tf.fill([2, 3], value);
  try {
    return await writeCheckpoint(
      dir,
      { tensors: { model: { w }, optimizer: {} }, state: { value, loss: NaN } },
      { epoch: step, step, ...options },
    );
  } finally {
    w.dispose();
  }
}

describe('checkpoint directories', () => {
  it('round-trips tensors and JSON state (NaN included) and moves the latest pointer', async () => {
    expect(await hasCheckpoint(dir)).toBe(false);
    const first = await save(1, 10);
    const second = await save(2, 20);
    expect(await hasCheckpoint(dir)).toBe(true);
    expect((await readFile(join(dir, 'latest'), 'utf8')).trim()).toBe(second);
    const ckpt = await expectNoTensorLeak(() => readCheckpoint<{ value: number; loss: number }>(dir), 1);
    expect(ckpt.name).toBe(second);
    expect(ckpt.step).toBe(20);
    expect(ckpt.state.value).toBe(2);
    expect(ckpt.state.loss).toBeNaN();
    expect(Array.from(await (ckpt.tensors.model?.w as tf.Tensor).data())).toEqual([2, 2, 2, 2, 2, 2]);
    expect(ckpt.tensors.optimizer).toEqual({});
    tf.dispose(Object.values(ckpt.tensors.model ?? {}));
    const older = await readCheckpoint<{ value: number }>(dir, first);
    expect(older.state.value).toBe(1);
    tf.dispose(Object.values(older.tensors.model ?? {}));
  });

  it('keeps the newest keepLast checkpoints plus the one `best` names', async () => {
    await save(1, 1, { tags: ['latest', 'best'], keepLast: 2 });
    for (let s = 2; s <= 5; s++) await save(s, s, { keepLast: 2 });
    const left = await listCheckpoints(dir);
    expect(left.map((c) => [c.step, c.tags])).toEqual([
      [1, ['best']],
      [4, []],
      [5, ['latest']],
    ]);
  });

  it('a truncated file is a CheckpointError and creates no tensors', async () => {
    const name = await save(3, 30);
    const file = join(dir, name, 'model.safetensors');
    await truncate(file, 20);
    await expectNoTensorLeak(async () => {
      await expect(readCheckpoint(dir)).rejects.toThrow(CheckpointError);
      await expect(readCheckpoint(dir)).rejects.toThrow(
        /model\.safetensors is 20 bytes, the manifest says \d+; the file is truncated or from another checkpoint/,
      );
    });
  });

  it('a file swapped in from another checkpoint (same size) is a CheckpointError', async () => {
    const a = await save(1, 1);
    const b = await save(2, 2);
    await copyFile(join(dir, a, 'model.safetensors'), join(dir, b, 'model.safetensors'));
    await expect(readCheckpoint(dir)).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(dir)).rejects.toThrow(
      /model\.safetensors does not match the SHA-256 in the manifest; the file is corrupt or from another checkpoint/,
    );
  });

  it('a truncated manifest, a missing pointer or a pointer to nowhere is a CheckpointError', async () => {
    await expect(readCheckpoint(dir)).rejects.toThrow(
      `readCheckpoint: ${dir} has no 'latest' pointer, so there is no checkpoint to read`,
    );
    const name = await save(1, 1);
    const manifest = join(dir, name, MANIFEST_FILE);
    await writeFile(manifest, (await readFile(manifest, 'utf8')).slice(0, 30));
    await expect(readCheckpoint(dir)).rejects.toThrow(
      /trainer\.json is not valid JSON .*; the file is truncated or corrupt/,
    );
    await writeFile(join(dir, 'best'), 'e0001-s00000001-zzzzzz\n');
    await expect(readCheckpoint(dir, 'best')).rejects.toThrow(CheckpointError);
    await expect(readCheckpoint(dir, 'best')).rejects.toThrow(
      /cannot read .*e0001-s00000001-zzzzzz\/trainer\.json/,
    );
  });

  it('a write that fails leaves the previous checkpoint and its pointer untouched', async () => {
    const good = await save(1, 1);
    const bad = tf.tensor1d(['a', 'b']); // safetensors cannot hold strings: the write fails midway
    await expect(
      writeCheckpoint(dir, { tensors: { model: { bad } }, state: {} }, { epoch: 2, step: 2 }),
    ).rejects.toThrow(CheckpointError);
    bad.dispose();
    expect((await readFile(join(dir, 'latest'), 'utf8')).trim()).toBe(good);
    expect((await readdir(dir)).filter((e) => e.startsWith('.tmp'))).toEqual([]);
    const ckpt = await readCheckpoint<{ value: number }>(dir);
    expect(ckpt.state.value).toBe(1);
    tf.dispose(Object.values(ckpt.tensors.model ?? {}));
  });

  it('removes temp directories left by writers that died', async () => {
    await mkdir(join(dir, '.tmp-999999999-e0001-s00000001-abcdef'));
    await save(1, 1);
    expect((await readdir(dir)).filter((e) => e.startsWith('.tmp'))).toEqual([]);
  });

  it('rejects bad options with ConfigError', async () => {
    await expect(writeCheckpoint(dir, { tensors: {}, state: {} }, { epoch: -1, step: 0 })).rejects.toThrow(
      ConfigError,
    );
    await expect(
      writeCheckpoint(dir, { tensors: {}, state: {} }, { epoch: 0, step: 0, keepLast: 0 }),
    ).rejects.toThrow('writeCheckpoint: keepLast must be a positive integer, got 0');
    await expect(
      writeCheckpoint(dir, { tensors: { 'a/b': {} }, state: {} }, { epoch: 0, step: 0 }),
    ).rejects.toThrow("writeCheckpoint: tensor group names must match /^[A-Za-z0-9_-]+$/, got 'a/b'");
  });
});
