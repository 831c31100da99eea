// Test helpers for @ml/core: PyTorch parity (fixtures from tooling/fixtures/gen_core_layers.py) and a plain SGD step.
// The package-independent parity and error helpers live in @ml/core/testing.
import * as tf from '@tensorflow/tfjs-core';

import type { Module } from '../src/module.js';
import { fixtureUrl, forwardAndGrads as forwardAndGradsOf, loadFixture } from '../src/testing/index.js';
import type { Fixture } from '../src/testing/index.js';

export { expectParity, expectRejects, expectThrows } from '../src/testing/index.js';

/** Loads packages/core/fixtures/<name>.safetensors. */
export const fixture = (name: string): Promise<Fixture> => loadFixture(fixtureUrl(name, import.meta.url));

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
  const { out, grads } = forwardAndGradsOf(module, { x }, dy, (inputs) => forward(inputs['x'] as tf.Tensor));
  const { 'in.x': input, ...params } = grads;
  return { out, grads: { input: input as tf.Tensor, ...params } };
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
