import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { Adam, ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf, weightsOf } from '../test/helpers.js';
import { Accuracy } from './accuracy.js';
import type { Callback, FitContext } from './callback.js';
import { listCheckpoints, readCheckpoint } from './checkpoint-dir.js';
import type { RunnerCheckpointState } from './runner-checkpoint.js';
import { EarlyStopping } from './early-stopping.js';
import { ModelCheckpoint } from './model-checkpoint.js';
import { Runner } from './runner.js';

let dir: string;
let train: ReturnType<typeof blobs>;
let val: ReturnType<typeof blobs>;

beforeAll(async () => {
  await onBackend('cpu');
  train = blobs(48, 1); // 6 batches of 8
  val = blobs(15, 5);
});
afterAll(() => tf.dispose([train.x, train.y, val.x, val.y]));
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ml-mc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

class Snapshots implements Callback {
  readonly byEpoch: Record<string, number[]>[] = [];
  async onEpochEnd(ctx: FitContext): Promise<void> {
    this.byEpoch.push(await weightsOf(ctx.model));
  }
}

describe('ModelCheckpoint', () => {
  it('writes every N epochs, keeps the newest keepLast, and stores the full training state', async () => {
    const model = new TinyMlp({ seed: 0, dropout: 0.1 });
    const mc = new ModelCheckpoint({ dir, everyEpochs: 2, keepLast: 2 });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.01 }),
      loss: ceLoss,
      metrics: [new Accuracy()],
      callbacks: [new EarlyStopping({ monitor: 'loss', patience: 50 }), mc],
      seed: 4,
    });
    await runner.fit(loaderOf(train.x, train.y), { epochs: 6 });
    const list = await listCheckpoints(dir);
    expect(list.map((c) => [c.epoch, c.step, c.tags])).toEqual([
      [4, 24, []],
      [6, 36, ['latest']],
    ]);
    expect(mc.lastSaved).toBe(list[1]?.name);
    const ckpt = await readCheckpoint<RunnerCheckpointState>(dir);
    expect(ckpt.state.position).toEqual({ epoch: 6, batch: 0, step: 36 });
    expect(Object.keys(ckpt.state.rng.model)).toEqual(['drop.rng']);
    expect(ckpt.state.history.epochs).toHaveLength(6);
    expect(ckpt.state.optimizer.type).toBe('Adam');
    expect(Object.keys(ckpt.tensors.optimizer ?? {}).sort()).toContain('exp_avg.fc1.weight');
    expect(Object.keys(ckpt.tensors.callbacks ?? {})).toContain('EarlyStopping_0.fc1.weight'); // its best-weights copy
    expect(await weightsOf(model)).toEqual(
      Object.fromEntries(
        await Promise.all(
          Object.entries(ckpt.tensors.model ?? {}).map(async ([k, t]) => [k, Array.from(await t.data())]),
        ),
      ),
    );
    for (const group of Object.values(ckpt.tensors)) tf.dispose(Object.values(group));
  });

  it('tracks the best monitored value (the best model on the dev set) and loadWeights restores it', async () => {
    const model = new TinyMlp({ seed: 0 });
    const snapshots = new Snapshots();
    const mc = new ModelCheckpoint({ dir, monitor: 'val_loss' });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.05 }),
      loss: ceLoss,
      callbacks: [snapshots, mc],
    });
    const { history } = await runner.fit(loaderOf(train.x, train.y), {
      epochs: 4,
      valLoader: loaderOf(val.x, val.y),
    });
    const losses = history.epochs.map((r) => r.val_loss as number);
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1;
    expect(mc.best.epoch).toBe(bestEpoch);
    expect(mc.bestSaved).not.toBeNull();
    const fresh = new TinyMlp({ seed: 9 });
    const loaded = await new Runner({ model: fresh }).loadWeights(dir, 'best');
    expect(loaded.epoch).toBe(bestEpoch);
    expect(await weightsOf(fresh)).toEqual(snapshots.byEpoch[bestEpoch - 1]);
  });

  it('writes mid-epoch checkpoints every N steps', async () => {
    const model = new TinyMlp({ seed: 0 });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.01 }),
      loss: ceLoss,
      callbacks: [new ModelCheckpoint({ dir, everySteps: 4, keepLast: 10 })],
    });
    await runner.fit(loaderOf(train.x, train.y), { epochs: 2 });
    const ckpt = await readCheckpoint<RunnerCheckpointState>(dir, (await listCheckpoints(dir))[0]?.name);
    expect(ckpt.state.position).toEqual({ epoch: 0, batch: 4, step: 4 });
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([4, 8, 12]);
    for (const group of Object.values(ckpt.tensors)) tf.dispose(Object.values(group));
  });

  it('does not write a step checkpoint on the last batch of an epoch that gets an epoch checkpoint', async () => {
    const model = new TinyMlp({ seed: 0 });
    const runner = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.01 }),
      loss: ceLoss,
      callbacks: [new ModelCheckpoint({ dir, everySteps: 3, everyEpochs: 1, keepLast: 10 })],
    });
    await runner.fit(loaderOf(train.x, train.y), { epochs: 2 });
    // steps 3 and 9 mid-epoch; 6 and 12 are epoch ends (position: next epoch, batch 0).
    expect((await listCheckpoints(dir)).map((c) => [c.epoch, c.step])).toEqual([
      [0, 3],
      [1, 6],
      [1, 9],
      [2, 12],
    ]);
    const ckpt = await readCheckpoint<RunnerCheckpointState>(dir);
    expect(ckpt.state.position).toEqual({ epoch: 2, batch: 0, step: 12 });
    for (const group of Object.values(ckpt.tensors)) tf.dispose(Object.values(group));
  });

  it('rejects bad options', () => {
    expect(() => new ModelCheckpoint({ dir: '' })).toThrow(ConfigError);
    expect(() => new ModelCheckpoint({ dir: '' })).toThrow(
      'ModelCheckpoint: dir must be a non-empty path, got ',
    );
    expect(() => new ModelCheckpoint({ dir, everyEpochs: 0 })).toThrow(
      'ModelCheckpoint: everyEpochs must be a positive integer, got 0',
    );
    expect(() => new ModelCheckpoint({ dir, keepLast: -1 })).toThrow(
      'ModelCheckpoint: keepLast must be a positive integer, got -1',
    );
  });
});
