import * as tf from '@tensorflow/tfjs-core';

import { TransformerDecoder, TransformerEncoder, causalMask, sinusoidalEncoding } from '@ml/attention';
import type { Rng } from '@ml/core';
import {
  ConfigError,
  DataError,
  Dropout,
  Embedding,
  Linear,
  Module,
  ShapeError,
  checkPositiveInt,
  checkProbability,
  formatShape,
  init,
  resolveRng,
} from '@ml/core';

import type { StepDecoder } from './step-decoder.js';
import { EOS_ID, PAD_ID } from './vocab.js';

/** The JSON-serialisable settings of a {@link Seq2SeqTransformer} (what a checkpoint stores). */
export interface Seq2SeqTransformerConfig {
  /** Source vocabulary size (rows of `src_embed`). */
  srcVocabSize: number;
  /** Target vocabulary size (rows of `tgt_embed`, outputs of `generator`). */
  tgtVocabSize: number;
  /** Model width D (default 64). */
  dModel: number;
  /** Attention heads; D must be divisible by it (default 4). */
  heads: number;
  /** Encoder layers (default 2). */
  encoderLayers: number;
  /** Decoder layers (default 2). */
  decoderLayers: number;
  /** Hidden width of the feed-forward blocks (default 128). */
  dimFeedforward: number;
  /** Dropout on embeddings, attention weights and inside every block (default 0.1). */
  dropout: number;
  /** Feed-forward nonlinearity (default 'relu'). */
  activation: 'relu' | 'gelu';
  /** Pre-norm layers (default false: post-norm, as the original Transformer). */
  normFirst: boolean;
  /**
   * Size of the sinusoidal position table: the longest source and the longest decoder input
   * (`<bos>` + target) the model accepts (default 64).
   */
  maxLength: number;
  /** Share one matrix between `tgt_embed` and the output projection (default false). */
  tieWeights: boolean;
  /** Multiply token embeddings by √D before adding positions, as the paper (default true). */
  scaleEmbeddings: boolean;
  /** The padding id: masked out of attention on both sides (default {@link PAD_ID}). */
  padId: number;
  /**
   * Append `<eos>` ({@link EOS_ID}) after every source inside the model, as fairseq does (default
   * false, as `nn.Transformer`). The decoder then sees where the source ends, which makes output
   * lengths follow input lengths; sources may be one token shorter than `maxLength`.
   */
  sourceEos: boolean;
}

/** Options of {@link Seq2SeqTransformer}: the config (sizes required, the rest defaulted) plus randomness. */
export type Seq2SeqTransformerOptions = Pick<Seq2SeqTransformerConfig, 'srcVocabSize' | 'tgtVocabSize'> &
  Partial<Omit<Seq2SeqTransformerConfig, 'srcVocabSize' | 'tgtVocabSize'>> & {
    /** Randomness for init and dropout; default: seeded with `seed`, else forked from the default generator (`manualSeed`). */
    rng?: Rng;
    seed?: number;
  };

/** Defaults of {@link Seq2SeqTransformerOptions}: a small model that trains in seconds on a CPU. */
export const DEFAULT_SEQ2SEQ_TRANSFORMER_OPTIONS = {
  dModel: 64,
  heads: 4,
  encoderLayers: 2,
  decoderLayers: 2,
  dimFeedforward: 128,
  dropout: 0.1,
  activation: 'relu',
  normFirst: false,
  maxLength: 64,
  tieWeights: false,
  scaleEmbeddings: true,
  padId: PAD_ID,
  sourceEos: false,
} as const satisfies Omit<Seq2SeqTransformerConfig, 'srcVocabSize' | 'tgtVocabSize'>;

/** Named model sizes; combine with vocabulary sizes: `new Seq2SeqTransformer({ ...SEQ2SEQ_CONFIGS.base, srcVocabSize, tgtVocabSize })`. */
export const SEQ2SEQ_CONFIGS = {
  /** The paper's "base" model: d_model 512, 8 heads, 6 + 6 layers, feed-forward 2048. */
  base: { dModel: 512, heads: 8, encoderLayers: 6, decoderLayers: 6, dimFeedforward: 2048, dropout: 0.1 },
  /** The default: d_model 64, 4 heads, 2 + 2 layers, feed-forward 128. */
  small: { dModel: 64, heads: 4, encoderLayers: 2, decoderLayers: 2, dimFeedforward: 128, dropout: 0.1 },
  /** For tests: d_model 16, 2 heads, 1 + 1 layers, feed-forward 32. */
  tiny: { dModel: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, dimFeedforward: 32, dropout: 0 },
} as const satisfies Record<string, Partial<Seq2SeqTransformerConfig>>;

