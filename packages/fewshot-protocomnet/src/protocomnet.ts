import * as tf from '@tensorflow/tfjs-core';

import {
  ConfigError,
  Linear,
  Module,
  ReLU,
  Sequential,
  ShapeError,
  checkPositiveInt,
  formatShape,
  resolveRng,
} from '@ml/core';
import type { Rng } from '@ml/core';

import type { KnowledgeGraph } from './knowledge-graph.js';

/** Options of {@link ProtoComNet}. */
export interface ProtoComNetOptions {
  /** The class–attribute graph (its word vectors and edges become fixed buffers). */
  graph: KnowledgeGraph;
  /** s: the backbone's feature size (even; the encoder halves it). */
  featureSize: number;
  /** Hidden width of the aggregator MLP (default 300). */
  aggregatorHidden?: number;
  /** Hidden width of the decoder (default 512). */
  decoderHidden?: number;
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link ProtoComNetOptions}: the paper's widths. */
export const DEFAULT_PROTOCOMNET_OPTIONS = { aggregatorHidden: 300, decoderHidden: 512 } as const;

/**
 * Prototype completion (ProtoComNet): from a class's prototype, its word vector and the features of
 * its attributes, predict the class's full feature mean.
 *
 *   encoder     e(x) = ReLU(Linear(s → s/2)(x))                    on the class node and every attribute
 *   aggregator  a(n) = Linear(300 → 1)(ReLU(Linear(2d + s → 300)([w_class ‖ w_n ‖ prototype])))
 *               α = a ⊙ r_class  (r: 1 on the class itself and its attributes, 0 elsewhere)
 *   g           = α_self · e(prototype) + Σ_attributes α_a · e(z_a)
 *   decoder     p̂ = Linear(512 → s)(ReLU(Linear(s/2 → 512)(g)))
 *
 * Parameters keep PyTorch's names: `encoder.0.*`, `aggregator.0.*`, `aggregator.2.*`,
 * `decoder.0.*`, `decoder.2.*`. The graph's word vectors [n, d] and class rows of the adjacency
 * [C, n] are non-persistent buffers (they come from the graph, not from checkpoints).
 */
export class ProtoComNet extends Module {
  readonly featureSize: number;
  readonly numClasses: number;
  readonly numAttributes: number;
  readonly wordSize: number;
  readonly encoder: Sequential;
  readonly aggregator: Sequential;
  readonly decoder: Sequential;
  private readonly wordVectors: tf.Tensor2D;
  private readonly adjacency: tf.Tensor2D;

  constructor(options: ProtoComNetOptions) {
    super();
    const o = { ...DEFAULT_PROTOCOMNET_OPTIONS, ...options };
    const { graph, featureSize: s } = o;
    checkPositiveInt('ProtoComNet', 'featureSize', s);
    if (s % 2 !== 0)
      throw new ConfigError(`ProtoComNet: featureSize must be even (the encoder halves it), got ${s}`);
    checkPositiveInt('ProtoComNet', 'aggregatorHidden', o.aggregatorHidden);
    checkPositiveInt('ProtoComNet', 'decoderHidden', o.decoderHidden);
    const C = graph.baseClasses.length + graph.novelClasses.length;
    const n = graph.nodes.length;
    const d = graph.dimensions;
    if (graph.edges.length !== C || n < C)
      throw new ConfigError(
        `ProtoComNet: graph must have ${C} class nodes with edges, got ${graph.edges.length} edge lists and ${n} nodes`,
      );
    const rng = resolveRng(o.rng, o.seed);
    this.featureSize = s;
    this.numClasses = C;
    this.numAttributes = n - C;
    this.wordSize = d;
    this.encoder = this.registerModule(
      'encoder',
      new Sequential([new Linear({ inFeatures: s, outFeatures: s / 2, rng }), new ReLU()]),
    );
    this.aggregator = this.registerModule(
      'aggregator',
      new Sequential([
        new Linear({ inFeatures: 2 * d + s, outFeatures: o.aggregatorHidden, rng }),
        new ReLU(),
        new Linear({ inFeatures: o.aggregatorHidden, outFeatures: 1, rng }),
      ]),
    );
    this.decoder = this.registerModule(
      'decoder',
      new Sequential([
        new Linear({ inFeatures: s / 2, outFeatures: o.decoderHidden, rng }),
        new ReLU(),
        new Linear({ inFeatures: o.decoderHidden, outFeatures: s, rng }),
      ]),
    );
    const vectors = new Float32Array(n * d);
    graph.nodes.forEach((node, i) => {
      if (node.vector.length !== d)
        throw new ConfigError(
          `ProtoComNet: node '${node.name}' has a ${node.vector.length}-d vector, expected ${d}`,
        );
      vectors.set(node.vector, i * d);
    });
    const adjacency = new Float32Array(C * n);
    graph.edges.forEach((attrs, c) => {
      adjacency[c * n + c] = 1;
      for (const a of attrs) {
        if (!Number.isInteger(a) || a < C || a >= n)
          throw new ConfigError(
            `ProtoComNet: class ${c} links to node ${a}, which is not an attribute node (${C}..${n - 1})`,
          );
        adjacency[c * n + a] = 1;
      }
    });
    this.wordVectors = this.registerBuffer('word_vectors', tf.tensor2d(vectors, [n, d]), {
      persistent: false,
    }) as tf.Tensor2D;
    this.adjacency = this.registerBuffer('adjacency', tf.tensor2d(adjacency, [C, n]), {
      persistent: false,
    }) as tf.Tensor2D;
  }

