// An LSTM that forecasts the Mackey-Glass series one step ahead: windows of past values in, the
// next value out, trained on the first 70 % of the series and shown on the held-out last 20 %.
import * as tf from '@tensorflow/tfjs-core';

import { Adam, Rng, encodeSafetensors, mseLoss } from '@ml/core';
import { mackeyGlass } from '@ml/data-loaders';
import { SequenceRegressor, forecastingData, type ForecastingData, type Windows } from '@ml/lstm';

import { readTaskCheckpoint } from './checkpoint-io.js';
import type { MetricInfo, ProgressPoint, TaskView } from './protocol.js';
import type { PlaygroundTask } from './task.js';

/** Settings of the forecaster task. */
export interface ForecasterTaskOptions {
  /** Seeds the series' initial history, the model and the batch draws. */
  seed: number;
  /** Values of the series (one per time unit). */
  length: number;
  /** Past values per input window. */
  window: number;
  /** LSTM hidden size. */
  hiddenSize: number;
  batchSize: number;
  /** Adam's learning rate. */
  lr: number;
}

/** Defaults of {@link ForecasterTaskOptions}. */
export const DEFAULT_FORECASTER_TASK_OPTIONS: ForecasterTaskOptions = {
  seed: 0,
  length: 1000,
  window: 20,
  hiddenSize: 32,
  batchSize: 32,
  lr: 0.01,
};

/** The `format` metadata of the forecaster's checkpoints. */
export const FORECASTER_CHECKPOINT_FORMAT = '@ml/playground/lstm-forecaster/v1';

// Rows `rows` of windows as tensors: x [B, window, 1], y [B, 1].
function batchOf(w: Windows, rows: readonly number[]): { x: tf.Tensor3D; y: tf.Tensor2D } {
  const x = new Float32Array(rows.length * w.window);
  const y = new Float32Array(rows.length * w.horizon);
  rows.forEach((r, i) => {
    x.set(w.x.subarray(r * w.window, (r + 1) * w.window), i * w.window);
    y.set(w.y.subarray(r * w.horizon, (r + 1) * w.horizon), i * w.horizon);
  });
  return { x: tf.tensor3d(x, [rows.length, w.window, 1]), y: tf.tensor2d(y, [rows.length, w.horizon]) };
}

/** Trains a one-layer LSTM regressor on Mackey-Glass windows one step at a time. */
export class ForecasterTask implements PlaygroundTask {
  readonly name = 'forecaster';
  readonly metric: MetricInfo = { label: 'R² (training batch, scaled values)' };
  readonly options: ForecasterTaskOptions;
  readonly #data: ForecastingData;
  readonly #rng: Rng;
  #model: SequenceRegressor;
  #optimizer: Adam;
  #step = 0;

  constructor(options: Partial<ForecasterTaskOptions> = {}) {
    const o = { ...DEFAULT_FORECASTER_TASK_OPTIONS, ...options };
    this.options = o;
    const series = mackeyGlass({ length: o.length, seed: o.seed });
    series.dispose(); // the plain values are enough
    this.#data = forecastingData(series.values, { window: o.window, horizon: 1 });
    this.#rng = new Rng(o.seed + 1);
    this.#model = this.#newModel(o.seed);
    this.#optimizer = new Adam(this.#model, { lr: o.lr });
  }

  #newModel(seed: number): SequenceRegressor {
    return new SequenceRegressor({ inputSize: 1, hiddenSize: this.options.hiddenSize, outputSize: 1, seed });
  }

  get step(): number {
    return this.#step;
  }

  get lr(): number {
    return this.options.lr;
  }

  describe(): string {
    const o = this.options;
    return `SequenceRegressor: LSTM 1 → ${o.hiddenSize}, linear ${o.hiddenSize} → 1, windows of ${o.window} values, ${this.#model.numParameters().toLocaleString('en')} parameters; ${this.#data.train.count} training windows`;
  }

  async trainStep(): Promise<ProgressPoint> {
    const train = this.#data.train;
    const rows = Array.from({ length: this.options.batchSize }, () => this.#rng.int(train.count));
    const { x, y } = batchOf(train, rows);
    this.#model.train();
    let r2: tf.Scalar | null = null;
    let loss: tf.Scalar | null = null;
    try {
      loss = this.#optimizer.minimize(() => {
        const pred = this.#model.forward(x); // [B, 1]
        const l = mseLoss(pred, y);
        // R² = 1 − SSE / SST on this batch.
        r2 = tf.keep(
          tf.tidy(() =>
            tf.sub<tf.Scalar>(
              1,
              tf.div(tf.sum(tf.squaredDifference(pred, y)), tf.sum(tf.square(tf.sub(y, tf.mean(y))))),
            ),
          ),
        );
        return l;
      });
      const [value, metric] = await Promise.all([loss.data(), (r2 as unknown as tf.Scalar).data()]);
      this.#step += 1;
      return { step: this.#step, loss: value[0] as number, metric: metric[0] as number };
    } finally {
      tf.dispose([x, y, ...[loss, r2].filter((t): t is tf.Scalar => t !== null)]);
    }
  }

  async view(): Promise<TaskView> {
    const test = this.#data.test;
    const rows = Array.from({ length: test.count }, (_, i) => i);
    const { x, y } = batchOf(test, rows);
    this.#model.eval();
    const pred = this.#model.forward(x); // [N, 1]
    try {
      const scaler = this.#data.scaler;
      const predicted = Array.from(scaler.inverseTransform(await pred.data()));
      const truth = Array.from(scaler.inverseTransform(await y.data()));
      const rmse = Math.sqrt(
        predicted.reduce((s, p, i) => s + (p - (truth[i] as number)) ** 2, 0) / predicted.length,
      );
      return { kind: 'forecast', index: Array.from(test.targetIndex), truth, predicted, rmse };
    } finally {
      tf.dispose([x, y, pred]);
    }
  }

  async save(): Promise<{ bytes: Uint8Array; fileName: string }> {
    const bytes = await encodeSafetensors(this.#model.stateDict(), {
      metadata: {
        format: FORECASTER_CHECKPOINT_FORMAT,
        options: JSON.stringify(this.options),
        step: String(this.#step),
      },
    });
    return { bytes, fileName: `lstm-forecaster-step${this.#step}.safetensors` };
  }

  load(bytes: Uint8Array): void {
    const { model, step } = readTaskCheckpoint(
      bytes,
      FORECASTER_CHECKPOINT_FORMAT,
      'an LSTM forecaster checkpoint',
      () => this.#newModel(0),
    );
    this.#model.dispose();
    this.#optimizer.dispose();
    this.#model = model;
    this.#optimizer = new Adam(model, { lr: this.options.lr });
    this.#step = step;
  }

  async probe(): Promise<{ values: Float32Array; shape: number[] }> {
    // The model's raw outputs on the first 8 held-out windows: [8, 1].
    const { x } = batchOf(this.#data.test, [0, 1, 2, 3, 4, 5, 6, 7]);
    this.#model.eval();
    const out = this.#model.forward(x);
    try {
      return { values: Float32Array.from(await out.data()), shape: [...out.shape] };
    } finally {
      tf.dispose([x, out]);
    }
  }

  dispose(): void {
    this.#model.dispose();
    this.#optimizer.dispose();
  }
}