/** The name of a {@link SEQ2SEQ_CONFIGS} entry. */
export type Seq2SeqConfigName = keyof typeof SEQ2SEQ_CONFIGS;

/** The output projection when it shares `tgt_embed`'s matrix: only its bias is its own. */
class TiedGenerator extends Module {
  readonly bias: tf.Variable;

  constructor(
    readonly embedding: Embedding,
    size: number,
  ) {
    super();
    this.bias = this.registerParameter('bias', tf.zeros([size]));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = tf.reshape(x, [-1, this.embedding.embeddingDim]); // [N, D]
      const y = tf.add(tf.matMul(x2, this.embedding.weight, false, true), this.bias); // [N, V]
      return tf.reshape(y, [...lead, this.embedding.numEmbeddings]); // [..., V]
    });
  }
}

/** The encoder and decoder stacks under one name, as `torch.nn.Transformer` holds them. */
export class EncoderDecoder extends Module {
  constructor(
    readonly encoder: TransformerEncoder,
    readonly decoder: TransformerDecoder,
  ) {
    super();
    this.registerModule('encoder', encoder);
    this.registerModule('decoder', decoder);
  }
}

function resolveConfig(options: Seq2SeqTransformerOptions): Seq2SeqTransformerConfig {
  const where = 'Seq2SeqTransformer';
  const d = DEFAULT_SEQ2SEQ_TRANSFORMER_OPTIONS;
  const c: Seq2SeqTransformerConfig = {
    srcVocabSize: options.srcVocabSize,
    tgtVocabSize: options.tgtVocabSize,
    dModel: options.dModel ?? d.dModel,
    heads: options.heads ?? d.heads,
    encoderLayers: options.encoderLayers ?? d.encoderLayers,
    decoderLayers: options.decoderLayers ?? d.decoderLayers,
    dimFeedforward: options.dimFeedforward ?? d.dimFeedforward,
    dropout: options.dropout ?? d.dropout,
    activation: options.activation ?? d.activation,
    normFirst: options.normFirst ?? d.normFirst,
    maxLength: options.maxLength ?? d.maxLength,
    tieWeights: options.tieWeights ?? d.tieWeights,
    scaleEmbeddings: options.scaleEmbeddings ?? d.scaleEmbeddings,
    padId: options.padId ?? d.padId,
    sourceEos: options.sourceEos ?? d.sourceEos,
  };
  for (const key of [
    'srcVocabSize',
    'tgtVocabSize',
    'dModel',
    'heads',
    'encoderLayers',
    'decoderLayers',
    'dimFeedforward',
    'maxLength',
  ] as const) {
    checkPositiveInt(where, key, c[key]);
  }
  if (c.dModel % c.heads !== 0)
    throw new ConfigError(`${where}: dModel (${c.dModel}) must be divisible by heads (${c.heads})`);
  // Sinusoidal tables interleave sin and cos, so the width must be even.
  if (c.dModel % 2 !== 0)
    throw new ConfigError(`${where}: dModel must be even for sinusoidal positions, got ${c.dModel}`);
  checkProbability(where, 'dropout', c.dropout);
  if (c.activation !== 'relu' && c.activation !== 'gelu')
    throw new ConfigError(`${where}: activation must be 'relu' or 'gelu', got ${String(c.activation)}`);
  if (!Number.isInteger(c.padId) || c.padId < 0 || c.padId >= Math.min(c.srcVocabSize, c.tgtVocabSize)) {
    throw new ConfigError(
      `${where}: padId must be an id of both vocabularies, in [0, ${Math.min(c.srcVocabSize, c.tgtVocabSize)}), got ${String(c.padId)}`,
    );
  }
  if (c.sourceEos && (EOS_ID >= c.srcVocabSize || c.padId === EOS_ID)) {
    throw new ConfigError(
      `${where}: sourceEos needs <eos> (id ${EOS_ID}) in the source vocabulary and different from padId, got srcVocabSize ${c.srcVocabSize}, padId ${c.padId}`,
    );
  }
  if (c.sourceEos && c.maxLength < 2)
    throw new ConfigError(`${where}: sourceEos needs maxLength >= 2 (a token and <eos>), got ${c.maxLength}`);
  for (const key of ['normFirst', 'tieWeights', 'scaleEmbeddings', 'sourceEos'] as const) {
    if (typeof c[key] !== 'boolean')
      throw new ConfigError(`${where}: ${key} must be a boolean, got ${String(c[key])}`);
  }
  return c;
}

