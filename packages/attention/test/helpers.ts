// Test helpers for @ml/attention: PyTorch parity against fixtures from tooling/fixtures/gen_attention.py.
// The package-independent parity helpers live in @ml/core/testing.
import type * as tf from '@tensorflow/tfjs-core';

import type { Module } from '@ml/core';
import { expectParity, fixtureUrl, forwardAndGrads, loadFixture } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

export { expectParity } from '@ml/core/testing';

/** Loads packages/attention/fixtures/<name>.safetensors. */
export const fixture = (name: string): Promise<Fixture> => loadFixture(fixtureUrl(name, import.meta.url));

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
