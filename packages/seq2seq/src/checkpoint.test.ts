import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, ConfigError, DataError, saveSafetensorsFile } from '@ml/core';
import { expectNoTensorLeak, expectTensorsClose, onBackend } from '@ml/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadSeq2SeqCheckpoint, saveSeq2SeqCheckpoint } from './checkpoint.js';
import { SEQ2SEQ_CONFIGS, Seq2SeqTransformer } from './seq2seq-transformer.js';
import { translate } from './translate.js';
import { Translator } from './translator.js';
import { Vocab } from './vocab.js';

/** Asserts that `fn` rejects with an instance of `cls` whose message contains `message`. */
async function expectRejects(
  fn: () => Promise<unknown>,
  cls: new (message: string) => Error,
  message: string,
): Promise<void> {
  await expect(fn()).rejects.toThrow(cls);
  await expect(fn()).rejects.toThrow(message);
}

const srcVocab = Vocab.build([['ei', 'bi:', 'si:', 'di:']]);
const tgtVocab = Vocab.build([['a', 'b', 'c', 'd']]);
const build = (extra = {}) =>
  new Seq2SeqTransformer({
    srcVocabSize: srcVocab.size,
    tgtVocabSize: tgtVocab.size,
    ...SEQ2SEQ_CONFIGS.tiny,
    maxLength: 6,
    seed: 2,
    ...extra,
  });

