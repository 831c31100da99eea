import * as tf from '@tensorflow/tfjs-core';

import {
  Module,
  ShapeError,
  checkPositiveInt,
  checkProbability,
  dropout as applyDropout,
  formatShape,
  linear,
  resolveRng,
} from '@ml/core';
import type { Rng } from '@ml/core';

import { recurrentInit } from './cell-common.js';
import { lengthTensors, resolveLengths } from './sequence-lengths.js';
import type { LengthTensors } from './sequence-lengths.js';

/** Options shared by {@link LSTM} and {@link GRU} (PyTorch's names in camelCase). */
export interface RecurrentOptions {
  /** Features per step of the input. */
  inputSize: number;
  /** Features of the hidden state H. */
  hiddenSize: number;
  /** Stacked layers (default 1); layer k > 0 reads layer k − 1's outputs. */
  numLayers?: number;
  /** Learned biases b_ih and b_hh (default true). */
  bias?: boolean;
  /** Input and output are [B, T, F] (default true, as elsewhere in @ml); false: [T, B, F] like PyTorch's default. */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer except the last, in training mode (default 0). */
  dropout?: number;
  /** Also run each layer right to left and concatenate both directions' outputs (default false). */
  bidirectional?: boolean;
  /** Randomness for init and dropout; default: seeded with `seed`, else forked from the default generator. */
  rng?: Rng;
  seed?: number;
}

/** Defaults of {@link RecurrentOptions}. */
export const DEFAULT_RECURRENT_OPTIONS = {
  numLayers: 1,
  bias: true,
  batchFirst: true,
  dropout: 0,
  bidirectional: false,
} as const;

/** Options of a recurrent layer's forward pass. */
export interface RecurrentForwardOptions {
  /** Initial hidden state [numLayers·directions, B, H] (default zeros); index = layer·directions + direction. */
  h0?: tf.Tensor;
  /**
   * Valid steps per sequence, each in [1, T] (padding at the end). Outputs past a sequence's length
   * are zero and its final state is the state at its last valid step, as with PyTorch's
   * `pack_padded_sequence` / `pad_packed_sequence`. A tensor is read on the host to be checked.
   */
  lengths?: ArrayLike<number> | tf.Tensor;
  /** [B, T] bool, true at padding (at the end of each row): the other way to give `lengths`. */
  paddingMask?: tf.Tensor;
}

/** Per layer and direction, the parameters of one recurrent cell. */
export interface CellWeights {
  wih: tf.Variable; // [G·H, in]
  whh: tf.Variable; // [G·H, H]
  bih: tf.Variable | null; // [G·H]
  bhh: tf.Variable | null; // [G·H]
}

/** What one direction of one layer produced, time-major. */
export interface DirectionResult {
  /** Hidden states for every step [T, B, H]. */
  hs: tf.Tensor3D;
  /** Final cell state [B, H], read at each sequence's last valid step (LSTM only). */
  cFinal: tf.Tensor2D | null;
}

/**
 * The shared part of {@link LSTM} and {@link GRU}: parameters named as in PyTorch
 * (`weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}`, `_reverse` for the backward
 * direction), PyTorch's init U(±1/√H), input/state checks, layer stacking, directions, variable
 * lengths and inter-layer dropout. Subclasses supply the recurrence of one direction.
 */
