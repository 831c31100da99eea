import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, Rng, checkPositiveInt } from '@ml/core';

/** Options of {@link mackeyGlass}. */
export interface MackeyGlassOptions {
  /** Samples returned (default 1000), one per time unit after the discarded transient. */
  length?: number;
  /** Delay τ (default 17: mildly chaotic; ≥ 30 is strongly chaotic). */
  tau?: number;
  /** β, the production rate (default 0.2). */
  beta?: number;
  /** γ, the decay rate (default 0.1). */
  gamma?: number;
  /** Hill exponent n (default 10). */
  n?: number;
  /** Centre of the initial history (default 1.2). */
  x0?: number;
  /** Each initial-history value is x0 + U(−jitter, jitter), seeded (default 0.1; 0 gives the classic constant history). */
  jitter?: number;
  /** Integration step of the RK4 solver (default 0.1; must divide 1). */
  dt?: number;
  /** Time units simulated and dropped before the first sample (default 200). */
  discard?: number;
  /** Seed of the initial history (default 0). */
  seed?: number;
}

/** Defaults of {@link MackeyGlassOptions}. */
export const DEFAULT_MACKEY_GLASS_OPTIONS = {
  length: 1000,
  tau: 17,
  beta: 0.2,
  gamma: 0.1,
  n: 10,
  x0: 1.2,
  jitter: 0.1,
  dt: 0.1,
  discard: 200,
  seed: 0,
} as const;

/** A generated series: the values and the same values as a tensor the caller owns. */
export interface MackeyGlassData {
  /** float32 [length]; with the defaults the values stay within about [0.2, 1.4]. */
  series: tf.Tensor1D;
  values: Float32Array;
  dispose(): void;
}

/**
 * The Mackey-Glass delay differential equation dx/dt = β·x(t−τ)/(1 + x(t−τ)ⁿ) − γ·x(t), integrated
 * with fourth-order Runge-Kutta (the delayed value at half steps is linearly interpolated) and sampled
 * once per time unit. The seed only sets the jittered initial history, so the same seed gives the
 * same series.
 */
export function mackeyGlass(options: MackeyGlassOptions = {}): MackeyGlassData {
  const o = { ...DEFAULT_MACKEY_GLASS_OPTIONS, ...options };
  checkPositiveInt('mackeyGlass', 'length', o.length);
  for (const key of ['tau', 'beta', 'gamma', 'n', 'dt'] as const) {
    if (!(Number.isFinite(o[key]) && o[key] > 0))
      throw new ConfigError(`mackeyGlass: ${key} must be a finite number > 0, got ${o[key]}`);
  }
  if (!(Number.isFinite(o.jitter) && o.jitter >= 0))
    throw new ConfigError(`mackeyGlass: jitter must be a finite number ≥ 0, got ${o.jitter}`);
  if (!(Number.isInteger(o.discard) && o.discard >= 0))
    throw new ConfigError(`mackeyGlass: discard must be an integer ≥ 0, got ${o.discard}`);
  const perUnit = Math.round(1 / o.dt);
  if (o.dt > 1 || Math.abs(perUnit * o.dt - 1) > 1e-9)
    throw new ConfigError(`mackeyGlass: dt must divide 1 (0.1, 0.05, …), got ${o.dt}`);
  const rng = new Rng(o.seed);
  if (o.tau < o.dt) throw new ConfigError(`mackeyGlass: tau (${o.tau}) must be ≥ dt (${o.dt})`);
  const ratio = o.tau / o.dt;
  const delaySteps = Math.abs(ratio - Math.round(ratio)) < 1e-9 ? Math.round(ratio) : ratio; // 17 / 0.1 is not exactly 170 in floating point
  const historySteps = Math.ceil(delaySteps) + 1;
  const totalSteps = (o.length + o.discard) * perUnit;
  // x[k] is x at time (k − historySteps)·dt; the first historySteps + 1 values are the initial history.
  const x = new Float64Array(historySteps + totalSteps + 1);
  for (let k = 0; k <= historySteps; k++) x[k] = o.x0 + (o.jitter > 0 ? rng.uniform(-o.jitter, o.jitter) : 0);
  const delayed = (pos: number): number => {
    const lo = Math.floor(pos);
    const frac = pos - lo;
    return (x[lo] as number) * (1 - frac) + (frac > 0 ? (x[lo + 1] as number) * frac : 0);
  };
  const f = (xt: number, xd: number): number => (o.beta * xd) / (1 + xd ** o.n) - o.gamma * xt;
  for (let k = historySteps; k < historySteps + totalSteps; k++) {
    const xt = x[k] as number;
    const d0 = delayed(k - delaySteps);
    const dh = delayed(k + 0.5 - delaySteps);
    const d1 = delayed(k + 1 - delaySteps);
    const k1 = f(xt, d0);
    const k2 = f(xt + 0.5 * o.dt * k1, dh);
    const k3 = f(xt + 0.5 * o.dt * k2, dh);
    const k4 = f(xt + o.dt * k3, d1);
    x[k + 1] = xt + (o.dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
  }
  const values = new Float32Array(o.length);
  const first = historySteps + o.discard * perUnit;
  for (let i = 0; i < o.length; i++) values[i] = x[first + i * perUnit] as number;
  const series = tf.tensor1d(values, 'float32'); // [length]
  return { series, values, dispose: () => series.dispose() };
}