describe('seq2seq checkpoints, translate and Translator', () => {
  let dir: string;
  beforeAll(async () => {
    await onBackend('cpu');
    dir = await mkdtemp(join(tmpdir(), 'seq2seq-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips weights, config and both vocabularies through one file', async () => {
    const model = build({ normFirst: true });
    const path = join(dir, 'model.safetensors');
    await saveSeq2SeqCheckpoint(path, { model, srcVocab, tgtVocab }, { metadata: { note: 'hi' } });
    // The loaded model owns its parameters and its position table; the file's tensors are freed.
    const loaded = await expectNoTensorLeak(() => loadSeq2SeqCheckpoint(path), model.parameters().length + 1);
    expect(loaded.model.config).toEqual(model.config);
    expect(loaded.srcVocab.tokens).toEqual(srcVocab.tokens);
    expect(loaded.tgtVocab.tokens).toEqual(tgtVocab.tokens);
    expect(loaded.metadata).toEqual({ note: 'hi' });
    for (const [name, v] of model.namedParameters())
      expectTensorsClose(loaded.model.stateDict()[name] as tf.Tensor, v, 0);
    const before = await translate(model, [[4, 5, 6]]);
    const after = await translate(loaded.model, [[4, 5, 6]]);
    expect(after).toEqual(before);
    loaded.model.dispose();
    model.dispose();
  });

  it('rejects a checkpoint whose vocabulary does not match the weights', async () => {
    const model = build();
    const path = join(dir, 'bad-vocab.safetensors');
    const bigger = Vocab.build([['ei', 'bi:', 'si:', 'di:', 'i:']]);
    // Written by hand: saveSeq2SeqCheckpoint itself refuses the mismatch.
    await saveSafetensorsFile(path, model.stateDict(), {
      metadata: {
        format: '@ml/seq2seq/v1',
        config: JSON.stringify(model.config),
        src_vocab: JSON.stringify(bigger),
        tgt_vocab: JSON.stringify(tgtVocab),
      },
    });
    const before = tf.memory().numTensors;
    await expectRejects(
      () => loadSeq2SeqCheckpoint(path),
      CheckpointError,
      'the vocabularies do not match the model: source 9 tokens vs srcVocabSize 8, target 8 tokens vs tgtVocabSize 8',
    );
    expect(tf.memory().numTensors).toBe(before);
    await expectRejects(
      () => saveSeq2SeqCheckpoint(path, { model, srcVocab: bigger, tgtVocab }),
      CheckpointError,
      'the vocabularies do not match the model',
    );
    // Config and vocabulary agree, but the weights were trained with another vocabulary size.
    const other = build({ srcVocabSize: 9 });
    await saveSafetensorsFile(path, other.stateDict(), {
      metadata: {
        format: '@ml/seq2seq/v1',
        config: JSON.stringify(model.config),
        src_vocab: JSON.stringify(srcVocab),
        tgt_vocab: JSON.stringify(tgtVocab),
      },
    });
    await expectRejects(
      () => loadSeq2SeqCheckpoint(path),
      CheckpointError,
      'src_embed.weight: expected [8, 16], got [9, 16]',
    );
    other.dispose();
    model.dispose();
  });

  it('rejects files that are not seq2seq checkpoints, and corrupt ones', async () => {
    const path = join(dir, 'plain.safetensors');
    await saveSafetensorsFile(path, { w: tf.zeros([2]) });
    await expectRejects(
      () => loadSeq2SeqCheckpoint(path),
      CheckpointError,
      "format must be '@ml/seq2seq/v1', got none",
    );
    const model = build();
    const good = join(dir, 'good.safetensors');
    await saveSeq2SeqCheckpoint(good, { model, srcVocab, tgtVocab });
    const bytes = await readFile(good);
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    await expectRejects(() => loadSeq2SeqCheckpoint(path), CheckpointError, 'plain.safetensors');
    model.dispose();
  });

  it('a flipped byte or a NaN in the weights is a CheckpointError naming the tensor, not garbage output', async () => {
    const model = build();
    const translator = new Translator({ model, srcVocab, tgtVocab });
    const path = join(dir, 'translator.safetensors');
    await translator.save(path);
    const bytes = await readFile(path);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x40; // inside the last tensor's data
    await writeFile(path, bytes);
    await expect(Translator.load(path)).rejects.toThrow(CheckpointError);
    await expect(Translator.load(path)).rejects.toThrow(
      /translator\.safetensors: tensor '[\w.]+' fails its checksum \(CRC-32 [0-9a-f]{8}, the header says [0-9a-f]{8}\); its data is corrupt/,
    );
    const bias = model.generator.bias as tf.Variable;
    bias.assign(tf.tidy(() => tf.concat([tf.tensor1d([NaN]), tf.slice(bias, 1)])));
    await saveSeq2SeqCheckpoint(path, { model, srcVocab, tgtVocab });
    await expect(loadSeq2SeqCheckpoint(path)).rejects.toThrow(
      `${path}: tensor 'generator.bias' holds NaN at flat index 0; trained weights are finite`,
    );
    translator.dispose();
  });

  it('Translator turns letter names into letters and names unknown or empty input', async () => {
    const model = build();
    const translator = new Translator({ model, srcVocab, tgtVocab });
    const out = await translator.translate([['ei', 'bi:'], ['di:']], { maxLength: 4 });
    expect(out).toHaveLength(2);
    out.flat().forEach((t) => expect(tgtVocab.has(t)).toBe(true));
    await expectRejects(
      () => translator.translate([['ei'], ['ei', 'zz']]),
      DataError,
      "Translator.translate: sentence 1: Vocab.encode: token 'zz' at position 1 is not in the vocabulary (known: ei bi: si: di:)",
    );
    await expectRejects(
      () => translator.translate([[]]),
      DataError,
      'Translator.translate: sentence 0 is empty; give at least one token',
    );
    expect(await translator.translate([['zz']], { unknown: 'unk', maxLength: 3 })).toHaveLength(1);
    expect(() => new Translator({ model, srcVocab: Vocab.build([['x']]), tgtVocab })).toThrow(ConfigError);
    expect(() => new Translator({ model, srcVocab: Vocab.build([['x']]), tgtVocab })).toThrow(
      'Translator: vocabularies must match the model: source 5 tokens vs srcVocabSize 8, target 8 tokens vs tgtVocabSize 8',
    );
    translator.dispose();
  });

  it('translate rejects sources the model cannot take', async () => {
    const model = build();
    await expectRejects(
      () => translate(model, [[4], []]),
      DataError,
      'translate: source 1 is empty; give at least one token',
    );
    await expectRejects(
      () => translate(model, [[4, 4, 4, 4, 4, 4, 4]]),
      DataError,
      'translate: source 0 has 7 tokens, more than the model takes (6: its position table, maxLength 6)',
    );
    await expectRejects(
      () => translate(model, [[4, 99]]),
      DataError,
      'translate: source 0, position 1 must be an id in [0, 8), got 99',
    );
    await expectRejects(
      () => translate(model, [[4]], { maxLength: 7 }),
      ConfigError,
      "translate: maxLength must be at most the model's position table (6), got 7",
    );
    expect(model.training).toBe(true);
    await translate(model, [[4]]);
    expect(model.training).toBe(true);
    model.dispose();
  });
});
