// The toy letter-name → letter translator, trained step by step: the same data, model and schedule
// as the translate demo (apps/translate), driven by the worker instead of @ml/runner's loop so that
// it can stop and resume between any two steps.
import * as tf from '@tensorflow/tfjs-core';

import { Adam, CheckpointError, DataError, NoamSchedule, Rng, encodeSafetensors } from '@ml/core';
import { ArrayDataset, DataLoader, toyTranslation } from '@ml/data-loaders';
import { Accuracy } from '@ml/runner';
import {
  EOS_ID,
  PAD_ID,
  SEQ2SEQ_CHECKPOINT_FORMAT,
  SEQ2SEQ_CONFIGS,
  Seq2SeqTransformer,
  Translator,
  Vocab,
  collatePairs,
  cropPair,
  teacherForcedStep,
  type Seq2SeqBatch,
  type Seq2SeqPair,
  type Seq2SeqTransformerConfig,
} from '@ml/seq2seq';

import { readTaskCheckpoint } from './checkpoint-io.js';
import type { MetricInfo, ProgressPoint, TaskView } from './protocol.js';
import type { PlaygroundTask } from './task.js';

/** Settings of the translator task (defaults: the translate demo's). */
export interface TranslatorTaskOptions {
  /** Seeds the data, the model, the batch order, the crops and dropout. */
  seed: number;
  /** Sentence pairs generated. */
  pairs: number;
  /** Letter names per sentence. */
  seqLen: number;
  /** Probability that a target letter is replaced by a random one. */
  noise: number;
  /** Probability that a training pair is cut to a random contiguous span (so any length translates). */
  crop: number;
  batchSize: number;
  /** Noam schedule: warmup steps and factor. */
  warmup: number;
  lrFactor: number;
  labelSmoothing: number;
}

/** Defaults of {@link TranslatorTaskOptions}. */
export const DEFAULT_TRANSLATOR_TASK_OPTIONS: TranslatorTaskOptions = {
  seed: 0,
  pairs: 1000,
  seqLen: 6,
  noise: 0.1,
  crop: 0.5,
  batchSize: 16,
  warmup: 200,
  lrFactor: 0.5,
  labelSmoothing: 0.1,
};

/** The model: d_model 64, 4 heads, one encoder and one decoder layer, dropout 0.2 (as the translate demo). */
export const TRANSLATOR_MODEL = {
  ...SEQ2SEQ_CONFIGS.small,
  encoderLayers: 1,
  decoderLayers: 1,
  dropout: 0.2,
} as const;

function buildModel(srcVocab: Vocab, tgtVocab: Vocab, seqLen: number, seed: number): Seq2SeqTransformer {
  return new Seq2SeqTransformer({
    srcVocabSize: srcVocab.size,
    tgtVocabSize: tgtVocab.size,
    ...TRANSLATOR_MODEL,
    // <eos> after each source shows the decoder where a typed sentence ends.
    sourceEos: true,
    maxLength: seqLen + 1,
    seed,
  });
}

function describeModel(model: Seq2SeqTransformer): string {
  const c = model.config;
  return `Seq2SeqTransformer: d_model ${c.dModel}, ${c.heads} heads, ${c.encoderLayers}+${c.decoderLayers} layers, ff ${c.dimFeedforward}, dropout ${c.dropout}, ${model.numParameters().toLocaleString('en')} parameters`;
}

/** Trains the letter-name → letter translator one step at a time. */
export class TranslatorTask implements PlaygroundTask {
  readonly name = 'translator';
  readonly metric: MetricInfo = { label: 'token accuracy (training batch)', range: [0, 1] };
  readonly options: TranslatorTaskOptions;
  #srcVocab: Vocab;
  #tgtVocab: Vocab;
  #model: Seq2SeqTransformer;
  #optimizer: Adam;
  readonly #schedule: NoamSchedule;
  readonly #loader: DataLoader<Seq2SeqPair, Seq2SeqBatch>;
  #batches: AsyncIterator<Seq2SeqBatch> | null = null;
  readonly #accuracy = new Accuracy({ ignoreIndex: PAD_ID });
  #step = 0;
  readonly #tokens: { src: string[][]; tgt: string[][] };

