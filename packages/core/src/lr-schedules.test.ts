import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError } from './errors.js';
import { CosineWithWarmup, MultiStepLR, NoamSchedule, StepLR, type LrSchedule } from './lr-schedules.js';
import { loadFixture, type Fixture } from './testing/index.js';

// Learning rates recorded from torch.optim.lr_scheduler by tooling/fixtures/gen_core_optim.py.
let fixture: Fixture;
beforeAll(async () => {
  fixture = await loadFixture(new URL('../fixtures/lr-schedules.safetensors', import.meta.url));
});

function torchCase<O>(name: string): { options: O; lrs: number[] } {
  return JSON.parse(fixture.metadata[name] as string) as { options: O; lrs: number[] };
}

function expectSchedule(schedule: LrSchedule, lrs: number[]): void {
  lrs.forEach((lr, step) => {
    const got = schedule.lrAt(step);
    if (Math.abs(got - lr) > 1e-12 * Math.max(1, Math.abs(lr)))
      throw new Error(`step ${step}: got ${got}, PyTorch ${lr}`);
  });
}

describe('LR schedules match PyTorch', () => {
  test('StepLR', () => {
    const c = torchCase<{ lr: number; stepSize: number; gamma: number }>('step_lr');
    expectSchedule(new StepLR(c.options), c.lrs);
  });

  test('MultiStepLR (a repeated milestone decays twice)', () => {
    const c = torchCase<{ lr: number; milestones: number[]; gamma: number }>('multi_step_lr');
    expect(c.options.milestones).toEqual([2, 5, 5, 9]);
    expectSchedule(new MultiStepLR(c.options), c.lrs);
  });

  test('NoamSchedule (the formula, through LambdaLR)', () => {
    const c = torchCase<{ dModel: number; warmupSteps: number; factor: number }>('noam');
    expectSchedule(new NoamSchedule(c.options), c.lrs);
  });

  test('CosineWithWarmup (LinearLR warmup, then CosineAnnealingLR)', () => {
    const c = torchCase<{ lr: number; warmupSteps: number; totalSteps: number; minLr: number }>(
      'cosine_with_warmup',
    );
    const s = new CosineWithWarmup(c.options);
    expectSchedule(s, c.lrs);
    // After totalSteps the rate holds at minLr instead of rising again.
    expect(s.lrAt(c.options.totalSteps + 5)).toBe(c.options.minLr);
  });
});

describe('LR schedules by hand', () => {
  test('Noam peaks at step warmupSteps − 1 and then decays as 1/√s', () => {
    const s = new NoamSchedule({ dModel: 512, warmupSteps: 4000 });
    expect(s.lrAt(0)).toBeCloseTo(512 ** -0.5 * 4000 ** -1.5, 15);
    expect(s.lrAt(3999)).toBeCloseTo(512 ** -0.5 * 4000 ** -0.5, 15);
    expect(s.lrAt(3999)).toBeGreaterThan(s.lrAt(3998));
    expect(s.lrAt(3999)).toBeGreaterThan(s.lrAt(4000));
    expect(s.lrAt(15999) / s.lrAt(3999)).toBeCloseTo(0.5, 12);
  });

  test('CosineWithWarmup without warmup starts at lr and ends at minLr', () => {
    const s = new CosineWithWarmup({ lr: 1, totalSteps: 4 });
    const expected = [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2, 0];
    expected.forEach((lr, step) => expect(s.lrAt(step)).toBeCloseTo(lr, 15));
  });
});

describe('LR schedule errors', () => {
  test('invalid options are ConfigErrors naming the value', () => {
    expect(() => new StepLR({ lr: -1, stepSize: 2 })).toThrow(
      new ConfigError('StepLR: lr must be a finite number >= 0, got -1'),
    );
    expect(() => new StepLR({ lr: 1, stepSize: 0 })).toThrow(
      new ConfigError('StepLR: stepSize must be a positive integer, got 0'),
    );
    expect(() => new StepLR({ lr: 1, stepSize: 2, gamma: 0 })).toThrow(
      new ConfigError('StepLR: gamma must be a finite number > 0, got 0'),
    );
    expect(() => new MultiStepLR({ lr: 1, milestones: [3, 2] })).toThrow(
      new ConfigError('MultiStepLR: milestones must be non-decreasing, got [3, 2]'),
    );
    expect(() => new MultiStepLR({ lr: 1, milestones: [1.5] })).toThrow(
      new ConfigError('MultiStepLR: milestones[0] must be a positive integer, got 1.5'),
    );
    expect(() => new CosineWithWarmup({ lr: 1, warmupSteps: 10, totalSteps: 10 })).toThrow(
      new ConfigError('CosineWithWarmup: totalSteps (10) must be greater than warmupSteps (10)'),
    );
    expect(() => new CosineWithWarmup({ lr: 1, warmupSteps: -1, totalSteps: 10 })).toThrow(
      new ConfigError('CosineWithWarmup: warmupSteps must be an integer >= 0, got -1'),
    );
    expect(() => new CosineWithWarmup({ lr: 0.1, totalSteps: 10, minLr: 0.2 })).toThrow(
      new ConfigError('CosineWithWarmup: minLr (0.2) must not exceed lr (0.1)'),
    );
    expect(() => new NoamSchedule({ dModel: 0, warmupSteps: 10 })).toThrow(
      new ConfigError('NoamSchedule: dModel must be a positive integer, got 0'),
    );
    expect(() => new NoamSchedule({ dModel: 8, warmupSteps: 10, factor: -2 })).toThrow(
      new ConfigError('NoamSchedule: factor must be a finite number > 0, got -2'),
    );
  });

  test('lrAt needs an integer step >= 0', () => {
    expect(() => new StepLR({ lr: 1, stepSize: 2 }).lrAt(-1)).toThrow(
      new ConfigError('StepLR.lrAt: step must be an integer >= 0, got -1'),
    );
    expect(() => new NoamSchedule({ dModel: 8, warmupSteps: 2 }).lrAt(0.5)).toThrow(
      new ConfigError('NoamSchedule.lrAt: step must be an integer >= 0, got 0.5'),
    );
  });
});
