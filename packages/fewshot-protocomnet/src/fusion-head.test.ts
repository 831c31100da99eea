import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import {
  TEST_BACKENDS,
  expectNoTensorLeak,
  expectParity,
  expectThrows,
  fixtureUrl,
  forwardAndGrads,
  loadFixture,
} from '@ml/core/testing';
import { onBackend } from '@ml/core/testing';

import { FusionHead, softAssignment } from './fusion-head.js';
import type { FusionMode } from './fusion-head.js';
import { classPrototypes } from './protonet-head.js';

for (const backend of TEST_BACKENDS) {
  describe(`FusionHead parity with PyTorch (${backend})`, () => {
    beforeAll(() => onBackend(backend));
    for (const mode of ['transductive', 'inductive', 'knowledge-free'] as FusionMode[]) {
      test(`${mode}: fused prototypes, logits and gradients ≤ 1e-5`, async () => {
        const fx = await loadFixture(fixtureUrl('fusion_head', import.meta.url));
        const head = new FusionHead({ scale: 7.5 });
        const labels = fx.get('in.support_labels');
        const inputs: Record<string, tf.Tensor> = {
          support: fx.get('in.support'),
          query: fx.get('in.query'),
          ...(mode === 'knowledge-free' ? {} : { completed: fx.get('in.completed') }),
        };
        const run = (x: Record<string, tf.Tensor>): tf.Tensor => {
          const support = x['support'] as tf.Tensor;
          const prototypes = classPrototypes(support, labels, 3);
          const input = {
            support,
            supportLabels: labels,
            query: x['query'] as tf.Tensor,
            prototypes,
            ...(x['completed'] !== undefined ? { completed: x['completed'] } : {}),
          };
          return head.forward(input, mode);
        };
        const r = forwardAndGrads(head, inputs, fx.get(`${mode}.dy`), run);
        expectParity(`fusion ${mode} logits`, r.out, fx.get(`${mode}.logits`));
        expectParity(
          `fusion ${mode} grad.scale`,
          r.grads['scale'] as tf.Tensor,
          fx.get(`${mode}.grad.scale`),
        );
        for (const k of Object.keys(inputs))
          expectParity(
            `fusion ${mode} grad.in.${k}`,
            r.grads[`in.${k}`] as tf.Tensor,
            fx.get(`${mode}.grad.in.${k}`),
          );
        const fused = tf.tidy(() =>
          head.fuse(
            {
              support: fx.get('in.support'),
              supportLabels: labels,
              query: fx.get('in.query'),
              prototypes: classPrototypes(fx.get('in.support'), labels, 3),
              completed: fx.get('in.completed'),
            },
            mode,
          ),
        );
        expectParity(`fusion ${mode} fused`, fused, fx.get(`${mode}.fused`));
        tf.dispose([fused]);
        r.dispose();
        head.dispose();
        fx.dispose();
      });
    }
  });
}

describe('softAssignment and FusionHead', () => {
  beforeAll(() => onBackend('cpu'));

  test('soft assignment by hand: a query on a prototype pulls that class mean toward it', async () => {
    // Two classes on the axes; one query exactly on class 0's direction (softmax(10·[1, 0]) ≈ [1, 4.5e-5]).
    const support = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const query = tf.tensor2d([[3, 0]]);
    const { mean, variance } = softAssignment(support, labels, query, support);
    const w = 1 / (1 + Math.exp(-10));
    const m0 = (1 + 3 * w) / (1 + w);
    const v0 = ((1 - m0) ** 2 + w * (3 - m0) ** 2) / (1 + w);
    const m = await mean.array();
    const v = await variance.array();
    expect(m[0]?.[0]).toBeCloseTo(m0, 5);
    expect(v[0]?.[0]).toBeCloseTo(v0, 5);
    expect(m[1]?.[1]).toBeCloseTo(1 / (1 + 1 - w), 4);
    tf.dispose([support, labels, query, mean, variance]);
  });

  test('inductive fusion is the average of the two prototypes; no leaks', async () => {
    const head = new FusionHead();
    const support = tf.tensor2d([
      [1, 0],
      [0, 2],
    ]);
    const labels = tf.tensor1d([0, 1], 'int32');
    const completed = tf.tensor2d([
      [3, 0],
      [0, 0],
    ]);
    await expectNoTensorLeak(async () => {
      const fused = head.fuse(
        { support, supportLabels: labels, query: support, prototypes: support, completed },
        'inductive',
      );
      expect(await fused.array()).toEqual([
        [2, 0],
        [0, 1],
      ]);
      const logits = head.forward({
        support,
        supportLabels: labels,
        query: support,
        prototypes: support,
        completed,
      });
      expect(logits.shape).toEqual([2, 2]);
      tf.dispose([fused, logits]);
    });
    tf.dispose([support, labels, completed]);
    head.dispose();
  });

  test('bad inputs are named errors', () => {
    const head = new FusionHead();
    const s = tf.zeros([4, 3]);
    const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
    const p = tf.zeros([2, 3]);
    expectThrows(
      () => head.forward({ support: s, supportLabels: labels, query: s, prototypes: p }, 'transductive'),
      ConfigError,
      "FusionHead: mode 'transductive' needs completed prototypes",
    );
    expectThrows(
      () =>
        head.forward(
          { support: s, supportLabels: labels, query: tf.zeros([5, 4]), prototypes: p },
          'knowledge-free',
        ),
      ShapeError,
      'FusionHead: query must be [n, 3], got [5, 4]',
    );
    expectThrows(
      () =>
        head.forward(
          { support: s, supportLabels: labels, query: s, prototypes: p, completed: tf.zeros([2, 64]) },
          'inductive',
        ),
      ShapeError,
      'FusionHead: completed must match prototypes [2, 3], got [2, 64]',
    );
    expectThrows(
      () =>
        head.forward({ support: s, supportLabels: labels, query: s, prototypes: p }, 'mean' as FusionMode),
      ConfigError,
      "FusionHead: mode must be 'transductive', 'inductive' or 'knowledge-free', got 'mean'",
    );
    expectThrows(
      () => new FusionHead({ scale: 0 }),
      ConfigError,
      'FusionHead: scale must be a positive number, got 0',
    );
    head.dispose();
  });
});