  /** The attention scores α [B, n] (masked by each class's edges) for prototypes [B, s] of classes [B]. */
  attention(prototypes: tf.Tensor, classIds: tf.Tensor): tf.Tensor2D {
    this.checkInputs(prototypes, classIds);
    return tf.tidy(() => {
      const [first, , last] = this.aggregator.layers as [Linear, ReLU, Linear];
      const d = this.wordSize;
      const ids = tf.cast(classIds, 'int32') as tf.Tensor1D;
      // Linear(2d + s → h) on [w_class ‖ w_node ‖ p] is W_c·w_class + W_n·w_node + W_p·p + b: computing
      // the three products apart costs B + n + B rows instead of B·n concatenated ones.
      const wClass = tf.slice(first.weight, [0, 0], [-1, d]); // [h, d]
      const wNode = tf.slice(first.weight, [0, d], [-1, d]); // [h, d]
      const wProto = tf.slice(first.weight, [0, 2 * d], [-1, this.featureSize]); // [h, s]
      const hClass = tf.matMul(tf.gather(this.wordVectors, ids), wClass, false, true); // [B, h]
      const hNode = tf.matMul(this.wordVectors, wNode, false, true); // [n, h]
      const hProto = tf.matMul(prototypes, wProto, false, true); // [B, h]
      let hidden = tf.add(tf.expandDims(tf.add(hClass, hProto), 1), tf.expandDims(hNode, 0)); // [B, n, h]
      if (first.bias !== null) hidden = tf.add(hidden, first.bias);
      const scores = tf.squeeze(last.forward(tf.relu(hidden)), [2]); // [B, n]
      return tf.mul<tf.Tensor2D>(scores, tf.gather(this.adjacency, ids)); // [B, n]
    });
  }

  /**
   * Completed prototypes. prototypes [B, s] (a class's support mean, or one feature in training),
   * classIds int [B] (class node ids: base classes, then novel), attributeFeatures [F, s] (shared, e.g.
   * the attribute means at inference) or [B, F, s] (per row, e.g. samples μ + ε·σ in training)
   * → [B, s].
   */
  forward(prototypes: tf.Tensor, classIds: tf.Tensor, attributeFeatures: tf.Tensor): tf.Tensor2D {
    this.checkInputs(prototypes, classIds);
    const F = this.numAttributes;
    const s = this.featureSize;
    const B = prototypes.shape[0];
    const ok =
      (attributeFeatures.rank === 2 &&
        attributeFeatures.shape[0] === F &&
        attributeFeatures.shape[1] === s) ||
      (attributeFeatures.rank === 3 &&
        attributeFeatures.shape[0] === B &&
        attributeFeatures.shape[1] === F &&
        attributeFeatures.shape[2] === s);
    if (!ok)
      throw new ShapeError(
        `ProtoComNet: attributeFeatures must be [${F}, ${s}] or [${B}, ${F}, ${s}], got ${formatShape(attributeFeatures.shape)}`,
      );
    return tf.tidy(() => {
      const alpha = this.attention(prototypes, classIds); // [B, n]
      const C = this.numClasses;
      // Only the class itself is unmasked among the class columns, so their sum is α_self.
      const alphaSelf = tf.sum(tf.slice(alpha, [0, 0], [-1, C]), 1, true); // [B, 1]
      const alphaAttr = tf.slice(alpha, [0, C], [-1, F]); // [B, F]
      const self = tf.mul(alphaSelf, this.encoder.forward(prototypes)); // [B, s/2]
      const encoded = this.encoder.forward(attributeFeatures); // [F, s/2] or [B, F, s/2]
      const parts =
        encoded.rank === 2
          ? tf.matMul(alphaAttr, encoded) // [B, s/2]
          : tf.sum(tf.mul(tf.expandDims(alphaAttr, 2), encoded), 1); // [B, s/2]
      return this.decoder.forward(tf.add(self, parts)) as tf.Tensor2D; // [B, s]
    });
  }

  private checkInputs(prototypes: tf.Tensor, classIds: tf.Tensor): void {
    if (prototypes.rank !== 2 || prototypes.shape[1] !== this.featureSize)
      throw new ShapeError(
        `ProtoComNet: prototypes must be [B, ${this.featureSize}] (featureSize = the backbone's feature size), got ${formatShape(prototypes.shape)}`,
      );
    if (classIds.rank !== 1 || classIds.shape[0] !== prototypes.shape[0])
      throw new ShapeError(
        `ProtoComNet: classIds must be [${prototypes.shape[0]}] (one class node id per prototype), got ${formatShape(classIds.shape)}`,
      );
  }
}
