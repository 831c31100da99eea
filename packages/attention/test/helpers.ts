// Test helpers for @ml/attention: PyTorch parity against fixtures from tooling/fixtures/gen_attention.py.
import { appendFileSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';

import type { Module } from '@ml/core';
import { expectTensorsClose, loadFixture } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

/** The tolerance every parity test holds outputs and gradients to (float32). */
export const PARITY_ATOL = 1e-5;

/** Loads packages/attention/fixtures/<name>.safetensors. */
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
 * Asserts |actual − expected| ≤ {@link PARITY_ATOL}; with PARITY_REPORT=<file> set, also appends
 * `backend <tab> label <tab> max abs error` to that file (how the README's figures are collected).
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

/** Output and gradients of sum(out · dy): `in.<name>` for inputs, the dotted parameter name for parameters. */
export interface ForwardAndGrads {
  out: tf.Tensor;
  grads: Record<string, tf.Tensor>;
  dispose(): void;
}

/**
 * Runs `forward(inputs)` and the gradients of sum(out · dy) with respect to every input and every
 * trainable parameter of `module`.
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
    return tf.sum(tf.mul(y, dy)) as tf.Scalar;
  }, [...Object.values(inputVars), ...params.map(([, v]) => v)]);
  value.dispose();
  const named: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputVars)) named[`in.${k}`] = grads[v.name] as tf.Tensor;
  for (const [k, v] of params) named[k] = grads[v.name] as tf.Tensor;
  tf.dispose(Object.values(inputVars));
  const result = out as unknown as tf.Tensor;
  return { out: result, grads: named, dispose: () => tf.dispose([result, ...Object.values(named)]) };
}

/**
 * Loads the fixture's state dict into `module`, runs it on the fixture's inputs and checks the output
 * and every gradient (inputs and parameters) against PyTorch's.
 */
export function expectModuleParity(
  name: string,
  f: Fixture,
  module: Module,
  inputNames: string[],
  forward: (inputs: Record<string, tf.Tensor>) => tf.Tensor,
): void {
  module.loadStateDict(f.group('state.'));
  module.eval();
  const inputs = Object.fromEntries(inputNames.map((n) => [n, f.get(`in.${n}`)]));
  const r = forwardAndGrads(module, inputs, f.get('dy'), forward);
  try {
    expectParity(`${name} out`, r.out, f.get('out'));
    for (const n of inputNames)
      expectParity(`${name} grad.in.${n}`, r.grads[`in.${n}`] as tf.Tensor, f.get(`grad.in.${n}`));
    for (const [p] of module.namedParameters())
      expectParity(`${name} grad.${p}`, r.grads[p] as tf.Tensor, f.get(`grad.${p}`));
  } finally {
    r.dispose();
  }
}
