import { appendFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import type { Module } from '../module.js';
import { expectTensorsClose } from './index.js';

/** The absolute tolerance every PyTorch-parity test holds forward values and gradients to (float32). */
export const PARITY_ATOL = 1e-5;

/**
 * The URL of a package's parity fixture `<name>.safetensors` in the `fixtures/` folder beside the
 * folder of `from` (pass the calling module's `import.meta.url`, e.g. from `<package>/test/` or
 * `<package>/src/`), for {@link loadFixture}.
 */
export function fixtureUrl(name: string, from: string | URL): URL {
  return new URL(`../fixtures/${name}.safetensors`, from);
}

/** Largest |actual − expected| over all elements (both read as float32). */
export function maxAbsDiff(actual: tf.Tensor, expected: tf.Tensor): number {
  // A test-only measurement, never a training hot path: a synchronous read keeps it usable inside
  // the synchronous `expectParity` assertion (see `expectTensorsClose`).
  return tf.tidy(
    () =>
      tf
        .max(tf.abs(tf.sub(tf.cast(actual, 'float32'), tf.cast(expected, 'float32'))))
        .dataSync()[0] as number,
  );
}

/**
 * Asserts |actual − expected| ≤ {@link PARITY_ATOL} everywhere (via `expectTensorsClose`, labelled
 * `label`). With the environment variable PARITY_REPORT=<file> set, it also appends
 * `backend <tab> label <tab> max abs error` to that file (how the READMEs' parity figures are collected).
 */
export function expectParity(label: string, actual: tf.Tensor, expected: tf.Tensor): void {
  const report = process.env['PARITY_REPORT'];
  if (report !== undefined && report !== '')
    appendFileSync(
      report,
      `${tf.getBackend()}\t${label}\t${maxAbsDiff(actual, expected).toExponential(2)}\n`,
    );
  expectTensorsClose(actual, expected, { atol: PARITY_ATOL, label });
}

/**
 * Output and gradients of sum(out · dy) from {@link forwardAndGrads}: `grads` holds `in.<name>` for
 * each input and the dotted parameter name for each trainable parameter.
 */
export interface ForwardAndGrads {
  out: tf.Tensor;
  grads: Record<string, tf.Tensor>;
  /** Disposes `out` and every gradient. */
  dispose(): void;
}

/**
 * Runs `forward(inputs)` and the gradients of sum(out · dy) with respect to every input and every
 * trainable parameter of `module` (the PyTorch-parity recipe: `out.backward(dy)`). The inputs stay
 * owned by the caller; the caller disposes the result.
 */
export function forwardAndGrads(
  module: Module,
  inputs: Record<string, tf.Tensor>,
  dy: tf.Tensor,
  forward: (inputs: Record<string, tf.Tensor>) => tf.Tensor,
): ForwardAndGrads {
  const inputVars = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, tf.variable(t, true)]));
  const params = module.namedParameters().filter(([, v]) => v.trainable);
  let out: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const y = forward(inputVars);
    out = tf.keep(tf.clone(y));
    return tf.sum<tf.Scalar>(tf.mul(y, dy));
  }, [...Object.values(inputVars), ...params.map(([, v]) => v)]);
  value.dispose();
  const named: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputVars)) named[`in.${k}`] = grads[v.name] as tf.Tensor;
  for (const [k, v] of params) named[k] = grads[v.name] as tf.Tensor;
  tf.dispose(Object.values(inputVars));
  const result = out as unknown as tf.Tensor;
  return { out: result, grads: named, dispose: () => tf.dispose([result, ...Object.values(named)]) };
}

/** An error class, for {@link expectThrows} and {@link expectRejects}. */
export type ErrorClass = new (...args: never[]) => Error;

function checkThrown(thrown: unknown, errorClass: ErrorClass, message: string | RegExp, what: string): void {
  if (!(thrown instanceof errorClass)) {
    const got = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    throw new Error(`expected ${what} ${errorClass.name}, got ${got}`);
  }
  const text = thrown.message;
  const ok = typeof message === 'string' ? text === message : message.test(text);
  if (!ok)
    throw new Error(
      `expected the ${errorClass.name} message ${typeof message === 'string' ? 'to be' : 'to match'} ${JSON.stringify(String(message))}, got ${JSON.stringify(text)}`,
    );
}

/**
 * Throws unless `fn` throws an instance of `errorClass` whose message is exactly `message` (a string)
 * or matches it (a RegExp).
 */
export function expectThrows(fn: () => unknown, errorClass: ErrorClass, message: string | RegExp): void {
  let thrown: unknown = undefined;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  checkThrown(thrown, errorClass, message, 'an error to be thrown: an instance of');
}

/** Like {@link expectThrows} for a promise that must reject. */
export async function expectRejects(
  promise: Promise<unknown>,
  errorClass: ErrorClass,
  message: string | RegExp,
): Promise<void> {
  const thrown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  checkThrown(thrown, errorClass, message, 'the promise to reject with an instance of');
}