export abstract class RecurrentLayer extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  /** 2 when bidirectional, else 1. */
  readonly numDirections: number;
  /** cells[layer][direction]. */
  readonly cells: CellWeights[][];
  readonly rng: Rng;
  protected readonly where: string;

  protected constructor(where: string, gates: number, options: RecurrentOptions) {
    super();
    this.where = where;
    const o = { ...DEFAULT_RECURRENT_OPTIONS, ...options };
    checkPositiveInt(where, 'inputSize', o.inputSize);
    checkPositiveInt(where, 'hiddenSize', o.hiddenSize);
    checkPositiveInt(where, 'numLayers', o.numLayers);
    checkProbability(where, 'dropout', o.dropout);
    this.inputSize = o.inputSize;
    this.hiddenSize = o.hiddenSize;
    this.numLayers = o.numLayers;
    this.bias = o.bias;
    this.batchFirst = o.batchFirst;
    this.dropout = o.dropout;
    this.bidirectional = o.bidirectional;
    this.numDirections = o.bidirectional ? 2 : 1;
    const rng = resolveRng(options.rng, options.seed);
    const H = o.hiddenSize;
    const draw = rng.uniformArray.bind(rng);
    const uniform = (shape: number[]): tf.Tensor => recurrentInit(draw, shape, H);
    this.cells = [];
    for (let layer = 0; layer < o.numLayers; layer++) {
      const inSize = layer === 0 ? o.inputSize : H * this.numDirections;
      const row: CellWeights[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const suffix = `_l${layer}${d === 1 ? '_reverse' : ''}`;
        row.push({
          wih: this.registerParameter(`weight_ih${suffix}`, uniform([gates * H, inSize])),
          whh: this.registerParameter(`weight_hh${suffix}`, uniform([gates * H, H])),
          bih: o.bias ? this.registerParameter(`bias_ih${suffix}`, uniform([gates * H])) : null,
          bhh: o.bias ? this.registerParameter(`bias_hh${suffix}`, uniform([gates * H])) : null,
        });
      }
      this.cells.push(row);
    }
    this.rng = this.registerGenerator('rng', rng.fork());
  }

  /**
   * Runs one direction of one layer on time-major input projections: `xp` [T, B, G·H] already holds
   * x·W_ihᵀ (+ the biases the recurrence wants folded in, see {@link RecurrentLayer.inputBias}).
   */
  protected abstract runDirection(
    xp: tf.Tensor3D,
    cell: CellWeights,
    h0: tf.Tensor2D,
    c0: tf.Tensor2D | null,
    lastStep: tf.Tensor3D | null,
  ): DirectionResult;

  /** The bias added to the input projection of every step (LSTM: b_ih + b_hh; GRU: b_ih). */
  protected abstract inputBias(cell: CellWeights): tf.Tensor1D | null;

  /** Checks the input; returns [B, T]. */
  protected checkInput(x: tf.Tensor): [number, number] {
    const layout = this.batchFirst ? 'B, T' : 'T, B';
    if (x.rank !== 3 || x.shape[2] !== this.inputSize)
      throw new ShapeError(
        `${this.where}: input must be [${layout}, inputSize] = [${layout}, ${this.inputSize}], got ${formatShape(x.shape)}`,
      );
    const [a, b] = x.shape as [number, number, number];
    if (a === 0 || b === 0)
      throw new ShapeError(
        `${this.where}: input must have at least one sequence and one step, got ${formatShape(x.shape)}`,
      );
    return this.batchFirst ? [a, b] : [b, a];
  }

  /** Checks an initial state [L·D, B, H]. */
  protected checkState(name: string, s: tf.Tensor | undefined, batch: number): void {
    if (s === undefined) return;
    const want = [this.numLayers * this.numDirections, batch, this.hiddenSize];
    if (s.rank !== 3 || s.shape.some((d, i) => d !== want[i]))
      throw new ShapeError(
        `${this.where}: ${name} must be [numLayers·directions, B, H] = ${formatShape(want)}, got ${formatShape(s.shape)}`,
      );
  }

  /**
   * The whole stack on x ([B, T, inputSize] batch-first, else [T, B, inputSize]): outputs of the last
   * layer ([B, T, D·H] or [T, B, D·H]) and final states per layer and direction [L·D, B, H].
   */
  protected runStack(
    x: tf.Tensor,
    options: RecurrentForwardOptions & { c0?: tf.Tensor },
    withCell: boolean,
  ): { output: tf.Tensor3D; h: tf.Tensor3D; c: tf.Tensor3D | null } {
    const [B, T] = this.checkInput(x);
    this.checkState('h0', options.h0, B);
    if (withCell) this.checkState('c0', options.c0, B);
    const lengths = resolveLengths(this.where, options.lengths, options.paddingMask, B, T);
    const H = this.hiddenSize;
    const lt: LengthTensors | null = lengths === null ? null : lengthTensors(lengths, T);
    try {
      const result = tf.tidy<{ output: tf.Tensor3D; h: tf.Tensor3D; c?: tf.Tensor3D }>(() => {
        let input = (this.batchFirst ? tf.transpose(x, [1, 0, 2]) : x) as tf.Tensor3D; // [T, B, in]
        const zeros = tf.zeros<tf.Rank.R2>([B, H]);
        const hFinal: tf.Tensor2D[] = [];
        const cFinal: tf.Tensor2D[] = [];
        for (let layer = 0; layer < this.numLayers; layer++) {
          const inSize = input.shape[2];
          const flat = tf.reshape(input, [T * B, inSize]); // [T·B, in]
          const outs: tf.Tensor3D[] = [];
          for (let d = 0; d < this.numDirections; d++) {
            const cell = (this.cells[layer] as CellWeights[])[d] as CellWeights;
            const k = layer * this.numDirections + d;
            const h0 = stateAt(options.h0, k, B, H) ?? zeros;
            const c0 = withCell ? (stateAt(options.c0, k, B, H) ?? zeros) : null;
            // Right to left: reverse each sequence within its length (padding stays at the end).
            const src =
              d === 0 ? flat : lt ? tf.gather(flat, lt.reverseIndex) : reverseTime(flat as tf.Tensor2D, T, B);
            const xp = linear(src, cell.wih, this.inputBias(cell)); // x·W_ihᵀ + bias: [T·B, G·H]
            const G = cell.wih.shape[0];
            const { hs, cFinal: cf } = this.runDirection(
              tf.reshape(xp, [T, B, G]),
              cell,
              h0,
              c0,
              lt?.lastStep ?? null,
            );
            // Steps past a sequence's length computed on padding; they never feed a valid step (the
            // recurrence is causal), so masking the outputs and reading the final state at the last
            // valid step gives exactly the packed-sequence results and gradients.
            hFinal.push(finalState(hs, lt, T, B, H));
            if (cf !== null) cFinal.push(cf);
            let out = hs;
            if (d === 1) {
              const hf = tf.reshape(hs, [T * B, H]);
              out = tf.reshape(lt ? tf.gather(hf, lt.reverseIndex) : reverseTime(hf as tf.Tensor2D, T, B), [
                T,
                B,
                H,
              ]);
            }
            if (lt) out = tf.mul(out, lt.validMask);
            outs.push(out);
          }
          input = outs.length === 1 ? (outs[0] as tf.Tensor3D) : tf.concat(outs, 2); // [T, B, D·H]
          if (this.training && this.dropout > 0 && layer < this.numLayers - 1)
            input = applyDropout(input, this.dropout, this.rng) as tf.Tensor3D;
        }
        const output = this.batchFirst ? tf.transpose(input, [1, 0, 2]) : input;
        return {
          output, // [B, T, D·H] or [T, B, D·H]
          h: tf.stack(hFinal) as tf.Tensor3D, // [L·D, B, H]
          ...(withCell ? { c: tf.stack(cFinal) as tf.Tensor3D } : {}), // [L·D, B, H]
        };
      });
      return { output: result.output, h: result.h, c: result.c ?? null };
    } finally {
      if (lt) tf.dispose([lt.reverseIndex, lt.validMask, lt.lastStep]);
    }
  }
}

function stateAt(s: tf.Tensor | undefined, k: number, B: number, H: number): tf.Tensor2D | null {
  return s === undefined ? null : tf.reshape<tf.Rank.R2>(tf.slice(s, [k, 0, 0], [1, B, H]), [B, H]);
}

function reverseTime(flat: tf.Tensor2D, T: number, B: number): tf.Tensor2D {
  const F = flat.shape[1];
  return tf.reshape(tf.reverse(tf.reshape(flat, [T, B, F]), 0), [T * B, F]);
}

function finalState(s: tf.Tensor3D, lt: LengthTensors | null, T: number, B: number, H: number): tf.Tensor2D {
  if (lt === null) return tf.reshape(tf.slice(s, [T - 1, 0, 0], [1, B, H]), [B, H]);
  return tf.sum<tf.Tensor2D>(tf.mul(s, lt.lastStep), 0); // [B, H]
}