/**
 * An encoder-decoder Transformer for sequence-to-sequence tasks ("Attention Is All You Need"): token embeddings (initialised N(0, 1/D) and scaled by √D,
 * as fairseq; with `scaleEmbeddings: false`, PyTorch's N(0, 1) unscaled), sinusoidal positions looked up by
 * position, an encoder and a decoder stack from @ml/attention (each with a final LayerNorm, as
 * `torch.nn.Transformer`), and a linear projection to target logits. `<pad>` is masked out of
 * every attention; the decoder's self-attention is causal.
 *
 * Parameter names match a PyTorch model made of `src_embed`/`tgt_embed` (`nn.Embedding`),
 * `transformer` (`nn.Transformer(batch_first=True)`) and `generator` (`nn.Linear`), so such a
 * state dict loads directly. With `tieWeights`, `generator` holds only a bias and reuses
 * `tgt_embed.weight`.
 *
 * src int32 [B, S], tgtIn int32 [B, T] → logits [B, T, tgtVocabSize].
 */
export class Seq2SeqTransformer extends Module {
  /** The resolved settings; `new Seq2SeqTransformer(model.config)` builds the same architecture. */
  readonly config: Readonly<Seq2SeqTransformerConfig>;
  readonly srcEmbed: Embedding;
  readonly tgtEmbed: Embedding;
  readonly transformer: EncoderDecoder;
  readonly generator: Linear | TiedGenerator;
  readonly embedDropout: Dropout;
  /** [maxLength, D] sinusoidal table; a constant, not part of the state dict (PyTorch: a non-persistent buffer). */
  readonly #positions: tf.Tensor2D;

