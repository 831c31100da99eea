// Test helpers for @ml/core: PyTorch parity (fixtures from tooling/fixtures/gen_core_layers.py) and a plain SGD step.
import { appendFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

import type { Module } from '../src/module.js';
import { expectTensorsClose, loadFixture } from '../src/testing/index.js';
import type { Fixture } from '../src/testing/index.js';

/** The tolerance the parity tests hold every forward value and gradient to (f32). */
export const PARITY_ATOL = 1e-5;

/** Loads packages/core/fixtures/<name>.safetensors. */
export function fixture(name: string): Promise<Fixture> {
  return loadFixture(new URL(`../fixtures/${name}.safetensors`, import.meta.url));
}

/** Largest |a − e| over all elements. */
export function maxAbsDiff(actual: tf.Tensor, expected: tf.Tensor): number {
  return tf.tidy(
    () =>
      tf
        .max(tf.abs(tf.sub(tf.cast(actual, 'float32'), tf.cast(expected, 'float32'))))
        .dataSync()[0] as number,
  );
}

/**
 * Asserts parity within {@link PARITY_ATOL}; with PARITY_REPORT=<file> set, also appends
 * `label <tab> max abs error` to that file (how the figures in the report are collected).
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
 * Runs `forward(x)` and the gradients of sum(out · dy) with respect to x ('input') and every trainable
 * parameter of `module` (by dotted name). The caller disposes the result.
 */
export function forwardAndGrads(
  module: Module,
  x: tf.Tensor,
  dy: tf.Tensor,
  forward: (x: tf.Tensor) => tf.Tensor,
): { out: tf.Tensor; grads: Record<string, tf.Tensor> } {
  const xv = tf.variable(x, true);
  const params = module.namedParameters().filter(([, v]) => v.trainable);
  let out: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const y = forward(xv);
    out = tf.keep(tf.clone(y));
    return tf.sum(tf.mul(y, dy));
  }, [xv, ...params.map(([, v]) => v)]);
  const byName: Record<string, tf.Tensor> = { input: grads[xv.name] as tf.Tensor };
  for (const [name, v] of params) byName[name] = grads[v.name] as tf.Tensor;
  value.dispose();
  xv.dispose();
  return { out: out as tf.Tensor, grads: byName };
}

/**
 * One plain SGD step (p ← p − lr·∂loss/∂p) over `module`'s trainable parameters; returns the loss
 * before the step. Disposes everything it creates.
 */
export function sgdStep(module: Module, lossFn: () => tf.Scalar, lr = 0.1): number {
  const vars = module.trainableParameters();
  const { value, grads } = tf.variableGrads(lossFn, vars);
  tf.tidy(() => {
    for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name] as tf.Tensor, lr)));
  });
  const loss = value.dataSync()[0] as number;
  value.dispose();
  tf.dispose(grads);
  return loss;
}

/** Asserts that `fn` throws an instance of `errorClass` whose message is exactly `message` (or matches it). */
export function expectThrows(
  fn: () => unknown,
  errorClass: new (...args: never[]) => Error,
  message: string | RegExp,
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error to be thrown').toBeInstanceOf(errorClass);
  const text = (thrown as Error).message;
  if (typeof message === 'string') expect(text).toBe(message);
  else expect(text).toMatch(message);
}

/** Like {@link expectThrows} for a rejected promise. */
export async function expectRejects(
  promise: Promise<unknown>,
  errorClass: new (...args: never[]) => Error,
  message: string | RegExp,
): Promise<void> {
  const thrown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown, 'expected the promise to reject').toBeInstanceOf(errorClass);
  const text = (thrown as Error).message;
  if (typeof message === 'string') expect(text).toBe(message);
  else expect(text).toMatch(message);
}
