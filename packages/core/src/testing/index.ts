import { readFile } from 'node:fs/promises';

import * as tf from '@tensorflow/tfjs-core';

import { useBackend, type BackendName } from '../backend.js';
import { formatShape } from '../errors.js';
import { decodeSafetensors, rawToTensors } from '../safetensors.js';

/** Options of {@link expectTensorsClose}. */
export interface CloseOptions {
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 0). */
  rtol?: number;
  /** Prefix for the failure message. */
  label?: string;
}

/**
 * Throws unless `actual` and `expected` have the same shape and |a − e| ≤ atol + rtol·|e| everywhere
 * (NaN matches NaN). The message names the worst element, its index, and both values.
 */
export function expectTensorsClose(
  actual: tf.Tensor | number[] | Float32Array,
  expected: tf.Tensor | number[] | Float32Array,
  tolerance: number | CloseOptions = {},
): void {
  const opts = typeof tolerance === 'number' ? { atol: tolerance } : tolerance;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 0;
  const label = opts.label ? `${opts.label}: ` : '';
  const shapeOf = (t: tf.Tensor | number[] | Float32Array) => (t instanceof tf.Tensor ? t.shape : [t.length]);
  // A test assertion, never a training hot path: a synchronous read keeps every call site a plain
  // `expectTensorsClose(...)` that cannot be left un-awaited (an un-awaited assertion could never fail).
  const valuesOf = (t: tf.Tensor | number[] | Float32Array) => (t instanceof tf.Tensor ? t.dataSync() : t);
  const as = shapeOf(actual);
  const es = shapeOf(expected);
  if (as.length !== es.length || as.some((d, i) => d !== es[i])) {
    throw new Error(`${label}shape mismatch: actual ${formatShape(as)}, expected ${formatShape(es)}`);
  }
  const a = valuesOf(actual);
  const e = valuesOf(expected);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const av = Number(a[i]);
    const ev = Number(e[i]);
    if (Number.isNaN(av) && Number.isNaN(ev)) continue;
    const excess = Math.abs(av - ev) - (atol + rtol * Math.abs(ev));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${label}tensors differ at flat index ${worst}: actual ${Number(a[worst])}, expected ${Number(e[worst])} (|diff| ${Math.abs(Number(a[worst]) - Number(e[worst]))} > atol ${atol} + rtol ${rtol}·|expected|)`,
    );
  }
}

/**
 * Runs `fn` and throws if the number of live tensors afterwards differs from before; returns what
 * `fn` returned (tensors it returns count as leaks unless `allowed` says how many it may create).
 */
export async function expectNoTensorLeak<T>(fn: () => T | Promise<T>, allowed = 0): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const after = tf.memory().numTensors;
  if (after - before !== allowed) {
    throw new Error(
      `tensor leak: ${before} tensors before, ${after} after (expected a change of ${allowed})`,
    );
  }
  return result;
}

/** Backends every numerics test runs on. */
export const TEST_BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

/**
 * Activates `backend` (throwing if it cannot start) — call in `beforeAll` of a suite that runs per
 * backend: `for (const b of TEST_BACKENDS) describe(b, () => { beforeAll(() => onBackend(b)); … })`.
 */
export async function onBackend(backend: BackendName): Promise<void> {
  const active = await useBackend(backend);
  if (active !== backend) throw new Error(`onBackend: wanted '${backend}', got '${active}'`);
}

/** A parity fixture: named tensors (the caller disposes them with `dispose()`) and metadata strings. */
export interface Fixture {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
  /** The tensor named `name`; throws with the available names if it is missing. */
  get(name: string): tf.Tensor;
  /** Tensors whose names start with `prefix`, with the prefix removed (e.g. a state dict). */
  group(prefix: string): Record<string, tf.Tensor>;
  dispose(): void;
}

/** Loads a safetensors fixture written by tooling/fixtures (path or file URL). */
export async function loadFixture(path: string | URL): Promise<Fixture> {
  const bytes = new Uint8Array(await readFile(path));
  // Fixtures hold inputs as well as weights: an additive mask's −∞ is data, not corruption.
  const { tensors: raw, metadata } = decodeSafetensors(bytes, String(path), { allowNonFinite: true });
  const tensors = rawToTensors(raw);
  return {
    tensors,
    metadata,
    get(name) {
      const t = tensors[name];
      if (t === undefined)
        throw new Error(
          `fixture ${String(path)}: no tensor '${name}' (has ${Object.keys(tensors).join(', ')})`,
        );
      return t;
    },
    group(prefix) {
      return Object.fromEntries(
        Object.entries(tensors)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    },
    dispose() {
      tf.dispose(Object.values(tensors));
    },
  };
}

export {
  PARITY_ATOL,
  expectParity,
  expectRejects,
  expectThrows,
  fixtureUrl,
  forwardAndGrads,
  maxAbsDiff,
} from './parity.js';
export type { ErrorClass, ForwardAndGrads } from './parity.js';
