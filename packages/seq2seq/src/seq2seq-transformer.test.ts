import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError, Module, Rng, ShapeError } from '@ml/core';
import {
  TEST_BACKENDS,
  expectNoTensorLeak,
  expectTensorsClose,
  loadFixture,
  onBackend,
} from '@ml/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';

import { collatePairs } from './batch.js';
import { beamSearch } from './beam-search.js';
import { greedySearch } from './greedy-search.js';
import { SEQ2SEQ_CONFIGS, Seq2SeqTransformer } from './seq2seq-transformer.js';
import { teacherForcedLoss } from './teacher-forcing.js';

/** Asserts that `fn` throws an instance of `cls` whose message contains `message`. */
function expectError(fn: () => unknown, cls: new (message: string) => Error, message: string): void {
  expect(fn).toThrow(cls);
  expect(fn).toThrow(message);
}

const fixture = (name: string) => new URL(`../fixtures/${name}.safetensors`, import.meta.url);
const FIXTURE_CONFIG = {
  srcVocabSize: 11,
  tgtVocabSize: 9,
  dModel: 16,
  heads: 2,
  encoderLayers: 2,
  decoderLayers: 2,
  dimFeedforward: 32,
  dropout: 0,
  maxLength: 32,
};

const tiny = (extra: Partial<ConstructorParameters<typeof Seq2SeqTransformer>[0]> = {}) =>
  new Seq2SeqTransformer({
    srcVocabSize: 10,
    tgtVocabSize: 8,
    ...SEQ2SEQ_CONFIGS.tiny,
    maxLength: 8,
    seed: 3,
    ...extra,
  });

for (const backend of TEST_BACKENDS) {
  describe(`Seq2SeqTransformer parity with PyTorch nn.Transformer (${backend})`, () => {
    beforeAll(() => onBackend(backend));

    for (const [name, normFirst] of [
      ['transformer-post-norm', false],
      ['transformer-pre-norm', true],
    ] as const) {
      it(`${name}: same logits, loss and gradients on a padded batch`, async () => {
        const fx = await loadFixture(fixture(name));
        const model = new Seq2SeqTransformer({ ...FIXTURE_CONFIG, normFirst });
        const weights = Object.fromEntries(
          Object.entries(fx.tensors).filter(([k]) =>
            /^(src_embed|tgt_embed|transformer|generator)\./.test(k),
          ),
        );
        model.loadStateDict(weights); // strict: every name matches PyTorch's
        const batch = {
          src: fx.get('src') as tf.Tensor2D,
          tgtIn: fx.get('tgt_in') as tf.Tensor2D,
          tgtOut: fx.get('tgt_out') as tf.Tensor2D,
        };
        const logits = model.forward(batch.src, batch.tgtIn);
        expectTensorsClose(logits, fx.get('logits'), { atol: 1e-4, label: 'logits' });
        const { value, grads } = tf.variableGrads(() =>
          teacherForcedLoss(model, batch, { labelSmoothing: 0.1 }),
        );
        expectTensorsClose(value, tf.reshape(fx.get('loss'), []), { atol: 1e-5, label: 'loss' });
        for (const [key, v] of model.namedParameters())
          expectTensorsClose(grads[v.name] as tf.Tensor, fx.get(`grad.${key}`), {
            atol: 1e-4,
            label: `grad.${key}`,
          });
        tf.dispose([logits, value, ...Object.values(grads)]);
        model.dispose();
        fx.dispose();
      });
    }
  });
}