  constructor(options: Seq2SeqTransformerOptions) {
    super();
    const c = resolveConfig(options);
    this.config = Object.freeze(c);
    const rng = resolveRng(options.rng, options.seed);
    const D = c.dModel;
    this.srcEmbed = this.registerModule(
      'src_embed',
      new Embedding({ numEmbeddings: c.srcVocabSize, embeddingDim: D, rng }),
    );
    this.tgtEmbed = this.registerModule(
      'tgt_embed',
      new Embedding({ numEmbeddings: c.tgtVocabSize, embeddingDim: D, rng }),
    );
    const layer = {
      dim: D,
      heads: c.heads,
      dimFeedforward: c.dimFeedforward,
      dropout: c.dropout,
      activation: c.activation,
      normFirst: c.normFirst,
      finalNorm: true,
      rng,
    };
    this.transformer = this.registerModule(
      'transformer',
      new EncoderDecoder(
        new TransformerEncoder({ ...layer, numLayers: c.encoderLayers }),
        new TransformerDecoder({ ...layer, numLayers: c.decoderLayers }),
      ),
    );
    if (c.scaleEmbeddings) {
      // N(0, 1/D) rows, so that after the ×√D scale tokens and positions have comparable size (as
      // fairseq); PyTorch's N(0, 1) default would drown the positions by a factor √D.
      for (const e of [this.srcEmbed, this.tgtEmbed])
        tf.tidy(() => e.weight.assign(init.normal(rng, e.weight.shape, 0, 1 / Math.sqrt(D))));
    }
    this.generator = this.registerModule(
      'generator',
      c.tieWeights
        ? new TiedGenerator(this.tgtEmbed, c.tgtVocabSize)
        : new Linear({ inFeatures: D, outFeatures: c.tgtVocabSize, rng }),
    );
    this.embedDropout = this.registerModule('dropout', new Dropout({ p: c.dropout, rng: rng.fork() }));
    // A non-persistent buffer: kept past any tf.tidy the model is built in, disposed with the model
    // (also when it is a child of another module), never saved.
    this.#positions = this.registerBuffer('positions', sinusoidalEncoding(c.maxLength, D), {
      persistent: false,
    }) as tf.Tensor2D;
  }

  /** The longest source the model takes: `maxLength`, less one with `sourceEos`. */
  get maxSourceLength(): number {
    return this.config.maxLength - (this.config.sourceEos ? 1 : 0);
  }

  #checkIds(where: string, name: string, ids: tf.Tensor, limit: number): void {
    if (ids.rank !== 2)
      throw new ShapeError(`${where}: ${name} must be token ids [B, T], got ${formatShape(ids.shape)}`);
    if (ids.dtype !== 'int32')
      throw new DataError(`${where}: ${name} must be an int32 tensor, got dtype ${ids.dtype}`);
    const t = ids.shape[1] as number;
    if (t === 0)
      throw new ShapeError(
        `${where}: ${name} must hold at least one token per sequence, got ${formatShape(ids.shape)}`,
      );
    if (t > limit) {
      const eos =
        limit < this.config.maxLength
          ? `: ${limit}, maxLength ${this.config.maxLength} less one for the <eos> that sourceEos appends`
          : ` (maxLength ${limit})`;
      throw new ShapeError(
        `${where}: ${name} has ${t} positions, more than the position table holds${eos}; build the model with a larger maxLength`,
      );
    }
  }

  // With sourceEos: src [B, S] right-padded → [B, S + 1] with <eos> right after each sequence.
  #sourceIds(src: tf.Tensor): tf.Tensor {
    if (!this.config.sourceEos) return src;
    return tf.tidy(() => {
      const [b, s] = src.shape as [number, number];
      const padded = tf.pad(
        src,
        [
          [0, 0],
          [0, 1],
        ],
        this.config.padId,
      ); // [B, S+1]
      const lengths = tf.sum(tf.cast(tf.notEqual(src, this.config.padId), 'int32'), 1, true); // [B, 1]
      const end = tf.equal(tf.reshape(tf.range(0, s + 1, 1, 'int32'), [1, s + 1]), lengths); // [B, S+1]
      return tf.where(end, tf.fill([b, s + 1], EOS_ID, 'int32'), padded);
    });
  }

  // An id outside the vocabulary is a DataError naming the input (src or tgtIn) and its range.
  #lookUp(embedding: Embedding, ids: tf.Tensor, name: 'src' | 'tgtIn'): tf.Tensor {
    try {
      return embedding.forward(ids);
    } catch (e) {
      const id =
        e instanceof DataError ? /^Embedding: id (\S+) is out of range/.exec(e.message)?.[1] : undefined;
      if (id === undefined) throw e;
      const size = name === 'src' ? 'srcVocabSize' : 'tgtVocabSize';
      throw new DataError(
        `Seq2SeqTransformer: ${name} id ${id} is out of range [0, ${embedding.numEmbeddings}) (${size} ${embedding.numEmbeddings})`,
        { cause: e },
      );
    }
  }

  // Token embeddings (scaled) plus positions, then dropout: ids [B, T] → [B, T, D].
  #embed(embedding: Embedding, ids: tf.Tensor, name: 'src' | 'tgtIn'): tf.Tensor3D {
    return tf.tidy(() => {
      const t = ids.shape[1] as number;
      let x = this.#lookUp(embedding, ids, name); // [B, T, D]
      if (this.config.scaleEmbeddings) x = tf.mul(x, Math.sqrt(this.config.dModel));
      const pos = tf.slice(this.#positions, [0, 0], [t, this.config.dModel]); // [T, D]
      return this.embedDropout.forward(tf.add(x, pos)) as tf.Tensor3D;
    });
  }

  /** Runs the encoder: src int32 [B, S] → memory [B, S, D] ([B, S + 1, D] with `sourceEos`). */
  encode(src: tf.Tensor): tf.Tensor3D {
    this.#checkIds('Seq2SeqTransformer.encode', 'src', src, this.maxSourceLength);
    return tf.tidy(() => {
      const ids = this.#sourceIds(src); // [B, S(+1)]
      const padding = tf.equal(ids, this.config.padId); // [B, S(+1)]
      return this.transformer.encoder.forward(this.#embed(this.srcEmbed, ids, 'src'), {
        keyPaddingMask: padding,
      });
    });
  }

  /**
   * Runs the decoder and the projection: tgtIn int32 [B, T] (`<bos>` + target), memory from
   * {@link encode} and the source ids [B, S] it came from (for the padding mask) → logits [B, T, V]. With `lastOnly`, only the
   * last position is projected: [B, 1, V].
   */
  decode(
    tgtIn: tf.Tensor,
    memory: tf.Tensor,
    src: tf.Tensor,
    options: { lastOnly?: boolean } = {},
  ): tf.Tensor3D {
    const where = 'Seq2SeqTransformer.decode';
    this.#checkIds(where, 'tgtIn', tgtIn, this.config.maxLength);
    const extra = this.config.sourceEos ? 1 : 0;
    if (
      memory.rank !== 3 ||
      memory.shape[0] !== tgtIn.shape[0] ||
      memory.shape[1] !== (src.shape[1] as number) + extra ||
      memory.shape[2] !== this.config.dModel
    ) {
      const s = this.config.sourceEos ? 'S + 1' : 'S';
      throw new ShapeError(
        `${where}: memory must be [B, ${s}, ${this.config.dModel}] with B and S of tgtIn ${formatShape(tgtIn.shape)} and src ${formatShape(src.shape)}, got ${formatShape(memory.shape)}`,
      );
    }
    return tf.tidy(() => {
      const t = tgtIn.shape[1] as number;
      let h = this.transformer.decoder.forward(this.#embed(this.tgtEmbed, tgtIn, 'tgtIn'), memory, {
        tgtMask: causalMask(t),
        tgtKeyPaddingMask: tf.equal(tgtIn, this.config.padId), // [B, T]
        memoryKeyPaddingMask: tf.equal(this.#sourceIds(src), this.config.padId), // [B, S(+1)]
      }); // [B, T, D]
      if (options.lastOnly) h = tf.slice(h, [0, t - 1, 0], [-1, 1, -1]); // [B, 1, D]
      return this.generator.forward(h) as tf.Tensor3D; // [B, T|1, V]
    });
  }

  /** Teacher-forced forward pass: src int32 [B, S], tgtIn int32 [B, T] → logits [B, T, tgtVocabSize]. */
  forward(src: tf.Tensor, tgtIn: tf.Tensor): tf.Tensor3D {
    this.#checkIds('Seq2SeqTransformer.forward', 'src', src, this.maxSourceLength);
    this.#checkIds('Seq2SeqTransformer.forward', 'tgtIn', tgtIn, this.config.maxLength);
    if (src.shape[0] !== tgtIn.shape[0]) {
      throw new ShapeError(
        `Seq2SeqTransformer.forward: src and tgtIn must have the same batch size, got ${formatShape(src.shape)} and ${formatShape(tgtIn.shape)}`,
      );
    }
    return tf.tidy(() => this.decode(tgtIn, this.encode(src), src));
  }

  /**
   * Encodes `src` int32 [B, S] once and returns a {@link StepDecoder} over it for
   * {@link greedySearch}/{@link beamSearch}; dispose it when done. Put the model in eval mode first
   * ({@link translate} does).
   */
  stepDecoder(src: tf.Tensor): Seq2SeqStepDecoder {
    return new Seq2SeqStepDecoder(this, src);
  }
}

