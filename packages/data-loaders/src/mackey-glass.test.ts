import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { mackeyGlass } from './mackey-glass.js';

describe('mackeyGlass', () => {
  beforeAll(() => onBackend('cpu'));

  it('returns a bounded, non-periodic series of the requested length, seeded', async () => {
    const a = mackeyGlass({ length: 500, seed: 1 });
    expect(a.series.shape).toEqual([500]);
    expect(a.series.dtype).toBe('float32');
    expect(Array.from(await a.series.data())).toEqual(Array.from(a.values));
    const min = Math.min(...a.values);
    const max = Math.max(...a.values);
    expect(min).toBeGreaterThan(0.2);
    expect(max).toBeLessThan(1.45);
    expect(max - min).toBeGreaterThan(0.6); // oscillates, does not settle to the fixed point x = 1
    const b = mackeyGlass({ length: 500, seed: 1 });
    const c = mackeyGlass({ length: 500, seed: 2 });
    expect(Array.from(b.values)).toEqual(Array.from(a.values));
    expect(Array.from(c.values)).not.toEqual(Array.from(a.values));
    [a, b, c].forEach((d) => d.dispose());
  });

  it('obeys the delay equation: finite differences match β·x(t−τ)/(1+x(t−τ)^10) − γ·x(t)', () => {
    const series = mackeyGlass({ length: 300, jitter: 0, dt: 0.01 });
    const { values } = series;
    for (let t = 40; t < 290; t += 17) {
      const slope = ((values[t + 1] as number) - (values[t - 1] as number)) / 2;
      const xd = values[t - 17] as number;
      const rhs = (0.2 * xd) / (1 + xd ** 10) - 0.1 * (values[t] as number);
      expect(Math.abs(slope - rhs)).toBeLessThan(0.01);
    }
    series.dispose();
  });

  it('bad options are ConfigErrors', () => {
    expect(() => mackeyGlass({ tau: 0 })).toThrow(ConfigError);
    expect(() => mackeyGlass({ tau: 0 })).toThrow('mackeyGlass: tau must be a finite number > 0, got 0');
    expect(() => mackeyGlass({ dt: 0.3 })).toThrow('mackeyGlass: dt must divide 1 (0.1, 0.05, …), got 0.3');
    expect(() => mackeyGlass({ length: -1 })).toThrow(
      'mackeyGlass: length must be a positive integer, got -1',
    );
  });
});
