import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, MultiStepLR, ReduceLROnPlateau, SGD, StepLR } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf } from '../test/helpers.js';
import type { Callback, FitContext } from './callback.js';
import { LrScheduler } from './lr-scheduler.js';
import { Runner } from './runner.js';

let train: ReturnType<typeof blobs>;
beforeAll(async () => {
  await onBackend('cpu');
  train = blobs(48, 1); // 6 batches of 8
});
afterAll(() => tf.dispose([train.x, train.y]));

// The learning rate each optimizer step actually ran with (read right before the update).
class LrProbe implements Callback {
  readonly order = 50;
  readonly lrs: number[] = [];
  onGradients(ctx: FitContext, { grads }: { grads: Record<string, tf.Tensor> }): Record<string, tf.Tensor> {
    this.lrs.push(ctx.optimizer.lr);
    return grads;
  }
}

function runnerWith(schedule: LrScheduler, probe: LrProbe): Runner<TinyMlp> {
  const model = new TinyMlp();
  return new Runner({
    model,
    optimizer: new SGD(model, { lr: 1 }),
    loss: ceLoss,
    callbacks: [schedule, probe],
  });
}

describe('LrScheduler', () => {
  it('sets lr = lrAt(step) before every step', async () => {
    const probe = new LrProbe();
    await runnerWith(
      new LrScheduler({ schedule: new StepLR({ lr: 0.1, stepSize: 4, gamma: 0.5 }) }),
      probe,
    ).fit(loaderOf(train.x, train.y), { epochs: 2 });
    expect(probe.lrs).toEqual([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025]);
  });

  it("sets lr = lrAt(epoch) before every epoch with interval 'epoch'", async () => {
    const probe = new LrProbe();
    const { history } = await runnerWith(
      new LrScheduler({
        schedule: new MultiStepLR({ lr: 0.2, milestones: [1, 2], gamma: 0.1 }),
        interval: 'epoch',
      }),
      probe,
    ).fit(loaderOf(train.x, train.y), { epochs: 3 });
    expect(probe.lrs.filter((_, i) => i % 6 === 0).map((v) => Number(v.toPrecision(6)))).toEqual([
      0.2, 0.02, 0.002,
    ]);
    expect(history.epochs.map((r) => Number((r.lr as number).toPrecision(6)))).toEqual([0.2, 0.02, 0.002]);
  });

  it('feeds a ReduceLROnPlateau with the monitored value after each epoch', async () => {
    const probe = new LrProbe();
    // patience 0: after the first observation (always the best so far), every epoch whose loss does
    // not beat the best by 1000× halves the rate for the next epoch.
    const plateau = new ReduceLROnPlateau({ lr: 0.1, factor: 0.5, patience: 0, threshold: 0.999 });
    const runner = runnerWith(new LrScheduler({ schedule: plateau, monitor: 'loss' }), probe);
    const { history } = await runner.fit(loaderOf(train.x, train.y), { epochs: 3 });
    expect(history.epochs.map((r) => r.lr)).toEqual([0.1, 0.1, 0.05]);
    expect(probe.lrs.slice(12)).toEqual([0.05, 0.05, 0.05, 0.05, 0.05, 0.05]);
    expect(runner.optimizer?.lr).toBe(0.025);
  });

  it('rejects bad options', () => {
    expect(() => new LrScheduler({ schedule: {} as StepLR })).toThrow(ConfigError);
    expect(() => new LrScheduler({ schedule: {} as StepLR })).toThrow(
      'LrScheduler: schedule must be an LrSchedule (with lrAt(step)) or a ReduceLROnPlateau, got an object with keys (none)',
    );
    expect(
      () => new LrScheduler({ schedule: new StepLR({ lr: 1, stepSize: 1 }), interval: 'batch' as 'step' }),
    ).toThrow("LrScheduler: interval must be 'step' or 'epoch', got 'batch'");
  });
});