/**
 * A {@link StepDecoder} over one encoded source batch: keeps the encoder output and, for beams,
 * its rows repeated per hypothesis. Each step reruns the decoder on the whole prefix (no key/value
 * cache: the toy sequences are short) and projects only the last position.
 */
export class Seq2SeqStepDecoder implements StepDecoder {
  readonly batchSize: number;
  readonly #model: Seq2SeqTransformer;
  readonly #expanded = new Map<number, { memory: tf.Tensor3D; src: tf.Tensor2D }>();

  constructor(model: Seq2SeqTransformer, src: tf.Tensor) {
    this.#model = model;
    const memory = model.encode(src);
    this.batchSize = src.shape[0];
    this.#expanded.set(1, { memory, src: tf.clone(src) as tf.Tensor2D });
  }

  step(prefix: tf.Tensor2D): tf.Tensor2D {
    const n = prefix.shape[0];
    if (n % this.batchSize !== 0) {
      throw new ShapeError(
        `Seq2SeqStepDecoder.step: the number of prefixes must be a multiple of the batch size ${this.batchSize}, got ${formatShape(prefix.shape)}`,
      );
    }
    const r = n / this.batchSize;
    let entry = this.#expanded.get(r);
    if (entry === undefined) {
      const base = this.#expanded.get(1) as { memory: tf.Tensor3D; src: tf.Tensor2D };
      // Row b·r + j belongs to source b: repeat each source row r times, kept past the caller's tidy.
      entry = tf.tidy(() => {
        const rows = tf.reshape(
          tf.tile(tf.reshape(tf.range(0, this.batchSize, 1, 'int32'), [-1, 1]), [1, r]),
          [-1],
        ); // [B·r]
        return { memory: tf.keep(tf.gather(base.memory, rows)), src: tf.keep(tf.gather(base.src, rows)) };
      });
      this.#expanded.set(r, entry);
    }
    const { memory, src } = entry;
    return tf.tidy(() =>
      tf.squeeze<tf.Tensor2D>(this.#model.decode(prefix, memory, src, { lastOnly: true }), [1]),
    ); // [N, V]
  }

  /** Frees the encoder output kept for decoding. */
  dispose(): void {
    for (const { memory, src } of this.#expanded.values()) tf.dispose([memory, src]);
    this.#expanded.clear();
  }
}