  constructor(options: Partial<TranslatorTaskOptions> = {}) {
    const o = { ...DEFAULT_TRANSLATOR_TASK_OPTIONS, ...options };
    this.options = o;
    const data = toyTranslation({ n: o.pairs, seqLen: o.seqLen, noise: o.noise, seed: o.seed });
    data.dispose(); // only the token lists are used; batches are padded per batch below
    this.#tokens = { src: data.srcTokens, tgt: data.tgtTokens };
    this.#srcVocab = Vocab.build(data.srcTokens);
    this.#tgtVocab = Vocab.build(data.tgtTokens);
    const pairs: Seq2SeqPair[] = data.srcTokens.map((src, i) => ({
      src: this.#srcVocab.encode(src),
      tgt: this.#tgtVocab.encode(data.tgtTokens[i] as string[]),
    }));
    const cropRng = new Rng(o.seed + 1);
    this.#loader = new DataLoader<Seq2SeqPair, Seq2SeqBatch>(new ArrayDataset(pairs), {
      batchSize: o.batchSize,
      shuffle: true,
      seed: o.seed,
      // One padded shape for every batch: GPU backends compile their shaders once per shape.
      collate: (batch) =>
        collatePairs(
          batch.map((p) => cropPair(p, cropRng, o.crop)),
          { srcLength: o.seqLen, tgtLength: o.seqLen + 1 },
        ),
    });
    this.#model = buildModel(this.#srcVocab, this.#tgtVocab, o.seqLen, o.seed);
    this.#optimizer = this.#newOptimizer();
    this.#schedule = new NoamSchedule({
      dModel: this.#model.config.dModel,
      warmupSteps: o.warmup,
      factor: o.lrFactor,
    });
  }

  #newOptimizer(): Adam {
    return new Adam(this.#model, { lr: 1e-3, betas: [0.9, 0.98], eps: 1e-9 });
  }

  get step(): number {
    return this.#step;
  }

  get lr(): number {
    return this.#schedule.lrAt(this.#step);
  }

  describe(): string {
    return describeModel(this.#model);
  }

  async #nextBatch(): Promise<Seq2SeqBatch> {
    for (;;) {
      this.#batches ??= this.#loader[Symbol.asyncIterator]();
      const next = await this.#batches.next();
      if (next.done !== true) return next.value;
      this.#batches = null; // epoch over: the next call starts a new (reshuffled) one
    }
  }

  async trainStep(): Promise<ProgressPoint> {
    const batch = await this.#nextBatch();
    const model = this.#model;
    model.train();
    this.#optimizer.lr = this.lr;
    let logits: tf.Tensor3D | null = null;
    let loss: tf.Scalar | null = null;
    try {
      loss = this.#optimizer.minimize(() => {
        const out = teacherForcedStep(model, batch, { labelSmoothing: this.options.labelSmoothing });
        logits = tf.keep(out.output); // [B, T, V], for the accuracy below
        return out.loss;
      });
      // Letters only: <eos> becomes <pad>, which the metric skips (as the translate demo counts).
      const letters = tf.tidy(() =>
        tf.where(tf.equal(batch.tgtOut, EOS_ID), tf.fill(batch.tgtOut.shape, PAD_ID, 'int32'), batch.tgtOut),
      ); // [B, T]
      this.#accuracy.reset();
      try {
        await this.#accuracy.update(logits as unknown as tf.Tensor3D, letters);
      } finally {
        letters.dispose();
      }
      const value = (await loss.data())[0] as number;
      this.#step += 1;
      return { step: this.#step, loss: value, metric: this.#accuracy.result() };
    } finally {
      tf.dispose([loss, logits, batch.src, batch.tgtIn, batch.tgtOut].filter((t) => t !== null));
    }
  }

  async view(input: string): Promise<TaskView> {
    return { kind: 'text', input, output: await this.translate(input) };
  }

  /** Translates space-separated letter names (`'ei bi: si:'` → `'a b c'` once trained). */
  async translate(input: string): Promise<string> {
    const tokens = input
      .trim()
      .split(/\s+/)
      .filter((t) => t.length > 0);
    if (tokens.length === 0)
      throw new DataError('translate: type one or more letter names, e.g. "ei bi: si:"');
    const limit = this.#model.config.maxLength - 1;
    if (tokens.length > limit)
      throw new DataError(
        `translate: the model reads at most ${limit} letter names (its maxLength is ${limit + 1} with <eos>), got ${tokens.length}`,
      );
    this.#model.eval();
    const translator = new Translator({
      model: this.#model,
      srcVocab: this.#srcVocab,
      tgtVocab: this.#tgtVocab,
    });
    const [letters] = await translator.translate([tokens]);
    return (letters ?? []).join(' ');
  }

  async save(): Promise<{ bytes: Uint8Array; fileName: string }> {
    // The translate demo's checkpoint format, so `pnpm demo translate --checkpoint FILE` reads it too.
    const bytes = await encodeSafetensors(this.#model.stateDict(), {
      metadata: {
        format: SEQ2SEQ_CHECKPOINT_FORMAT,
        config: JSON.stringify(this.#model.config),
        src_vocab: JSON.stringify(this.#srcVocab),
        tgt_vocab: JSON.stringify(this.#tgtVocab),
        step: String(this.#step),
      },
    });
    return { bytes, fileName: `translator-step${this.#step}.safetensors` };
  }

  load(bytes: Uint8Array): void {
    let srcVocab: Vocab | undefined;
    let tgtVocab: Vocab | undefined;
    const { model, step } = readTaskCheckpoint(
      bytes,
      SEQ2SEQ_CHECKPOINT_FORMAT,
      'a translator checkpoint',
      (metadata, where) => {
        const parse = (key: string): unknown => {
          const text = metadata[key];
          if (text === undefined) throw new CheckpointError(`${where}: metadata has no '${key}'`);
          try {
            return JSON.parse(text);
          } catch (e) {
            throw new CheckpointError(`${where}: metadata '${key}' is not JSON (${(e as Error).message})`, {
              cause: e,
            });
          }
        };
        srcVocab = Vocab.fromJSON(parse('src_vocab'));
        tgtVocab = Vocab.fromJSON(parse('tgt_vocab'));
        return new Seq2SeqTransformer(parse('config') as Seq2SeqTransformerConfig);
      },
      // Checks that the vocabularies fit the model.
      (m) => new Translator({ model: m, srcVocab: srcVocab as Vocab, tgtVocab: tgtVocab as Vocab }),
    );
    this.#model.dispose();
    this.#optimizer.dispose();
    this.#model = model;
    this.#srcVocab = srcVocab as Vocab;
    this.#tgtVocab = tgtVocab as Vocab;
    this.#optimizer = this.#newOptimizer();
    this.#step = step;
  }

  async probe(): Promise<{ values: Float32Array; shape: number[] }> {
    // The first two training pairs, uncropped: [2, seqLen] ids each side.
    const pairs = [0, 1].map((i) => ({
      src: this.#srcVocab.encode(this.#tokens.src[i] as string[]),
      tgt: this.#tgtVocab.encode(this.#tokens.tgt[i] as string[]),
    }));
    const batch = collatePairs(pairs);
    this.#model.eval();
    const logits = this.#model.forward(batch.src, batch.tgtIn); // [2, seqLen + 1, V]
    try {
      // A copy: on some backends data() hands out the backend's own storage.
      return { values: Float32Array.from(await logits.data()), shape: [...logits.shape] };
    } finally {
      tf.dispose([logits, batch.src, batch.tgtIn, batch.tgtOut]);
    }
  }

  dispose(): void {
    void this.#batches?.return?.();
    this.#model.dispose();
    this.#optimizer.dispose();
  }
}
