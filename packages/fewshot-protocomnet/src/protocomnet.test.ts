import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, ShapeError } from '@ml/core';
import {
  TEST_BACKENDS,
  expectNoTensorLeak,
  expectParity,
  expectThrows,
  fixtureUrl,
  forwardAndGrads,
  loadFixture,
  onBackend,
} from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

import type { KnowledgeGraph } from './knowledge-graph.js';
import { ProtoComNet } from './protocomnet.js';
import { tinyGraph } from '../test/helpers.js';

/** The fixture's graph as a KnowledgeGraph (its word vectors and edges). */
async function fixtureGraph(fx: Fixture): Promise<KnowledgeGraph> {
  const vectors = (await fx.get('graph.word_vectors').array()) as number[][];
  const edges = JSON.parse(fx.metadata['edges'] as string) as number[][];
  return tinyGraph(edges, vectors, vectors[0]?.length ?? 0);
}

for (const backend of TEST_BACKENDS) {
  describe(`ProtoComNet parity with PyTorch (${backend})`, () => {
    beforeAll(() => onBackend(backend));
    for (const name of ['protocomnet_shared_attributes', 'protocomnet_sampled_attributes']) {
      test(`${name}: outputs and gradients ≤ 1e-5`, async () => {
        const fx = await loadFixture(fixtureUrl(name, import.meta.url));
        const net = new ProtoComNet({
          graph: await fixtureGraph(fx),
          featureSize: 6,
          aggregatorHidden: 5,
          decoderHidden: 7,
          seed: 0,
        });
        const result = net.loadStateDict(fx.group('state.'));
        expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
        const ids = fx.get('in.class_ids');
        const r = forwardAndGrads(
          net,
          { prototypes: fx.get('in.prototypes'), attributes: fx.get('in.attributes') },
          fx.get('dy'),
          (x) => net.forward(x['prototypes'] as tf.Tensor, ids, x['attributes'] as tf.Tensor),
        );
        expectParity(`${name} out`, r.out, fx.get('out'));
        for (const [k, g] of Object.entries(r.grads))
          expectParity(`${name} grad.${k}`, g, fx.get(`grad.${k}`));
        expect(Object.keys(r.grads).sort()).toEqual(Object.keys(fx.group('grad.')).sort());
        r.dispose();
        net.dispose();
        fx.dispose();
      });
    }
  });
}

describe('ProtoComNet', () => {
  let net: ProtoComNet;
  beforeAll(async () => {
    await onBackend('cpu');
    net = new ProtoComNet({ graph: tinyGraph(), featureSize: 8, seed: 1 });
  });
  afterAll(() => net.dispose());

  test("PyTorch's parameter names and shapes; word vectors and adjacency are not saved", () => {
    expect(net.namedParameters().map(([n, v]) => [n, v.shape])).toEqual([
      ['encoder.0.weight', [4, 8]],
      ['encoder.0.bias', [4]],
      ['aggregator.0.weight', [300, 16]],
      ['aggregator.0.bias', [300]],
      ['aggregator.2.weight', [1, 300]],
      ['aggregator.2.bias', [1]],
      ['decoder.0.weight', [512, 4]],
      ['decoder.0.bias', [512]],
      ['decoder.2.weight', [8, 512]],
      ['decoder.2.bias', [8]],
    ]);
    expect(Object.keys(net.stateDict())).not.toContain('word_vectors');
    expect([net.numClasses, net.numAttributes, net.wordSize]).toEqual([3, 3, 4]);
  });

  test('attention is masked by the class edges (self and its attributes only)', async () => {
    const alpha = net.attention(tf.ones([3, 8]), tf.tensor1d([0, 1, 2], 'int32'));
    const a = await alpha.array();
    const allowed = [
      [0, 3, 4],
      [1, 4, 5],
      [2, 3, 5],
    ];
    a.forEach((row, c) => row.forEach((v, j) => expect(v === 0).toBe(!(allowed[c] as number[]).includes(j))));
    alpha.dispose();
  });

  test('no tensor leak; shared and per-row attribute features', async () => {
    const p = tf.randomNormal([2, 8], 0, 1, 'float32', 1);
    const ids = tf.tensor1d([0, 2], 'int32');
    const shared = tf.randomNormal([3, 8], 0, 1, 'float32', 2);
    const perRow = tf.stack([shared, shared]);
    await expectNoTensorLeak(async () => {
      const a = net.forward(p, ids, shared);
      const b = net.forward(p, ids, perRow);
      expect(a.shape).toEqual([2, 8]);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
      expect((await diff.data())[0]).toBeLessThan(1e-5);
      tf.dispose([a, b, diff]);
    });
    tf.dispose([p, ids, shared, perRow]);
  });

  test('feature size mismatch between the backbone and ProtoComNet is a ShapeError', () => {
    const ids = tf.tensor1d([0, 1], 'int32');
    const wrong = tf.zeros([2, 64]);
    expectThrows(
      () => net.forward(wrong, ids, tf.zeros([3, 8])),
      ShapeError,
      "ProtoComNet: prototypes must be [B, 8] (featureSize = the backbone's feature size), got [2, 64]",
    );
    expectThrows(
      () => net.forward(tf.zeros([2, 8]), ids, tf.zeros([3, 64])),
      ShapeError,
      'ProtoComNet: attributeFeatures must be [3, 8] or [2, 3, 8], got [3, 64]',
    );
    expectThrows(
      () => net.forward(tf.zeros([2, 8]), tf.tensor1d([0], 'int32'), tf.zeros([3, 8])),
      ShapeError,
      'ProtoComNet: classIds must be [2] (one class node id per prototype), got [1]',
    );
    tf.dispose([ids, wrong]);
  });

  test('bad options are ConfigErrors', () => {
    expectThrows(
      () => new ProtoComNet({ graph: tinyGraph(), featureSize: 7 }),
      ConfigError,
      'ProtoComNet: featureSize must be even (the encoder halves it), got 7',
    );
    expectThrows(
      () => new ProtoComNet({ graph: tinyGraph([[3], [1], [5]]), featureSize: 8 }),
      ConfigError,
      'ProtoComNet: class 1 links to node 1, which is not an attribute node (3..5)',
    );
  });
});
