// A small Vision Transformer learning MNIST digits in the page: @ml/vit's M28/7 config (patches of
// 7×7, so 16 patches and a [class] token) on a 1500-digit subset, with attention rollout drawn over
// held-out digits.
import * as tf from '@tensorflow/tfjs-core';

import { Adam, DataError, Rng, crossEntropy, encodeSafetensors } from '@ml/core';
import { attentionRollout, createVit, type VisionTransformer } from '@ml/vit';

import {
  MNIST_HELD_OUT_PER_DIGIT,
  MNIST_PER_DIGIT,
  MNIST_PIXELS,
  MNIST_SUBSET_FILE,
} from './mnist-subset-format.js';
import { readTaskCheckpoint } from './checkpoint-io.js';
import type { MetricInfo, ProgressPoint, TaskView } from './protocol.js';
import type { PlaygroundTask } from './task.js';

/** Settings of the ViT task. */
export interface VitTaskOptions {
  /** Seeds the model, dropout and the batch draws. */
  seed: number;
  batchSize: number;
  /** Adam's learning rate. */
  lr: number;
}

/** Defaults of {@link VitTaskOptions}. */
export const DEFAULT_VIT_TASK_OPTIONS: VitTaskOptions = { seed: 0, batchSize: 32, lr: 1e-3 };

/** The named @ml/vit config the task trains. */
export const VIT_TASK_CONFIG = 'M28/7';

/** The `format` metadata of the ViT task's checkpoints. */
export const VIT_CHECKPOINT_FORMAT = '@ml/playground/vit-mnist/v1';

/** Digits as bytes and labels. */
export interface DigitSet {
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** Splits the subset file into training digits and held-out digits (the last few of each class). */
export function splitDigits(bytes: Uint8Array): { train: DigitSet; test: DigitSet } {
  const expected = 10 * MNIST_PER_DIGIT * MNIST_PIXELS;
  if (bytes.length !== expected)
    throw new DataError(
      `${MNIST_SUBSET_FILE}: expected ${expected} bytes (10 × ${MNIST_PER_DIGIT} digits), got ${bytes.length}`,
    );
  const keep = MNIST_PER_DIGIT - MNIST_HELD_OUT_PER_DIGIT;
  const make = (count: number): DigitSet => ({
    pixels: new Uint8Array(count * MNIST_PIXELS),
    labels: new Uint8Array(count),
    count,
  });
  const train = make(10 * keep);
  const test = make(10 * MNIST_HELD_OUT_PER_DIGIT);
  for (let d = 0; d < 10; d++) {
    for (let i = 0; i < MNIST_PER_DIGIT; i++) {
      const into = i < keep ? train : test;
      const at = i < keep ? d * keep + i : d * MNIST_HELD_OUT_PER_DIGIT + (i - keep);
      const from = (d * MNIST_PER_DIGIT + i) * MNIST_PIXELS;
      into.pixels.set(bytes.subarray(from, from + MNIST_PIXELS), at * MNIST_PIXELS);
      into.labels[at] = d;
    }
  }
  return { train, test };
}

/** Fetches the subset from beside this bundle chunk (where the playground's Vite plugin puts it). */
export async function fetchDigits(): Promise<{ train: DigitSet; test: DigitSet }> {
  const url = new URL(MNIST_SUBSET_FILE, import.meta.url).href;
  const response = await fetch(url);
  if (!response.ok)
    throw new DataError(`ViT task: fetching the MNIST subset from ${url} failed: HTTP ${response.status}`);
  return splitDigits(new Uint8Array(await response.arrayBuffer()));
}

// Images `rows` of a set as x [B, 28, 28, 1] in [0, 1] and labels [B].
function batchOf(set: DigitSet, rows: readonly number[]): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const x = new Float32Array(rows.length * MNIST_PIXELS);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    for (let p = 0; p < MNIST_PIXELS; p++)
      x[i * MNIST_PIXELS + p] = (set.pixels[r * MNIST_PIXELS + p] as number) / 255;
    y[i] = set.labels[r] as number;
  });
  return { x: tf.tensor4d(x, [rows.length, 28, 28, 1]), y: tf.tensor1d(y, 'int32') };
}

/** Trains a small ViT on MNIST digits one step at a time and shows where its [class] token looks. */
export class VitTask implements PlaygroundTask {
  readonly name = 'vit';
  readonly metric: MetricInfo = { label: 'accuracy (training batch)', range: [0, 1] };
  readonly options: VitTaskOptions;
  readonly #train: DigitSet;
  readonly #test: DigitSet;
  readonly #rng: Rng;
  #model: VisionTransformer;
  #optimizer: Adam;
  #step = 0;
  #shown = 0;

