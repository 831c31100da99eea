import { ConfigError } from './errors.js';

/**
 * The serialisable state of an {@link Rng}: four 32-bit words of xoshiro128** state, plus the
 * pending second value of a Box–Muller pair when {@link Rng.normal} has one cached.
 */
export type RngState =
  readonly [number, number, number, number] | readonly [number, number, number, number, number];

// splitmix32 spreads a user seed over the four state words so that nearby seeds give unrelated streams.
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * A seeded pseudo-random generator (xoshiro128**) for every random choice in @ml: weight init, dropout
 * masks, shuffling, augmentation. Same seed → same stream on every platform; `state()`/`setState()` let
 * checkpoints resume the stream exactly.
 *
 * `new Rng(42).normal()` draws one standard normal number. Plain TypeScript: it never loads tfjs (build
 * tensors with `init.normal(rng, shape)` or `tf.tensor(rng.normalArray(n), shape)`).
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spareNormal: number | null = null;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new ConfigError(`Rng: seed must be a finite number, got ${seed}`);
    const mix = splitmix32((Math.floor(seed) >>> 0) ^ Math.floor(seed / 2 ** 32));
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
  }

  /** The next 32-bit unsigned integer of the stream. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform float in [low, high). */
  uniform(low = 0, high = 1): number {
    return low + (high - low) * this.random();
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0)
      throw new ConfigError(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.random() * n);
  }

  /** A normal sample (Box–Muller, both values used). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<T>(array: T[]): T[] {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i] as T;
      array[i] = array[j] as T;
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** A new generator seeded from this one's stream: independent streams for sub-tasks. */
  fork(): Rng {
    return new Rng(this.nextUint32() * 4294967296 + this.nextUint32());
  }

  /** The current state, for checkpoints: restoring it with {@link Rng.setState} continues the exact stream. */
  state(): RngState {
    const words = [this.s0, this.s1, this.s2, this.s3] as const;
    return this.spareNormal === null ? words : [...words, this.spareNormal];
  }

  /** Restores a state from {@link Rng.state}. */
  setState(state: RngState): this {
    const words = state.slice(0, 4);
    const spare = state[4];
    if (
      (state.length !== 4 && state.length !== 5) ||
      words.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)
    ) {
      throw new ConfigError(
        `Rng.setState: state must be four uint32 words and an optional pending normal, got [${state.join(', ')}]`,
      );
    }
    if (spare !== undefined && !Number.isFinite(spare))
      throw new ConfigError(`Rng.setState: the pending normal must be finite, got ${spare}`);
    if (words.every((w) => w === 0)) throw new ConfigError('Rng.setState: the all-zero state is not valid');
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    this.spareNormal = spare ?? null;
    return this;
  }

  /** A Float32Array of `n` uniform samples in [low, high). */
  uniformArray(n: number, low = 0, high = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(low, high);
    return out;
  }

  /** A Float32Array of `n` normal samples. */
  normalArray(n: number, mean = 0, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }
}

// The generator that layers built without `rng` or `seed` draw their seeds from, like PyTorch's default
// generator: each such layer forks its own stream, so two unseeded layers of one shape differ, and a
// process that builds the same models in the same order gets the same weights. `manualSeed` resets it.
let defaultGenerator = new Rng(0);

/** The process-wide generator that unseeded layers fork from (seeded with 0 at start; see {@link manualSeed}). */
export function defaultRng(): Rng {
  return defaultGenerator;
}

/** Re-seeds the process-wide default generator, like `torch.manual_seed`; returns it. */
export function manualSeed(seed: number): Rng {
  defaultGenerator = new Rng(seed);
  return defaultGenerator;
}

/**
 * The one way @ml picks its randomness: `rng` when given, else a generator seeded with `seed`, else a
 * fresh stream forked from the default generator (so two unseeded layers never share weights).
 */
export function resolveRng(rng?: Rng, seed?: number): Rng {
  if (rng !== undefined) return rng;
  if (seed !== undefined) return new Rng(seed);
  return defaultGenerator.fork();
}
