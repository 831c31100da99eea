import { describe, expect, test } from 'vitest';

import { expectThrows } from '../test/helpers.js';
import { ConfigError } from './errors.js';
import { Rng, resolveRng } from './rng.js';

describe('Rng', () => {
  test('the same seed gives the same stream; nearby seeds differ', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(xs);
    expect(new Rng(43).nextUint32()).not.toBe(xs[0]);
    expect(new Rng(2 ** 33 + 42).nextUint32()).not.toBe(xs[0]);
  });

  test('uniform, int and normal have the right ranges and moments', () => {
    const rng = new Rng(1);
    const u = Array.from({ length: 20000 }, () => rng.random());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(u.reduce((s, v) => s + v, 0) / u.length).toBeCloseTo(0.5, 1);
    const ints = Array.from({ length: 5000 }, () => rng.int(6));
    expect(new Set(ints)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    const n = Array.from({ length: 20000 }, () => rng.normal(3, 2));
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(3, 1);
    expect(std).toBeCloseTo(2, 1);
    const v = rng.uniform(-2, -1);
    expect(v).toBeGreaterThanOrEqual(-2);
    expect(v).toBeLessThan(-1);
  });

  test('shuffle and permutation give permutations, deterministically', () => {
    const p = new Rng(5).permutation(10);
    expect([...p].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Rng(5).permutation(10)).toEqual(p);
    expect(p).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const arr = ['a', 'b', 'c'];
    expect(new Rng(1).shuffle(arr)).toBe(arr);
  });

  test('state()/setState() resume the exact stream, even mid Box–Muller pair', () => {
    const rng = new Rng(7);
    rng.normal(); // leaves the pair's second value pending
    const saved = rng.state();
    expect(saved).toHaveLength(5);
    const expected = [rng.normal(), rng.normal(), rng.random()];
    const restored = new Rng(0).setState(saved);
    expect([restored.normal(), restored.normal(), restored.random()]).toEqual(expected);
    const plain = new Rng(8);
    expect(plain.state()).toHaveLength(4);
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);
  });

  test('fork() gives an independent, deterministic stream', () => {
    const a = new Rng(3);
    const f1 = a.fork();
    const f2 = new Rng(3).fork();
    expect(f1.nextUint32()).toBe(f2.nextUint32());
    expect(a.fork().nextUint32()).not.toBe(new Rng(3).fork().nextUint32());
  });

  test('resolveRng prefers the given rng, else seeds one', () => {
    const rng = new Rng(1);
    expect(resolveRng(rng, 5)).toBe(rng);
    expect(resolveRng(undefined, 5).nextUint32()).toBe(new Rng(5).nextUint32());
  });

  test('rejects bad seeds, states and arguments', () => {
    expectThrows(() => new Rng(Number.NaN), ConfigError, 'Rng: seed must be a finite number, got NaN');
    expectThrows(() => new Rng().int(0), ConfigError, 'Rng.int: n must be a positive integer, got 0');
    expectThrows(
      () => new Rng().setState([1, 2, 3] as unknown as [number, number, number, number]),
      ConfigError,
      'Rng.setState: state must be four uint32 words and an optional pending normal, got [1, 2, 3]',
    );
    expectThrows(() => new Rng().setState([1, 2, 3, -4]), ConfigError, /state must be four uint32 words/);
    expectThrows(
      () => new Rng().setState([1, 2, 3, 4, Number.NaN]),
      ConfigError,
      'Rng.setState: the pending normal must be finite, got NaN',
    );
    expectThrows(
      () => new Rng().setState([0, 0, 0, 0]),
      ConfigError,
      'Rng.setState: the all-zero state is not valid',
    );
  });
});