  constructor(digits: { train: DigitSet; test: DigitSet }, options: Partial<VitTaskOptions> = {}) {
    this.options = { ...DEFAULT_VIT_TASK_OPTIONS, ...options };
    this.#train = digits.train;
    this.#test = digits.test;
    this.#rng = new Rng(this.options.seed + 1);
    this.#model = createVit(VIT_TASK_CONFIG, { seed: this.options.seed });
    this.#optimizer = new Adam(this.#model, { lr: this.options.lr });
  }

  get step(): number {
    return this.#step;
  }

  get lr(): number {
    return this.options.lr;
  }

  describe(): string {
    const c = this.#model.config;
    return `VisionTransformer ${VIT_TASK_CONFIG}: ${c.imageSize[0]}×${c.imageSize[1]} digits in ${c.patchSize}×${c.patchSize} patches, dim ${c.dim}, depth ${c.depth}, ${c.heads} heads, ${this.#model.numParameters().toLocaleString('en')} parameters; ${this.#train.count} training digits`;
  }

  async trainStep(): Promise<ProgressPoint> {
    const rows = Array.from({ length: this.options.batchSize }, () => this.#rng.int(this.#train.count));
    const { x, y } = batchOf(this.#train, rows);
    this.#model.train();
    let accuracy: tf.Scalar | null = null;
    let loss: tf.Scalar | null = null;
    try {
      loss = this.#optimizer.minimize(() => {
        const logits = this.#model.forward(x); // [B, 10]
        accuracy = tf.keep(
          tf.tidy(() => tf.mean<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, -1), y), 'float32'))),
        );
        return crossEntropy(logits, y);
      });
      const [value, metric] = await Promise.all([loss.data(), (accuracy as unknown as tf.Scalar).data()]);
      this.#step += 1;
      return { step: this.#step, loss: value[0] as number, metric: metric[0] as number };
    } finally {
      tf.dispose([x, y, ...[loss, accuracy].filter((t): t is tf.Scalar => t !== null)]);
    }
  }

  async view(): Promise<TaskView> {
    // The next held-out digit, cycling through the digits 0–9.
    const i = this.#shown++;
    const row = (i % 10) * MNIST_HELD_OUT_PER_DIGIT + (Math.floor(i / 10) % MNIST_HELD_OUT_PER_DIGIT);
    const { x, y } = batchOf(this.#test, [row]);
    this.#model.eval();
    const { probs, map } = tf.tidy(() => {
      const r = this.#model.forward(x, { returnAttention: true });
      const rollout = attentionRollout(r.attentions); // [1, T, T]
      const cls = tf.slice(rollout, [0, 0, 1], [1, 1, -1]); // [1, 1, N]: how much each patch reaches [class]
      return { probs: tf.softmax(r.output), map: tf.reshape(cls, [-1]) };
    });
    try {
      const p = Array.from(await probs.data());
      const attention = Array.from(await map.data());
      const predicted = p.indexOf(Math.max(...p));
      return {
        kind: 'digit',
        pixels: Array.from(this.#test.pixels.subarray(row * MNIST_PIXELS, (row + 1) * MNIST_PIXELS)),
        label: this.#test.labels[row] as number,
        predicted,
        probability: p[predicted] as number,
        attention,
        grid: Math.round(Math.sqrt(attention.length)),
      };
    } finally {
      tf.dispose([x, y, probs, map]);
    }
  }

  async save(): Promise<{ bytes: Uint8Array; fileName: string }> {
    const bytes = await encodeSafetensors(this.#model.stateDict(), {
      metadata: { format: VIT_CHECKPOINT_FORMAT, config: VIT_TASK_CONFIG, step: String(this.#step) },
    });
    return { bytes, fileName: `vit-mnist-step${this.#step}.safetensors` };
  }

  load(bytes: Uint8Array): void {
    const { model, step } = readTaskCheckpoint(
      bytes,
      VIT_CHECKPOINT_FORMAT,
      'a ViT-on-MNIST checkpoint',
      () => createVit(VIT_TASK_CONFIG, { seed: 0 }),
    );
    this.#model.dispose();
    this.#optimizer.dispose();
    this.#model = model;
    this.#optimizer = new Adam(model, { lr: this.options.lr });
    this.#step = step;
  }

  async probe(): Promise<{ values: Float32Array; shape: number[] }> {
    // Logits [4, 10] of the first held-out 0, 1, 2 and 3.
    const { x, y } = batchOf(
      this.#test,
      [0, 1, 2, 3].map((d) => d * MNIST_HELD_OUT_PER_DIGIT),
    );
    this.#model.eval();
    const logits = this.#model.forward(x);
    try {
      return { values: Float32Array.from(await logits.data()), shape: [...logits.shape] };
    } finally {
      tf.dispose([x, y, logits]);
    }
  }

  dispose(): void {
    this.#model.dispose();
    this.#optimizer.dispose();
  }
}