describe('Seq2SeqTransformer', () => {
  beforeAll(() => onBackend('cpu'));

  it('maps [B, S] and [B, T] ids to [B, T, V] logits and ignores what follows <pad> in the source', () => {
    const model = tiny().eval();
    const src = tf.tensor2d([[4, 5, 6, 0, 0]], undefined, 'int32');
    const srcShort = tf.tensor2d([[4, 5, 6]], undefined, 'int32');
    const tgtIn = tf.tensor2d([[1, 4, 5]], undefined, 'int32');
    const a = model.forward(src, tgtIn);
    expect(a.shape).toEqual([1, 3, 8]);
    const b = model.forward(srcShort, tgtIn);
    expectTensorsClose(a, b, 1e-5);
    tf.dispose([a, b, src, srcShort, tgtIn]);
    model.dispose();
  });

  it('with sourceEos appends <eos> after each source, as if the ids ended with it', () => {
    const withEos = tiny({ sourceEos: true }).eval();
    const plain = tiny().eval();
    expect(withEos.maxSourceLength).toBe(7);
    const tgtIn = tf.tensor2d(
      [
        [1, 4],
        [1, 5],
      ],
      undefined,
      'int32',
    );
    const a = withEos.forward(
      tf.tensor2d(
        [
          [4, 5, 6, 0],
          [7, 0, 0, 0],
        ],
        undefined,
        'int32',
      ),
      tgtIn,
    );
    const b = plain.forward(
      tf.tensor2d(
        [
          [4, 5, 6, 2, 0],
          [7, 2, 0, 0, 0],
        ],
        undefined,
        'int32',
      ),
      tgtIn,
    );
    expectTensorsClose(a, b, 1e-5);
    expect(withEos.encode(tf.ones([2, 3], 'int32')).shape).toEqual([2, 4, 16]);
    expectError(
      () => withEos.forward(tf.ones([1, 8], 'int32'), tgtIn),
      ShapeError,
      'Seq2SeqTransformer.forward: src has 8 positions, more than the position table holds: 7, maxLength 8 less one for the <eos> that sourceEos appends',
    );
    expectError(
      () => tiny({ sourceEos: true, srcVocabSize: 2 }),
      ConfigError,
      'Seq2SeqTransformer: sourceEos needs <eos> (id 2) in the source vocabulary and different from padId, got srcVocabSize 2, padId 0',
    );
    withEos.dispose();
    plain.dispose();
  });

  it('is causal: logits at position t do not depend on later decoder inputs', () => {
    const model = tiny().eval();
    const src = tf.tensor2d([[4, 5, 6]], undefined, 'int32');
    const a = model.forward(src, tf.tensor2d([[1, 4, 5, 6]], undefined, 'int32'));
    const b = model.forward(src, tf.tensor2d([[1, 4, 7, 7]], undefined, 'int32'));
    expectTensorsClose(tf.slice(a, [0, 0, 0], [1, 2, 8]), tf.slice(b, [0, 0, 0], [1, 2, 8]), 1e-5);
    model.dispose();
  });

  it('ties the output projection to the target embedding when asked', () => {
    const model = tiny({ tieWeights: true });
    const names = model.namedParameters().map(([n]) => n);
    expect(names).toContain('generator.bias');
    expect(names).not.toContain('generator.weight');
    const untied = tiny();
    expect(model.numParameters()).toBe(untied.numParameters() - 8 * 16);
    model.dispose();
    untied.dispose();
  });

  it('an id outside a vocabulary is a DataError naming the input and its range, leaking nothing', async () => {
    const model = tiny();
    const ok = tf.tensor2d([[4, 5, 6]], undefined, 'int32');
    const bad = tf.tensor2d([[4, 99, 6]], undefined, 'int32');
    await expectNoTensorLeak(() => {
      expectError(
        () => model.forward(bad, ok),
        DataError,
        'Seq2SeqTransformer: src id 99 is out of range [0, 10) (srcVocabSize 10)',
      );
      expectError(
        () => model.forward(ok, bad),
        DataError,
        'Seq2SeqTransformer: tgtIn id 99 is out of range [0, 8) (tgtVocabSize 8)',
      );
    });
    tf.dispose([ok, bad]);
    model.dispose();
  });

  it('a model nested in another module frees everything with its parent, position table included', () => {
    class Wrapper extends Module {
      readonly inner: Seq2SeqTransformer;
      constructor() {
        super();
        this.inner = this.registerModule('inner', tiny());
      }
    }
    const before = tf.memory().numTensors;
    const wrapper = new Wrapper();
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    // The position table is owned by the model but is no part of its state dict.
    expect(Object.keys(wrapper.stateDict()).some((k) => k.includes('positions'))).toBe(false);
    wrapper.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("offers the paper's base sizes as a named config", () => {
    expect(SEQ2SEQ_CONFIGS.base).toMatchObject({
      dModel: 512,
      heads: 8,
      encoderLayers: 6,
      decoderLayers: 6,
      dimFeedforward: 2048,
    });
  });

  it('the same seed gives the same weights, another seed other weights', () => {
    const [a, b, c] = [tiny(), tiny(), tiny({ seed: 4 })];
    const pb = b.namedParameters();
    a.namedParameters().forEach(([name, v], i) => {
      expect(pb[i]?.[0]).toBe(name);
      expectTensorsClose(v, pb[i]?.[1] as tf.Tensor, 0);
    });
    expect(() => expectTensorsClose(a.srcEmbed.weight, c.srcEmbed.weight, 1e-3)).toThrow();
    [a, b, c].forEach((m) => m.dispose());
  });

  it('decodes through its step decoder: beam width 1 equals greedy, beams are batched', async () => {
    const model = new Seq2SeqTransformer({
      srcVocabSize: 10,
      tgtVocabSize: 8,
      ...SEQ2SEQ_CONFIGS.tiny,
      maxLength: 8,
      seed: 5,
    }).eval();
    const rng = new Rng(1);
    const src = tf.tensor2d(
      Array.from({ length: 5 }, () => Array.from({ length: 4 }, () => 4 + rng.int(6))),
      undefined,
      'int32',
    );
    const decoder = model.stepDecoder(src);
    const greedy = await greedySearch(decoder, { maxLength: 6 });
    const beam1 = await beamSearch(decoder, { beamWidth: 1, maxLength: 6 });
    expect(beam1.tokens).toEqual(greedy.tokens);
    expectError(
      () => decoder.step(tf.ones([7, 1], 'int32')),
      ShapeError,
      'Seq2SeqStepDecoder.step: the number of prefixes must be a multiple of the batch size 5, got [7, 1]',
    );
    const beam3 = await beamSearch(decoder, { beamWidth: 3, maxLength: 6, lengthPenalty: 0 });
    beam3.scores.forEach((s, i) => expect(s).toBeGreaterThanOrEqual((greedy.scores[i] as number) - 1e-4));
    decoder.dispose();
    src.dispose();
    model.dispose();
  });

  it('leaks no tensors in construction, forward, a training step and decoding', async () => {
    await expectNoTensorLeak(() => tiny({ sourceEos: true, tieWeights: true }).dispose());
    const model = tiny({ sourceEos: true });
    const batch = collatePairs([
      { src: [4, 5, 6], tgt: [4, 5] },
      { src: [7], tgt: [6, 7, 4] },
    ]);
    await expectNoTensorLeak(() => tf.dispose(model.forward(batch.src, batch.tgtIn)));
    await expectNoTensorLeak(() => {
      const { value, grads } = tf.variableGrads(() => teacherForcedLoss(model, batch));
      tf.dispose([value, ...Object.values(grads)]);
    });
    await expectNoTensorLeak(async () => {
      const decoder = model.eval().stepDecoder(batch.src);
      await beamSearch(decoder, { beamWidth: 2, maxLength: 5 });
      await greedySearch(decoder, { maxLength: 5 });
      decoder.dispose();
    });
    tf.dispose(Object.values(batch));
    model.dispose();
  });

  it('rejects bad configs and inputs with named errors', () => {
    expectError(
      () => tiny({ dModel: 10, heads: 4 }),
      ConfigError,
      'Seq2SeqTransformer: dModel (10) must be divisible by heads (4)',
    );
    expectError(
      () => tiny({ srcVocabSize: 0 }),
      ConfigError,
      'Seq2SeqTransformer: srcVocabSize must be a positive integer, got 0',
    );
    expectError(
      () => tiny({ padId: 9 }),
      ConfigError,
      'Seq2SeqTransformer: padId must be an id of both vocabularies, in [0, 8), got 9',
    );
    const model = tiny();
    const long = tf.zeros([1, 9], 'int32');
    const ok = tf.ones([1, 3], 'int32');
    expectError(
      () => model.forward(long, ok),
      ShapeError,
      'Seq2SeqTransformer.forward: src has 9 positions, more than the position table holds (maxLength 8); build the model with a larger maxLength',
    );
    expectError(
      () => model.forward(tf.zeros([1, 0], 'int32'), ok),
      ShapeError,
      'Seq2SeqTransformer.forward: src must hold at least one token per sequence, got [1, 0]',
    );
    expectError(
      () => model.forward(tf.zeros([1, 3]), ok),
      DataError,
      'Seq2SeqTransformer.forward: src must be an int32 tensor, got dtype float32',
    );
    expectError(
      () => model.forward(ok, tf.ones([2, 3], 'int32')),
      ShapeError,
      'Seq2SeqTransformer.forward: src and tgtIn must have the same batch size, got [1, 3] and [2, 3]',
    );
    expectError(
      () => model.forward(tf.ones([3], 'int32'), ok),
      ShapeError,
      'Seq2SeqTransformer.forward: src must be token ids [B, T], got [3]',
    );
    model.dispose();
  });
});
