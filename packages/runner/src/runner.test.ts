import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import {
  Adam,
  CheckpointError,
  ConfigError,
  DataError,
  Linear,
  Module,
  Rng,
  SGD,
  StepLR,
  dropout,
} from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf, weightsOf } from '../test/helpers.js';
import { Accuracy } from './accuracy.js';
import type { Callback } from './callback.js';
import { CurvePlotter } from './curve-plotter.js';
import { EarlyStopping } from './early-stopping.js';
import { GradientClipping } from './gradient-clipping.js';
import { HistoryWriter } from './history-writer.js';
import { LrScheduler } from './lr-scheduler.js';
import { ModelCheckpoint } from './model-checkpoint.js';
import { ProgressBar } from './progress-bar.js';
import { listCheckpoints } from './checkpoint-dir.js';
import { Runner } from './runner.js';
import { TerminateOnNaN } from './terminate-on-nan.js';

let dir: string;
let train: ReturnType<typeof blobs>;
let val: ReturnType<typeof blobs>;

beforeAll(async () => {
  await onBackend('cpu');
  train = blobs(96, 1);
  val = blobs(30, 5);
});
afterAll(() => tf.dispose([train.x, train.y, val.x, val.y]));
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ml-runner-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function makeRunner(options: { seed?: number; dropout?: number; callbacks?: Callback[]; lr?: number } = {}): {
  model: TinyMlp;
  runner: Runner<TinyMlp>;
} {
  const model = new TinyMlp({ seed: 0, dropout: options.dropout ?? 0 });
  const runner = new Runner({
    model,
    optimizer: new Adam(model, { lr: options.lr ?? 0.01 }),
    loss: ceLoss,
    metrics: [new Accuracy()],
    callbacks: options.callbacks ?? [],
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  return { model, runner };
}

describe('Runner.fit', () => {
  it('trains a tiny model: the evaluation loss falls at least 5× and accuracy reaches 1', async () => {
    const { runner } = makeRunner({ dropout: 0.1, seed: 3 });
    const before = await runner.evaluate({ x: val.x, y: val.y });
    const { history, stopReason, epochs, steps } = await runner.fit(loaderOf(train.x, train.y), {
      epochs: 8,
      valLoader: loaderOf(val.x, val.y, { shuffle: false }),
      logEvery: 4,
    });
    const after = await runner.evaluate({ x: val.x, y: val.y });
    expect(before.loss as number).toBeGreaterThan(0.9); // ≈ ln 3 at the start
    expect((before.loss as number) / (after.loss as number)).toBeGreaterThanOrEqual(5);
    expect(after.accuracy).toBe(1);
    expect(stopReason).toBeNull();
    expect([epochs, steps]).toEqual([8, 96]);
    expect(history.epochs.map((r) => r.step)).toEqual([12, 24, 36, 48, 60, 72, 84, 96]);
    expect(history.steps).toHaveLength(24);
    expect(history.validations).toHaveLength(8);
    expect(history.epochs[7]?.val_loss).toBeCloseTo(after.loss as number, 5);
    expect(Object.keys(history.epochs[0] ?? {})).toEqual([
      'epoch',
      'step',
      'loss',
      'accuracy',
      'lr',
      'seconds',
      'val_loss',
      'val_accuracy',
    ]);
  });

  it('leaks no tensors over a 3-epoch fit with validation, metrics and every callback', async () => {
    const stream = {
      text: '',
      write(s: string) {
        this.text += s;
      },
    };
    const model = new TinyMlp({ seed: 0, dropout: 0.2 });
    const callbacks: Callback[] = [
      new EarlyStopping({ patience: 5 }),
      new ModelCheckpoint({ dir: join(dir, 'ckpt'), everySteps: 5, monitor: 'val_accuracy' }),
      new LrScheduler({ schedule: new StepLR({ lr: 0.1, stepSize: 10 }) }),
      new GradientClipping({ maxNorm: 1 }),
      new TerminateOnNaN(),
      new HistoryWriter({ dir }),
      new CurvePlotter({ path: join(dir, 'curves.svg') }),
      new ProgressBar({ stream }),
    ];
    const runner = new Runner({
      model,
      optimizer: new SGD(model, { lr: 0.1 }),
      loss: ceLoss,
      metrics: [new Accuracy()],
      callbacks,
      seed: 1,
    });
    await expectNoTensorLeak(() =>
      runner.fit(loaderOf(train.x, train.y), {
        epochs: 3,
        valLoader: loaderOf(val.x, val.y),
        evalEvery: 7,
        logEvery: 3,
      }),
    );
    expect(stream.text.split('\n').filter((l) => l.startsWith('epoch '))).toHaveLength(3);
    expect(await readFile(join(dir, 'curves.svg'), 'utf8')).toContain('data-series="val_loss"');
  });

  it('gives the same weights and history for the same seeds (dropout masks included)', async () => {
    const runs = [];
    for (let i = 0; i < 2; i++) {
      const { model, runner } = makeRunner({ dropout: 0.3, seed: 11 });
      const { history } = await runner.fit(loaderOf(train.x, train.y), { epochs: 2 });
      runs.push({ weights: await weightsOf(model), losses: history.epochs.map((r) => r.loss) });
      model.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    const { model: other, runner: r3 } = makeRunner({ dropout: 0.3, seed: 12 });
    await r3.fit(loaderOf(train.x, train.y), { epochs: 2 });
    expect(await weightsOf(other)).not.toEqual(runs[0]?.weights);
  });

  it('validates every evalEvery steps and after the last epoch', async () => {
    const { runner } = makeRunner();
    const { history } = await runner.fit(loaderOf(train.x, train.y), {
      epochs: 2,
      valLoader: loaderOf(val.x, val.y),
      evalEvery: 10,
    });
    expect(history.validations.map((r) => r.step)).toEqual([10, 20, 24]);
    expect('val_loss' in (history.epochs[0] ?? {})).toBe(false);
  });

  it('runs a custom step hook (seq2seq-style batches) with metric inputs it returns', async () => {
    const model = new Linear({ inFeatures: 4, outFeatures: 3, seed: 2 });
    type Batch = { features: tf.Tensor; label: tf.Tensor };
    const batches = (): Batch[] =>
      [0, 32, 64].map((start) => ({
        features: tf.slice(train.x, start, 32),
        label: tf.slice(train.y, start, 32),
      }));
    const runner = new Runner<Linear, Batch>({
      model,
      optimizer: new Adam(model, { lr: 0.05 }),
      metrics: [new Accuracy()],
      step: (batch, { model: m, training }) => {
        expect(typeof training).toBe('boolean');
        const logits = m.forward(batch.features); // [32, 3]
        return { loss: ceLoss(logits, batch.label), output: logits, target: batch.label };
      },
    });
    const start = tf.memory().numTensors;
    const first = await runner.evaluate(batches());
    for (let e = 0; e < 20; e++) await runner.fit(batches(), { epochs: 1 });
    const last = await runner.evaluate(batches());
    expect(tf.memory().numTensors - start).toBe(4); // Adam's two moment buffers for weight and bias
    expect((first.loss as number) / (last.loss as number)).toBeGreaterThan(5);
    expect(last.accuracy).toBeGreaterThan(0.95);
  });

  it('resumes: a truncated or mismatched checkpoint is a CheckpointError', async () => {
    const ckpt = join(dir, 'ckpt');
    const { runner } = makeRunner({ callbacks: [new ModelCheckpoint({ dir: ckpt })] });
    await runner.fit(loaderOf(train.x, train.y), { epochs: 1 });
    const other = new Linear({ inFeatures: 4, outFeatures: 3 });
    const mismatched = new Runner({
      model: other,
      optimizer: new Adam(other, { lr: 0.01 }),
      loss: ceLoss,
      metrics: [new Accuracy()],
    });
    await expect(mismatched.fit(loaderOf(train.x, train.y), { epochs: 2, resume: ckpt })).rejects.toThrow(
      CheckpointError,
    );
    await expect(mismatched.fit(loaderOf(train.x, train.y), { epochs: 2, resume: ckpt })).rejects.toThrow(
      'Linear.loadStateDict: state dict does not fit the model (missing keys: weight, bias; unexpected keys: fc1.bias, fc1.weight, fc2.bias, fc2.weight)',
    );
    const name = (await readFile(join(ckpt, 'latest'), 'utf8')).trim();
    await truncate(join(ckpt, name, 'model.safetensors'), 100);
    const { runner: again } = makeRunner();
    await expect(again.fit(loaderOf(train.x, train.y), { epochs: 2, resume: ckpt })).rejects.toThrow(
      /model\.safetensors is 100 bytes, the manifest says \d+; the file is truncated or from another checkpoint/,
    );
    await expect(
      again.fit(loaderOf(train.x, train.y), { epochs: 2, resume: join(dir, 'nothing') }),
    ).rejects.toThrow(
      `readCheckpoint: ${join(dir, 'nothing')} has no 'latest' pointer, so there is no checkpoint to read`,
    );
  });

  it('resumes in-process from an epoch-end checkpoint to the uninterrupted weights', async () => {
    const ckpt = join(dir, 'ckpt');
    const full = makeRunner({ dropout: 0.2, seed: 5 });
    await full.runner.fit(loaderOf(train.x, train.y), { epochs: 3 });
    const first = makeRunner({ dropout: 0.2, seed: 5, callbacks: [new ModelCheckpoint({ dir: ckpt })] });
    await first.runner.fit(loaderOf(train.x, train.y), { epochs: 2 });
    const second = makeRunner({ dropout: 0.2, seed: 99, callbacks: [new ModelCheckpoint({ dir: ckpt })] });
    const { history } = await second.runner.fit(loaderOf(train.x, train.y), { epochs: 3, resume: ckpt });
    expect(history.epochs.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(await weightsOf(second.model)).toEqual(await weightsOf(full.model));
  });
});

describe('Runner.evaluate and predict', () => {
  it('give the same numbers in batches of 7 as in one batch, and predict matches forward', async () => {
    const { model, runner } = makeRunner();
    const small = new Runner({ model, loss: ceLoss, metrics: [new Accuracy()], batchSize: 7 });
    const big = new Runner({ model, loss: ceLoss, metrics: [new Accuracy()], batchSize: 1000 });
    const a = await expectNoTensorLeak(() => small.evaluate({ x: val.x, y: val.y }));
    const b = await big.evaluate({ x: val.x, y: val.y });
    expect(a.loss).toBeCloseTo(b.loss as number, 6);
    expect(a.accuracy).toBe(b.accuracy);
    const viaLoader = await runner.evaluate(loaderOf(val.x, val.y, { batchSize: 4 }));
    expect(viaLoader.loss).toBeCloseTo(b.loss as number, 6);
    const predicted = await expectNoTensorLeak(() => small.predict(val.x), 1);
    const direct = model.forward(val.x);
    expectTensorsClose(predicted, direct, 1e-6);
    const fromLoader = await runner.predict(loaderOf(val.x, val.y, { shuffle: false, batchSize: 4 }));
    expectTensorsClose(fromLoader, direct, 1e-6);
    expect(model.training).toBe(true);
    tf.dispose([predicted, direct, fromLoader]);
  });
});

describe('Runner errors', () => {
  let model: TinyMlp;
  beforeAll(() => {
    model = new TinyMlp();
  });

  it('rejects bad constructor options with ConfigError', () => {
    expect(() => new Runner({ model: {} as TinyMlp })).toThrow(ConfigError);
    expect(() => new Runner({ model: {} as TinyMlp })).toThrow(
      'Runner: model must be an @ml/core Module, got an object with keys (none)',
    );
    expect(() => new Runner({ model, optimizer: {} as SGD })).toThrow(
      'Runner: optimizer must be an @ml/core Optimizer (SGD, Adam, AdamW, …), got an object with keys (none)',
    );
    expect(() => new Runner({ model, metrics: [new Accuracy(), new Accuracy()] })).toThrow(
      "Runner: metrics[1] name 'accuracy' is taken or reserved; give it another name",
    );
    expect(() => new Runner({ model, metrics: [new Accuracy({ name: 'val_acc' })] })).toThrow(
      "Runner: metrics[0] name 'val_acc' is taken or reserved; give it another name",
    );
    expect(() => new Runner({ model, callbacks: [{ key: 'a' }, { key: 'a' }] })).toThrow(
      "Runner: two callbacks have the key 'a'; give one of them another key",
    );
    expect(() => new Runner({ model, seed: NaN })).toThrow('Runner: seed must be a finite number, got NaN');
    expect(() => new Runner({ model, batchSize: 0 })).toThrow(
      'Runner: batchSize must be a positive integer, got 0',
    );
    const bare = new (class extends TinyMlp {})();
    Object.defineProperty(bare, 'forward', { value: undefined });
    expect(() => new Runner({ model: bare })).toThrow(
      /Runner: the model \(.*\) has no forward\(x\); pass forward or a step hook/,
    );
  });

  it('rejects bad fit options with ConfigError', async () => {
    const loader = loaderOf(train.x, train.y);
    const noOpt = new Runner({ model, loss: ceLoss });
    await expect(noOpt.fit(loader, { epochs: 1 })).rejects.toThrow(
      'Runner.fit: needs an optimizer; pass one to the Runner',
    );
    const noLoss = new Runner({ model, optimizer: new SGD(model, { lr: 0.1 }) });
    await expect(noLoss.fit(loader, { epochs: 1 })).rejects.toThrow(
      'Runner.fit: needs a loss or a step hook; pass one to the Runner',
    );
    const { runner } = makeRunner();
    await expect(runner.fit(loader, { epochs: 0 })).rejects.toThrow(ConfigError);
    await expect(runner.fit(loader, { epochs: 0 })).rejects.toThrow(
      'Runner.fit: epochs must be a positive integer, got 0',
    );
    await expect(runner.fit(loader, { epochs: 1, evalEvery: 5 })).rejects.toThrow(
      'Runner.fit: evalEvery (5) needs a valLoader',
    );
    await expect(runner.fit(42 as unknown as typeof loader, { epochs: 1 })).rejects.toThrow(
      'Runner.fit: train must be an iterable or async iterable of batches (e.g. a DataLoader), got 42',
    );
    await expect(runner.fit(loader, { epochs: 1, logEvery: 1.5 })).rejects.toThrow(
      'Runner.fit: logEvery must be a positive integer, got 1.5',
    );
  });

  it('rejects batches without targets and empty loaders with DataError, leaking nothing', async () => {
    const { runner } = makeRunner();
    const inputsOnly = [tf.zeros([4, 4])];
    await expectNoTensorLeak(async () => {
      await expect(runner.fit(inputsOnly, { epochs: 1 })).rejects.toThrow(DataError);
    }, -1); // the runner owns (and freed) the batch
    await expect(runner.fit([], { epochs: 1 })).rejects.toThrow(
      'Runner.fit: the train loader yielded no batches in epoch 1',
    );
    await expect(runner.evaluate([])).rejects.toThrow('Runner.evaluate: the loader yielded no batches');
    await expect(runner.predict(tf.zeros([0, 4]))).rejects.toThrow(
      'Runner.predict: no input rows to predict',
    );
    await expect(runner.fit([{ a: 1 }], { epochs: 1 })).rejects.toThrow(
      'Runner: cannot take the batch apart into input and target: expected [x, y], { x, y }, { input, target } or a tensor, got an object with keys a; pass splitBatch or a step hook',
    );
  });
});

// Dropout whose generator is a private field, registered with registerGenerator: no field scan can
// find it, so only the Module's generator registry lets a checkpoint carry its state.
class PrivateNoiseMlp extends Module {
  readonly #rng: Rng;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor() {
    super();
    const init = new Rng(0);
    this.fc1 = this.registerModule('fc1', new Linear({ inFeatures: 4, outFeatures: 16, rng: init }));
    this.fc2 = this.registerModule('fc2', new Linear({ inFeatures: 16, outFeatures: 3, rng: init }));
    this.#rng = this.registerGenerator('noise', new Rng(11));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const h = tf.tanh(this.fc1.forward(x)); // [N, 16]
      return this.fc2.forward(this.training ? dropout(h, 0.3, this.#rng) : h); // [N, 3]
    });
  }
}

describe('Runner generators, guards and damaged checkpoints', () => {
  const fitPrivate = (model: PrivateNoiseMlp, options: { epochs: number; ckpt?: string; resume?: string }) =>
    new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.01 }),
      loss: ceLoss,
      callbacks: options.ckpt === undefined ? [] : [new ModelCheckpoint({ dir: options.ckpt })],
    }).fit(loaderOf(train.x, train.y), {
      epochs: options.epochs,
      ...(options.resume === undefined ? {} : { resume: options.resume }),
    });

  it('a module with a private registered generator resumes exactly', async () => {
    const ckpt = join(dir, 'ckpt');
    const full = new PrivateNoiseMlp();
    expect(full.namedGenerators().map(([name]) => name)).toEqual(['noise']);
    await fitPrivate(full, { epochs: 2 });
    const first = new PrivateNoiseMlp();
    await fitPrivate(first, { epochs: 1, ckpt });
    // A fresh model: its private generator starts over unless the checkpoint restores it.
    const second = new PrivateNoiseMlp();
    const result = await fitPrivate(second, { epochs: 2, ckpt, resume: ckpt });
    expect(result.resumedFrom).toMatch(/^e0001-s00000012-/);
    expect(await weightsOf(second)).toEqual(await weightsOf(full));
    for (const m of [full, first, second]) m.dispose();
  });

  it('stops on a NaN loss with a DataError naming step and batch, before the update', async () => {
    const { model, runner } = makeRunner();
    const x = tf.tidy(() => tf.concat([tf.slice(train.x, 0, 8), tf.fill([8, 4], NaN)])); // batch 2 is NaN
    const y = tf.slice(train.y, 0, 16);
    const loader = () => loaderOf(x, y, { shuffle: false });
    const snapshots: Record<string, number[]>[] = [];
    const watcher = new Runner({
      model,
      optimizer: new Adam(model, { lr: 0.01 }),
      loss: ceLoss,
      callbacks: [{ onStepEnd: async () => void snapshots.push(await weightsOf(model)) }],
    });
    await expect(watcher.fit(loader(), { epochs: 1 })).rejects.toThrow(
      new DataError(
        "Runner.fit: the loss is NaN in batch 2 of epoch 1 (step 2); that update was not applied. Look for NaN or infinite values in the batch's inputs, or lower the learning rate (pass stopOnNonFiniteLoss: false to train on)",
      ),
    );
    expect(snapshots).toHaveLength(1);
    expect(await weightsOf(model)).toEqual(snapshots[0]);
    // Opting out trains on through the NaN.
    const { steps } = await runner.fit(loader(), { epochs: 1, stopOnNonFiniteLoss: false });
    expect(steps).toBe(2);
    tf.dispose([x, y]);
  });

  it('a class id outside the output classes is a DataError naming the batch', async () => {
    const { runner } = makeRunner();
    const x = tf.slice(train.x, 0, 16);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 7, 2, 0, 1, 2, 0], 'int32');
    const message =
      'Runner.fit: label 7 at flat index 2 is out of range [0, 3) (the output [8, 3] has 3 classes) in batch 2 of epoch 1 (step 2)';
    const fit = () => runner.fit(loaderOf(x, y, { shuffle: false }), { epochs: 1 });
    await expect(fit()).rejects.toThrow(new DataError(message));
    // Again, now that the optimizer has its state: nothing leaks.
    await expectNoTensorLeak(async () => {
      await expect(fit()).rejects.toThrow(message);
      await expect(runner.evaluate({ x, y })).rejects.toThrow(
        'Runner.evaluate: label 7 at flat index 10 is out of range [0, 3) (the output [16, 3] has 3 classes) in batch 1',
      );
    });
    tf.dispose([x, y]);
  });

  it('resume falls back past a damaged latest checkpoint, saying so; a named checkpoint is used as it is', async () => {
    const ckpt = join(dir, 'ckpt');
    const { runner } = makeRunner({ callbacks: [new ModelCheckpoint({ dir: ckpt })] });
    await runner.fit(loaderOf(train.x, train.y), { epochs: 2 });
    const [older, latest] = (await listCheckpoints(ckpt)).map((c) => c.name) as [string, string];
    const file = join(ckpt, latest, 'model.safetensors');
    const bytes = await readFile(file);
    bytes[bytes.byteLength - 1] = (bytes[bytes.byteLength - 1] as number) ^ 0xff;
    await writeFile(file, bytes);
    const warnings: string[] = [];
    const { runner: again } = makeRunner();
    const result = await again.fit(loaderOf(train.x, train.y), {
      epochs: 2,
      resume: ckpt,
      onWarning: (m) => warnings.push(m),
    });
    expect(result.resumedFrom).toBe(older);
    expect(result.steps).toBe(24);
    expect(warnings).toEqual(result.warnings);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^Runner\\.fit: the latest checkpoint in ${ckpt} is damaged \\(readCheckpoint: .*model\\.safetensors does not match the SHA-256 in the manifest.*\\); resuming from ${older}, the newest checkpoint that verifies$`,
      ),
    );
    // Naming a checkpoint: exactly that one, no fallback.
    const { runner: named } = makeRunner();
    await expect(
      named.fit(loaderOf(train.x, train.y), { epochs: 2, resume: { dir: ckpt, checkpoint: latest } }),
    ).rejects.toThrow(CheckpointError);
    const fromOlder = await named.fit(loaderOf(train.x, train.y), {
      epochs: 2,
      resume: { dir: ckpt, checkpoint: older },
    });
    expect([fromOlder.resumedFrom, fromOlder.warnings]).toEqual([older, []]);
  });
});
