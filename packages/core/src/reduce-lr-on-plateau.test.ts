import { beforeAll, describe, expect, test } from 'vitest';

import { CheckpointError, ConfigError } from './errors.js';
import { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
import { loadFixture, type Fixture } from './testing/index.js';

// Learning rates recorded from torch.optim.lr_scheduler.ReduceLROnPlateau by tooling/fixtures/gen_core_optim.py.
let fixture: Fixture;
beforeAll(async () => {
  fixture = await loadFixture(new URL('../fixtures/lr-schedules.safetensors', import.meta.url));
});

function torchCase(name: string): { options: ReduceLROnPlateauOptions; metrics: number[]; lrs: number[] } {
  return JSON.parse(fixture.metadata[name] as string) as {
    options: ReduceLROnPlateauOptions;
    metrics: number[];
    lrs: number[];
  };
}

describe('ReduceLROnPlateau matches PyTorch', () => {
  for (const name of ['plateau_default', 'plateau_cooldown', 'plateau_max_abs']) {
    test(name, () => {
      const c = torchCase(name);
      const plateau = new ReduceLROnPlateau(c.options);
      const got = c.metrics.map((m) => plateau.observe(m));
      got.forEach((lr, i) => expect(lr, `observation ${i}`).toBeCloseTo(c.lrs[i] as number, 14));
      // The cases must exercise reductions, and the minLr floor in the cooldown case.
      expect(new Set(c.lrs).size).toBeGreaterThan(2);
    });
  }

  test('state saves and restores mid-run: the continuation is identical', () => {
    const c = torchCase('plateau_cooldown');
    const straight = new ReduceLROnPlateau(c.options);
    const full = c.metrics.map((m) => straight.observe(m));
    const first = new ReduceLROnPlateau(c.options);
    const head = c.metrics.slice(0, 11).map((m) => first.observe(m));
    const saved = JSON.parse(JSON.stringify(first.stateDict())) as ReturnType<ReduceLROnPlateau['stateDict']>;
    const resumed = new ReduceLROnPlateau(c.options);
    resumed.loadStateDict(saved);
    const tail = c.metrics.slice(11).map((m) => resumed.observe(m));
    expect([...head, ...tail]).toEqual(full);
    expect(resumed.stateDict()).toEqual(straight.stateDict());
  });
});

describe('ReduceLROnPlateau by hand', () => {
  test('reduces after more than `patience` bad observations, never below minLr; NaN counts as bad', () => {
    const p = new ReduceLROnPlateau({ lr: 1, patience: 1, factor: 0.5, minLr: 0.3 });
    expect([1, 1, 1].map((m) => p.observe(m))).toEqual([1, 1, 0.5]);
    expect([NaN, NaN].map((m) => p.observe(m))).toEqual([0.5, 0.3]);
    expect([NaN, NaN].map((m) => p.observe(m))).toEqual([0.3, 0.3]);
    expect(p.best).toBe(1);
  });
});

describe('ReduceLROnPlateau errors', () => {
  test('invalid options are ConfigErrors naming the value', () => {
    expect(() => new ReduceLROnPlateau({ lr: -1 })).toThrow(
      new ConfigError('ReduceLROnPlateau: lr must be a finite number >= 0, got -1'),
    );
    expect(() => new ReduceLROnPlateau({ lr: 1, factor: 1 })).toThrow(
      new ConfigError('ReduceLROnPlateau: factor must be in (0, 1), got 1'),
    );
    expect(() => new ReduceLROnPlateau({ lr: 1, patience: -1 })).toThrow(
      new ConfigError('ReduceLROnPlateau: patience must be an integer >= 0, got -1'),
    );
    expect(() => new ReduceLROnPlateau({ lr: 1, mode: 'up' as 'min' })).toThrow(
      new ConfigError("ReduceLROnPlateau: mode must be 'min' or 'max', got 'up'"),
    );
    expect(() => new ReduceLROnPlateau({ lr: 1, thresholdMode: 'pct' as 'rel' })).toThrow(
      new ConfigError("ReduceLROnPlateau: thresholdMode must be 'rel' or 'abs', got 'pct'"),
    );
    expect(() => new ReduceLROnPlateau({ lr: 1, cooldown: 0.5 })).toThrow(
      new ConfigError('ReduceLROnPlateau: cooldown must be an integer >= 0, got 0.5'),
    );
  });

  test('a malformed state is a CheckpointError', () => {
    const p = new ReduceLROnPlateau({ lr: 1 });
    const state = p.stateDict();
    expect(() => p.loadStateDict({ ...state, numBadEpochs: -1 })).toThrow(
      new CheckpointError('ReduceLROnPlateau.loadStateDict: numBadEpochs must be an integer >= 0, got -1'),
    );
    expect(() => p.loadStateDict({ ...state, lr: NaN })).toThrow(
      new CheckpointError('ReduceLROnPlateau.loadStateDict: lr must be a finite number >= 0, got NaN'),
    );
  });
});
