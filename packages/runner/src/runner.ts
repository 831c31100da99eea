import * as tf from '@tensorflow/tfjs-core';

import {
  CheckpointError,
  ConfigError,
  DataError,
  Module,
  Optimizer,
  Rng,
  checkPositiveInt,
  formatShape,
} from '@ml/core';
import type { OptimizerState, RngState } from '@ml/core';

import type { Callback, CheckpointRequest, FitContext } from './callback.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-dir.js';
import type { CheckpointWhich } from './checkpoint-dir.js';
import { cloneHistory, emptyHistory } from './history.js';
import type { History, Logs } from './history.js';
import { epochOf, isIterable, loaderLength } from './internal/loaders.js';
import { collectTensors, disposeAll, leadingDim, readScalar } from './internal/tensors.js';
import type { Metric } from './metric.js';

/**
 * Where batches come from: any sync or async iterable, one pass per epoch. When the loader also has
 * `epoch(e)` (like @ml/data-loaders' DataLoader) the runner asks for epoch e explicitly, so the order
 * of a resumed epoch is the original one; `setEpoch(e)` is used otherwise; `length` (batches per
 * epoch) feeds progress bars.
 */
export type Loader<B> = (AsyncIterable<B> | Iterable<B>) & {
  epoch?: ((epoch: number) => AsyncIterable<B> | Iterable<B>) | unknown;
  setEpoch?: ((epoch: number) => void) | unknown;
  readonly length?: number | unknown;
};

/** Whole tensors for {@link Runner.evaluate}: sliced along the first axis into batches of `batchSize`. */
export interface TensorData {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** A loss: model output and target → scalar (e.g. `crossEntropy`, `mseLoss` from @ml/core). */
export type LossFn = (output: tf.Tensor, target: tf.Tensor) => tf.Scalar;

/** What a step hook returns: the loss, and optionally what the metrics compare. */
export interface StepOutput {
  /** Scalar loss of the batch (what training differentiates). */
  loss: tf.Scalar;
  /** Metric input: the model's output (e.g. logits [N, C] or [B, T, C]). */
  output?: tf.Tensor;
  /** Metric input: what the output should have been (e.g. class ids [N] or [B, T]). */
  target?: tf.Tensor;
  /** Weight of this batch's loss in epoch means (default: the first dimension of `output`, else of the batch). */
  batchSize?: number;
}

/** What a step hook gets besides the batch. */
export interface StepContext<M extends Module = Module> {
  model: M;
  /** True in training, false in evaluation (the model's mode is already set). */
  training: boolean;
  /** The runner's seeded generator, for any randomness of a custom step (saved in checkpoints). */
  rng: Rng;
  /** Index of the current epoch, from 0 (0 during a standalone evaluate). */
  epoch: number;
  /** Optimizer steps done so far. */
  step: number;
}

/**
 * A custom training/evaluation step: batch → loss (+ metric inputs), for models whose forward does
 * not fit `loss(forward(x), y)` (e.g. seq2seq: `loss(model.forward(src, tgtIn), tgtOut)`). It runs
 * under autodiff during training (the runner computes gradients, clips, steps) and in eval mode
 * during evaluation. It must be synchronous; tensors it creates are freed by the runner.
 */
export type StepFn<M extends Module = Module, B = unknown> = (
  batch: B,
  ctx: StepContext<M>,
) => StepOutput | tf.Scalar;

/** Input and (optional) target of a batch, as the default step and `predict` see it. */
export interface SplitBatch {
  input: tf.Tensor;
  target?: tf.Tensor;
}

/** Options of {@link Runner}. */
export interface RunnerOptions<M extends Module = Module, B = unknown> {
  /** Any @ml/core Module; with the default step it must have `forward(x)` (or pass `forward`). */
  model: M;
  /** Needed by `fit` (not by evaluate/predict). */
  optimizer?: Optimizer;
  /** Loss of the default step: `loss(forward(input), target)`. Needed unless `step` is given. */
  loss?: LossFn;
  /** Metrics computed on training batches (running, per epoch) and in every evaluation. */
  metrics?: Metric[];
  callbacks?: Callback[];
  /**
   * The run's seed: seeds the runner's generator (given to step hooks) and, when given, re-seeds
   * every `Rng` that the model's modules hold as a property (dropout masks, …), each from its own
   * fork, so that one number fixes all training randomness on top of the loader's own seed.
   */
  seed?: number;
  /** Custom step (see {@link StepFn}); replaces the default `loss(forward(input), target)`. */
  step?: StepFn<M, B>;
  /** How to run the model on an input (default `model.forward(input)`). */
  forward?: (model: M, input: tf.Tensor) => tf.Tensor;
  /**
   * How to take a batch apart for the default step and `predict` (default: `[x, y]` arrays,
   * `{ x, y }` / `{ input, target }` / `{ inputs, targets }` objects, or a bare input tensor).
   */
  splitBatch?: (batch: B) => SplitBatch;
  /** Rows per batch when `evaluate`/`predict` get whole tensors (default 256). */
  batchSize?: number;
}

/** Defaults of {@link RunnerOptions} and {@link FitOptions}. */
export const DEFAULT_RUNNER_OPTIONS = { batchSize: 256, logEvery: 10 } as const;

/** Options of {@link Runner.fit}. */
export interface FitOptions<B = unknown> {
  /** Total epochs (a resumed run counts the epochs it already did). */
  epochs: number;
  /** Validation data: evaluated after each epoch, or every `evalEvery` steps. */
  valLoader?: Loader<B>;
  /** Steps per `history.steps` record and `onLog` call (default 10). */
  logEvery?: number;
  /** Validate every this many optimizer steps (and after the last epoch) instead of after each epoch. */
  evalEvery?: number;
  /**
   * A checkpoint directory to continue from (its `latest` checkpoint): model, optimizer, RNG states,
   * callback states, history and position are restored, then training goes on where it stopped.
   * Missing or broken checkpoints are a CheckpointError (check first with `hasCheckpoint(dir)`).
   */
  resume?: string;
}

/** What {@link Runner.fit} returns. */
export interface FitResult {
  history: History;
  /** Why training ended early (early stopping, NaN loss, …), or null when all epochs ran. */
  stopReason: string | null;
  /** Epochs completed. */
  epochs: number;
  /** Optimizer steps done. */
  steps: number;
}

interface Position {
  epoch: number;
  batch: number;
  step: number;
}

interface Accumulators {
  lossSum: number;
  lossCount: number;
  windowSum: number;
  windowCount: number;
  seconds: number;
  lastValidationStep: number;
}

/** The JSON state a Runner stores in its checkpoints (next to the model/optimizer/callback tensors). */
export interface RunnerCheckpointState {
  runner: 'Runner';
  position: Position;
  stopReason: string | null;
  rng: { runner: RngState; model: Record<string, RngState> };
  optimizer: OptimizerState;
  callbacks: Record<string, unknown>;
  metrics: Record<string, number[]>;
  accumulators: Accumulators;
  history: History;
  backend: string | null;
}

const freshAccumulators = (): Accumulators => ({
  lossSum: 0,
  lossCount: 0,
  windowSum: 0,
  windowCount: 0,
  seconds: 0,
  lastValidationStep: -1,
});

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function describe(v: unknown): string {
  if (v instanceof tf.Tensor) return `a tensor ${formatShape(v.shape)}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (isPlainObject(v)) return `an object with keys ${Object.keys(v).join(', ') || '(none)'}`;
  return v === null ? 'null' : typeof v;
}

const SPLIT_KEYS: [string, string][] = [
  ['x', 'y'],
  ['input', 'target'],
  ['inputs', 'targets'],
];

/** The default {@link RunnerOptions.splitBatch}. */
export function defaultSplitBatch(batch: unknown): SplitBatch {
  if (batch instanceof tf.Tensor) return { input: batch };
  if (Array.isArray(batch) && batch[0] instanceof tf.Tensor) {
    return batch[1] instanceof tf.Tensor ? { input: batch[0], target: batch[1] } : { input: batch[0] };
  }
  if (isPlainObject(batch)) {
    for (const [i, t] of SPLIT_KEYS) {
      const input = batch[i];
      const target = batch[t];
      if (input instanceof tf.Tensor) return target instanceof tf.Tensor ? { input, target } : { input };
    }
  }
  throw new DataError(
    `Runner: cannot take the batch apart into input and target: expected [x, y], { x, y }, { input, target } or a tensor, got ${describe(batch)}; pass splitBatch or a step hook`,
  );
}

/** Every `Rng` the model's modules hold as a property, by `<module path>.<property>` (each object once). */
export function findModelRngs(model: Module): Map<string, Rng> {
  const out = new Map<string, Rng>();
  const seen = new Set<Rng>();
  for (const [path, m] of model.namedModules()) {
    for (const [key, value] of Object.entries(m)) {
      if (value instanceof Rng && !seen.has(value)) {
        seen.add(value);
        out.set(path === '' ? key : `${path}.${key}`, value);
      }
    }
  }
  return out;
}

function checkLoader(where: string, name: string, loader: unknown): void {
  if (!isIterable(loader))
    throw new ConfigError(
      `${where}: ${name} must be an iterable or async iterable of batches (e.g. a DataLoader), got ${describe(loader)}`,
    );
}

// The live state of one fit: what callbacks see as their FitContext.
class FitRun implements FitContext {
  epoch = 0;
  batch = 0;
  step = 0;
  stopReason: string | null = null;
  failed = false;
  history: History = emptyHistory();
  acc: Accumulators = freshAccumulators();
  /** When the current epoch's pass over the loader started (performance.now()). */
  epochStart = 0;
  readonly pending: CheckpointRequest[] = [];

  constructor(
    readonly model: Module,
    readonly optimizer: Optimizer,
    readonly epochs: number,
    readonly batchesPerEpoch: number | null,
    readonly hasValidation: boolean,
  ) {}

  stop(reason: string): void {
    if (typeof reason !== 'string' || reason === '')
      throw new ConfigError(`FitContext.stop: reason must be a non-empty string, got ${String(reason)}`);
    this.stopReason ??= reason;
  }

  requestCheckpoint(request: CheckpointRequest): void {
    if (typeof request?.dir !== 'string' || request.dir === '')
      throw new ConfigError(
        `FitContext.requestCheckpoint: dir must be a non-empty string, got ${String(request?.dir)}`,
      );
    this.pending.push(request);
  }
}

type PlainHook = 'onFitStart' | 'onEpochStart' | 'onStepStart' | 'onValidationStart' | 'onFitEnd';
type LogsHook = 'onStepEnd' | 'onLog' | 'onValidationEnd' | 'onEpochEnd';

/**
 * The training loop, grown from seed 004's RunnerV3 into what Keras `fit` and PyTorch Lightning users
 * expect: `fit` with validation, batch-accumulated metrics, callbacks, checkpoints and exact resume;
 * batched `evaluate` and `predict` whatever the input size.
 *
 * ```ts
 * const runner = new Runner({ model, optimizer: new SGD(model, { lr: 0.2 }), loss: crossEntropy,
 *   metrics: [new Accuracy()], callbacks: [new ModelCheckpoint({ dir, monitor: 'val_accuracy' })] });
 * const { history } = await runner.fit(trainLoader, { epochs: 150, valLoader: devLoader });
 * await runner.loadWeights(dir, 'best');
 * const { loss, accuracy } = await runner.evaluate(testLoader);
 * ```
 *
 * Resuming: checkpoints are taken at step or epoch boundaries; `fit(loader, { resume: dir })` restores
 * everything and, in a checkpoint taken mid-epoch, re-reads the epoch from its start and skips (and
 * frees) the batches already trained on. With a loader whose epoch order depends only on (seed,
 * epoch), like DataLoader, the resumed run ends with the same weights as an uninterrupted one on the
 * same backend.
 */
export class Runner<M extends Module = Module, B = unknown> {
  readonly model: M;
  readonly optimizer: Optimizer | null;
  readonly loss: LossFn | null;
  readonly metrics: readonly Metric[];
  readonly callbacks: readonly Callback[];
  /** The runner's generator (step hooks get it); saved in checkpoints. */
  readonly rng: Rng;
  readonly batchSize: number;
  readonly #step: StepFn<M, B> | null;
  readonly #forward: (model: M, input: tf.Tensor) => tf.Tensor;
  readonly #split: (batch: B) => SplitBatch;
  readonly #sorted: readonly Callback[];
  readonly #keys: Map<Callback, string>;
  readonly #modelRngs: Map<string, Rng>;
  #busy = false;

  constructor(options: RunnerOptions<M, B>) {
    const where = 'Runner';
    if (!(options?.model instanceof Module))
      throw new ConfigError(`${where}: model must be an @ml/core Module, got ${describe(options?.model)}`);
    if (options.optimizer !== undefined && !(options.optimizer instanceof Optimizer)) {
      throw new ConfigError(
        `${where}: optimizer must be an @ml/core Optimizer (SGD, Adam, AdamW, …), got ${describe(options.optimizer)}`,
      );
    }
    for (const [name, fn] of [
      ['loss', options.loss],
      ['step', options.step],
      ['forward', options.forward],
      ['splitBatch', options.splitBatch],
    ] as const) {
      if (fn !== undefined && typeof fn !== 'function')
        throw new ConfigError(`${where}: ${name} must be a function, got ${describe(fn)}`);
    }
    const hasForward = typeof (options.model as unknown as { forward?: unknown }).forward === 'function';
    if (options.forward === undefined && options.step === undefined && !hasForward) {
      throw new ConfigError(
        `${where}: the model (${options.model.constructor.name}) has no forward(x); pass forward or a step hook`,
      );
    }
    if (options.seed !== undefined && !Number.isFinite(options.seed))
      throw new ConfigError(`${where}: seed must be a finite number, got ${options.seed}`);
    const batchSize = options.batchSize ?? DEFAULT_RUNNER_OPTIONS.batchSize;
    checkPositiveInt(where, 'batchSize', batchSize);

    const metrics = options.metrics ?? [];
    if (!Array.isArray(metrics))
      throw new ConfigError(`${where}: metrics must be an array, got ${describe(metrics)}`);
    const names = new Set<string>(['loss', 'epoch', 'step', 'batch', 'lr', 'seconds', 'size']);
    metrics.forEach((m, i) => {
      if (typeof m?.update !== 'function' || typeof m.result !== 'function' || typeof m.name !== 'string')
        throw new ConfigError(
          `${where}: metrics[${i}] is not a Metric (needs name, update, result, reset, state, setState)`,
        );
      if (names.has(m.name) || m.name.startsWith('val_'))
        throw new ConfigError(
          `${where}: metrics[${i}] name '${m.name}' is taken or reserved; give it another name`,
        );
      names.add(m.name);
    });
    const callbacks = options.callbacks ?? [];
    if (!Array.isArray(callbacks))
      throw new ConfigError(`${where}: callbacks must be an array, got ${describe(callbacks)}`);
    this.#keys = new Map();
    const keys = new Set<string>();
    callbacks.forEach((cb, i) => {
      if (cb === null || typeof cb !== 'object')
        throw new ConfigError(`${where}: callbacks[${i}] must be an object, got ${describe(cb)}`);
      const key = cb.key ?? `${cb.constructor.name}_${i}`;
      if (keys.has(key))
        throw new ConfigError(`${where}: two callbacks have the key '${key}'; give one of them another key`);
      keys.add(key);
      this.#keys.set(cb, key);
    });

    this.model = options.model;
    this.optimizer = options.optimizer ?? null;
    this.loss = options.loss ?? null;
    this.metrics = metrics;
    this.callbacks = callbacks;
    this.#sorted = callbacks
      .map((cb, i) => ({ cb, i }))
      .sort((a, b) => (a.cb.order ?? 0) - (b.cb.order ?? 0) || a.i - b.i)
      .map(({ cb }) => cb);
    this.batchSize = batchSize;
    this.#step = options.step ?? null;
    this.#forward =
      options.forward ??
      ((model, x) => (model as unknown as { forward(x: tf.Tensor): tf.Tensor }).forward(x));
    this.#split = options.splitBatch ?? (defaultSplitBatch as (batch: B) => SplitBatch);
    this.rng = new Rng(options.seed ?? 0);
    this.#modelRngs = findModelRngs(this.model);
    if (options.seed !== undefined)
      for (const rng of this.#modelRngs.values()) rng.setState(this.rng.fork().state());
  }

  // ---------------------------------------------------------------- steps

  #runStep(
    batch: B,
    ctx: StepContext<M>,
    needLoss: boolean,
  ): StepOutput | { loss?: undefined; output?: tf.Tensor; target?: tf.Tensor; batchSize?: number } {
    if (this.#step !== null) {
      const out = this.#step(batch, ctx);
      if (out instanceof tf.Tensor) return { loss: out as tf.Scalar };
      if (!isPlainObject(out) || !(out.loss instanceof tf.Tensor))
        throw new ConfigError(
          `Runner: the step hook must return a scalar loss tensor or { loss, output?, target? }, got ${describe(out)}`,
        );
      return out as unknown as StepOutput;
    }
    const { input, target } = this.#split(batch);
    if (target === undefined && (needLoss || this.metrics.length > 0))
      throw new DataError(
        `Runner: the batch has no target (got ${describe(batch)}); training and evaluation need [x, y] batches`,
      );
    const output = this.#forward(this.model, input);
    if (!(output instanceof tf.Tensor))
      throw new ConfigError(`Runner: forward must return a tensor, got ${describe(output)}`);
    if (this.loss === null || target === undefined)
      return target === undefined ? { output } : { output, target };
    return { loss: this.loss(output, target), output, target };
  }

  #batchWeight(out: { batchSize?: number; output?: tf.Tensor }, batch: B): number {
    if (out.batchSize !== undefined) {
      if (!(out.batchSize > 0))
        throw new ConfigError(`Runner: the step hook's batchSize must be > 0, got ${out.batchSize}`);
      return out.batchSize;
    }
    return (
      (out.output !== undefined && out.output.rank > 0
        ? (out.output.shape[0] as number)
        : leadingDim(batch)) ?? 1
    );
  }

  async #updateMetrics(output: tf.Tensor | undefined, target: tf.Tensor | undefined): Promise<void> {
    if (this.metrics.length === 0) return;
    if (output === undefined || target === undefined)
      throw new ConfigError(
        'Runner: metrics need the step hook to return output and target next to the loss',
      );
    for (const m of this.metrics) await m.update(output, target);
  }

  #metricResults(prefix = ''): Logs {
    return Object.fromEntries(this.metrics.map((m) => [`${prefix}${m.name}`, m.result()]));
  }

  async #trainBatch(
    batch: B,
    run: FitRun,
    fit: Required<Pick<FitOptions<B>, 'logEvery'>> & FitOptions<B>,
  ): Promise<void> {
    const optimizer = run.optimizer;
    await this.#emit('onStepStart', run);
    this.model.train();
    const ctx: StepContext<M> = {
      model: this.model,
      training: true,
      rng: this.rng,
      epoch: run.epoch,
      step: run.step,
    };
    let captured: StepOutput | undefined;
    const { loss, grads } = optimizer.computeGradients(() => {
      const out = this.#runStep(batch, ctx, true) as StepOutput;
      if (out.output !== undefined) tf.keep(out.output);
      if (out.target !== undefined) tf.keep(out.target);
      captured = out;
      return out.loss;
    });
    const out = captured as StepOutput;
    const owned = new Set<tf.Tensor>([loss, ...Object.values(grads)]);
    let lossValue: number;
    let n: number;
    try {
      n = this.#batchWeight(out, batch);
      lossValue = await readScalar(loss);
      let applied = grads;
      let skip = false;
      for (const cb of this.#sorted) {
        if (cb.onGradients === undefined) continue;
        const next = await cb.onGradients(run, { loss: lossValue, grads: applied });
        if (next === null) {
          skip = true;
          break;
        }
        for (const t of Object.values(next)) owned.add(t);
        applied = next;
      }
      if (!skip) optimizer.step(applied);
      await this.#updateMetrics(out.output, out.target);
    } finally {
      tf.dispose([...owned]);
      tf.dispose([out.output, out.target].filter((t): t is tf.Tensor => t !== undefined));
    }
    run.acc.lossSum += lossValue * n;
    run.acc.lossCount += n;
    run.acc.windowSum += lossValue;
    run.acc.windowCount += 1;
    run.step += 1;
    run.batch += 1;
    const stepLogs: Logs = {
      epoch: run.epoch + 1,
      step: run.step,
      batch: run.batch,
      loss: lossValue,
      lr: optimizer.lr,
      size: n,
    };
    if (run.step % fit.logEvery === 0) {
      const record: Logs = {
        epoch: run.epoch + 1,
        step: run.step,
        loss: run.acc.windowSum / run.acc.windowCount,
        lr: optimizer.lr,
        ...this.#metricResults(),
      };
      run.acc.windowSum = 0;
      run.acc.windowCount = 0;
      run.history.steps.push(record);
      await this.#emitLogs('onLog', run, record);
    }
    if (fit.valLoader !== undefined && fit.evalEvery !== undefined && run.step % fit.evalEvery === 0)
      await this.#validate(fit.valLoader, run);
    await this.#emitLogs('onStepEnd', run, stepLogs);
    await this.#flush(run, { epoch: run.epoch, batch: run.batch, step: run.step });
  }

  async #validate(loader: Loader<B>, run: FitRun): Promise<Logs> {
    await this.#emit('onValidationStart', run);
    const logs = await this.#evaluate(loader, 'val_', run.epoch, run.step);
    run.acc.lastValidationStep = run.step;
    const record: Logs = { epoch: run.epoch + 1, step: run.step, ...logs };
    run.history.validations.push(record);
    await this.#emitLogs('onValidationEnd', run, record);
    return logs;
  }

  // Batched evaluation in eval mode; the metrics' running training sums are set aside and restored.
  async #evaluate(data: Loader<B>, prefix: string, epoch: number, step: number): Promise<Logs> {
    const wasTraining = this.model.training;
    const saved = this.metrics.map((m) => m.state());
    this.model.eval();
    for (const m of this.metrics) m.reset();
    let lossSum = 0;
    let count = 0;
    let batches = 0;
    let hasLoss = false;
    const ctx: StepContext<M> = { model: this.model, training: false, rng: this.rng, epoch, step };
    try {
      for await (const batch of epochOf(data, 0)) {
        batches += 1;
        try {
          const out = tf.tidy(
            () => this.#runStep(batch, ctx, false) as unknown as tf.TensorContainerObject,
          ) as { loss?: tf.Scalar; output?: tf.Tensor; target?: tf.Tensor; batchSize?: number };
          try {
            await this.#updateMetrics(out.output, out.target);
            if (out.loss !== undefined) {
              const n = this.#batchWeight(out, batch);
              lossSum += (await readScalar(out.loss)) * n;
              count += n;
              hasLoss = true;
            }
          } finally {
            tf.dispose([...collectTensors(out)]);
          }
        } finally {
          disposeAll(batch);
        }
      }
      if (batches === 0) throw new DataError('Runner.evaluate: the loader yielded no batches');
      return { ...(hasLoss ? { [`${prefix}loss`]: lossSum / count } : {}), ...this.#metricResults(prefix) };
    } finally {
      this.metrics.forEach((m, i) => m.setState(saved[i] as number[]));
      this.model.train(wasTraining);
    }
  }

  // ---------------------------------------------------------------- public API

  /**
   * Trains for `epochs` epochs (see {@link FitOptions}) and returns the history. Each batch the loader
   * yields is owned and freed by the runner. Throws a ConfigError for bad options, a DataError for an
   * empty loader, a CheckpointError when `resume` cannot be read or does not fit.
   */
  async fit(train: Loader<B>, options: FitOptions<B>): Promise<FitResult> {
    const where = 'Runner.fit';
    checkLoader(where, 'train', train);
    if (options === null || typeof options !== 'object')
      throw new ConfigError(
        `${where}: options must be an object with at least { epochs }, got ${describe(options)}`,
      );
    checkPositiveInt(where, 'epochs', options.epochs);
    const logEvery = options.logEvery ?? DEFAULT_RUNNER_OPTIONS.logEvery;
    checkPositiveInt(where, 'logEvery', logEvery);
    if (options.evalEvery !== undefined) checkPositiveInt(where, 'evalEvery', options.evalEvery);
    if (options.valLoader !== undefined) checkLoader(where, 'valLoader', options.valLoader);
    if (options.evalEvery !== undefined && options.valLoader === undefined)
      throw new ConfigError(`${where}: evalEvery (${options.evalEvery}) needs a valLoader`);
    if (options.resume !== undefined && (typeof options.resume !== 'string' || options.resume === ''))
      throw new ConfigError(
        `${where}: resume must be a checkpoint directory path, got ${describe(options.resume)}`,
      );
    if (this.optimizer === null)
      throw new ConfigError(`${where}: needs an optimizer; pass one to the Runner`);
    if (this.loss === null && this.#step === null)
      throw new ConfigError(`${where}: needs a loss or a step hook; pass one to the Runner`);
    if (this.#busy)
      throw new ConfigError(`${where}: this runner is already fitting or evaluating; await it first`);
    this.#busy = true;
    const fit = { ...options, logEvery };
    const run = new FitRun(
      this.model,
      this.optimizer,
      options.epochs,
      loaderLength(train),
      options.valLoader !== undefined,
    );
    try {
      if (options.resume !== undefined) await this.#restore(options.resume, run);
      await this.#loop(train, run, fit);
    } catch (e) {
      run.failed = true;
      throw e;
    } finally {
      this.#busy = false;
      try {
        await this.#emit('onFitEnd', run);
      } catch (e) {
        // A failing fit reports its own error, not a follow-up one from a callback's cleanup.
        if (!run.failed) throw e; // eslint-disable-line no-unsafe-finally
      }
    }
    return {
      history: cloneHistory(run.history),
      stopReason: run.stopReason,
      epochs: run.epoch,
      steps: run.step,
    };
  }

  async #loop(
    train: Loader<B>,
    run: FitRun,
    fit: Required<Pick<FitOptions<B>, 'logEvery'>> & FitOptions<B>,
  ): Promise<void> {
    await this.#emit('onFitStart', run);
    let skip = run.batch;
    while (run.epoch < run.epochs && run.stopReason === null) {
      if (skip === 0) {
        run.batch = 0;
        const { lastValidationStep } = run.acc;
        run.acc = { ...freshAccumulators(), lastValidationStep };
        for (const m of this.metrics) m.reset();
      }
      await this.#emit('onEpochStart', run);
      run.epochStart = performance.now();
      let seen = 0;
      let stopped = false;
      for await (const batch of epochOf(train, run.epoch)) {
        seen += 1;
        if (seen <= skip) {
          disposeAll(batch);
          continue;
        }
        try {
          await this.#trainBatch(batch, run, fit);
        } finally {
          disposeAll(batch);
        }
        if (run.stopReason !== null) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      if (seen === 0)
        throw new DataError(`Runner.fit: the train loader yielded no batches in epoch ${run.epoch + 1}`);
      if (seen < skip)
        throw new CheckpointError(
          `Runner.fit: the checkpoint is ${skip} batches into epoch ${run.epoch + 1}, but the loader has only ${seen}; resume with the same data`,
        );
      skip = 0;
      await this.#endEpoch(run, fit);
    }
  }

  // Training seconds of the current epoch so far: before a resume plus since this pass started.
  #epochSeconds(run: FitRun): number {
    return run.acc.seconds + (performance.now() - run.epochStart) / 1000;
  }

  async #endEpoch(run: FitRun, fit: FitOptions<B>): Promise<void> {
    const optimizer = run.optimizer;
    const logs: Logs = {
      epoch: run.epoch + 1,
      step: run.step,
      loss: run.acc.lossSum / run.acc.lossCount,
      ...this.#metricResults(),
      lr: optimizer.lr,
      seconds: this.#epochSeconds(run),
    };
    if (fit.valLoader !== undefined) {
      if (fit.evalEvery === undefined) Object.assign(logs, await this.#validate(fit.valLoader, run));
      else if (run.epoch === run.epochs - 1 && run.acc.lastValidationStep !== run.step)
        await this.#validate(fit.valLoader, run);
    }
    run.history.epochs.push(logs);
    await this.#emitLogs('onEpochEnd', run, logs);
    await this.#flush(run, { epoch: run.epoch + 1, batch: 0, step: run.step });
    run.epoch += 1;
    run.batch = 0;
  }

  /**
   * Evaluates in eval mode, batch by batch (never the whole set at once): mean loss per sample and
   * every metric. `data` is a loader or whole tensors `{ x, y }` (sliced into `batchSize` rows).
   * Returns `{ loss, <metric>: … }` (no `loss` when the runner has none).
   */
  async evaluate(data: Loader<B> | TensorData): Promise<Logs> {
    const loader = this.#asLoader('Runner.evaluate', data);
    if (this.loss === null && this.#step === null && this.metrics.length === 0)
      throw new ConfigError('Runner.evaluate: needs a loss, a step hook or metrics to compute');
    return this.#evaluate(loader, '', 0, 0);
  }

  #asLoader(where: string, data: unknown): Loader<B> {
    if (isIterable<B>(data)) return data;
    if (isPlainObject(data) && data.x instanceof tf.Tensor && data.y instanceof tf.Tensor) {
      const { x, y } = data as unknown as TensorData;
      if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0])
        throw new ConfigError(
          `${where}: x and y must share their first dimension, got ${formatShape(x.shape)} and ${formatShape(y.shape)}`,
        );
      const n = x.shape[0] as number;
      const size = this.batchSize;
      return {
        *[Symbol.iterator]() {
          for (let i = 0; i < n; i += size) {
            const rows = Math.min(size, n - i);
            yield [tf.slice(x, i, rows), tf.slice(y, i, rows)] as unknown as B; // [rows, ...]
          }
        },
      };
    }
    throw new ConfigError(
      `${where}: data must be a loader (iterable of batches) or { x, y } tensors, got ${describe(data)}`,
    );
  }

  /**
   * Runs the model in eval mode on `input` — a tensor (sliced into `batchSize` rows) or a loader
   * (each batch's input, see `splitBatch`) — and returns the outputs concatenated along the first
   * axis. The caller owns the result.
   */
  async predict(input: tf.Tensor | Loader<B>): Promise<tf.Tensor> {
    const where = 'Runner.predict';
    let batches: Iterable<tf.Tensor> | AsyncIterable<B>;
    if (input instanceof tf.Tensor) {
      if (input.rank === 0)
        throw new ConfigError(`${where}: input must have a batch dimension, got ${formatShape(input.shape)}`);
      const n = input.shape[0] as number;
      const size = this.batchSize;
      batches = (function* () {
        for (let i = 0; i < n; i += size) yield tf.slice(input, i, Math.min(size, n - i)); // [rows, ...]
      })();
    } else {
      checkLoader(where, 'input', input);
      batches = epochOf(input, 0) as AsyncIterable<B>;
    }
    const wasTraining = this.model.training;
    this.model.eval();
    const parts: tf.Tensor[] = [];
    try {
      for await (const batch of batches) {
        try {
          const x = batch instanceof tf.Tensor ? batch : this.#split(batch as B).input;
          parts.push(tf.tidy(() => this.#forward(this.model, x)));
        } finally {
          disposeAll(batch);
        }
      }
      if (parts.length === 0) throw new DataError(`${where}: no input rows to predict`);
      return parts.length === 1 ? (parts.pop() as tf.Tensor) : tf.concat(parts, 0);
    } finally {
      tf.dispose(parts);
      this.model.train(wasTraining);
    }
  }

  /**
   * Loads only the model weights of a checkpoint in `dir` ('best', 'latest' or a checkpoint's name),
   * like RunnerV3's `load_model` (done with `loadStateDict`). Returns which checkpoint it was.
   */
  async loadWeights(
    dir: string,
    which: CheckpointWhich = 'latest',
  ): Promise<{ name: string; epoch: number; step: number }> {
    const ckpt = await readCheckpoint(dir, which);
    try {
      const model = ckpt.tensors.model;
      if (model === undefined)
        throw new CheckpointError(
          `Runner.loadWeights: checkpoint ${ckpt.name} in ${dir} has no model.safetensors`,
        );
      this.model.loadStateDict(model);
      return { name: ckpt.name, epoch: ckpt.epoch, step: ckpt.step };
    } finally {
      for (const group of Object.values(ckpt.tensors)) tf.dispose(Object.values(group));
    }
  }

  // ---------------------------------------------------------------- callbacks

  async #emit(hook: PlainHook, run: FitRun): Promise<void> {
    for (const cb of this.#sorted) await cb[hook]?.(run);
  }

  async #emitLogs(hook: LogsHook, run: FitRun, logs: Logs): Promise<void> {
    for (const cb of this.#sorted) await cb[hook]?.(run, logs);
  }

  // ---------------------------------------------------------------- checkpoints

  async #flush(run: FitRun, position: Position): Promise<void> {
    if (run.pending.length === 0) return;
    const requests = run.pending.splice(0);
    const byDir = new Map<
      string,
      { best: boolean; keepLast: number | undefined; onSaved: ((name: string) => void)[] }
    >();
    for (const r of requests) {
      const entry = byDir.get(r.dir) ?? { best: false, keepLast: undefined, onSaved: [] };
      entry.best ||= r.best === true;
      if (r.keepLast !== undefined) entry.keepLast = Math.max(entry.keepLast ?? 0, r.keepLast);
      if (r.onSaved) entry.onSaved.push(r.onSaved);
      byDir.set(r.dir, entry);
    }
    const content = await this.#snapshot(run, position);
    for (const [dir, { best, keepLast, onSaved }] of byDir) {
      const name = await writeCheckpoint(dir, content, {
        epoch: position.epoch,
        step: position.step,
        tags: best ? ['latest', 'best'] : ['latest'],
        ...(keepLast !== undefined ? { keepLast } : {}),
      });
      for (const fn of onSaved) fn(name);
    }
  }

  async #snapshot(
    run: FitRun,
    position: Position,
  ): Promise<{ tensors: Record<string, Record<string, tf.Tensor>>; state: RunnerCheckpointState }> {
    const opt = run.optimizer.stateDict();
    const callbackTensors: Record<string, tf.Tensor> = {};
    const callbackStates: Record<string, unknown> = {};
    for (const cb of this.callbacks) {
      if (cb.stateDict === undefined) continue;
      const key = this.#keys.get(cb) as string;
      const s = await cb.stateDict();
      callbackStates[key] = s.state ?? null;
      for (const [name, t] of Object.entries(s.tensors ?? {})) callbackTensors[`${key}.${name}`] = t;
    }
    const state: RunnerCheckpointState = {
      runner: 'Runner',
      position,
      stopReason: run.stopReason,
      rng: {
        runner: this.rng.state(),
        model: Object.fromEntries([...this.#modelRngs].map(([k, r]) => [k, r.state()])),
      },
      optimizer: opt.state,
      callbacks: callbackStates,
      metrics: Object.fromEntries(this.metrics.map((m) => [m.name, m.state()])),
      // A mid-epoch checkpoint carries the epoch's training time so far; an epoch-end one starts afresh.
      accumulators: { ...run.acc, seconds: position.batch > 0 ? this.#epochSeconds(run) : 0 },
      history: run.history,
      backend: tf.getBackend() ?? null,
    };
    return {
      tensors: { model: this.model.stateDict(), optimizer: opt.tensors, callbacks: callbackTensors },
      state,
    };
  }

  async #restore(dir: string, run: FitRun): Promise<void> {
    const where = `Runner.fit: resume from ${dir}`;
    const ckpt = await readCheckpoint<RunnerCheckpointState>(dir, 'latest');
    try {
      const s = ckpt.state;
      if (
        !isPlainObject(s) ||
        s.runner !== 'Runner' ||
        !isPlainObject(s.position) ||
        !isPlainObject(s.rng) ||
        !isPlainObject(s.accumulators) ||
        !isPlainObject(s.history)
      ) {
        throw new CheckpointError(
          `${where}: checkpoint ${ckpt.name} was not written by a Runner (trainer.json lacks position/rng/accumulators/history)`,
        );
      }
      this.model.loadStateDict(ckpt.tensors.model ?? {});
      run.optimizer.loadStateDict({ tensors: ckpt.tensors.optimizer ?? {}, state: s.optimizer });
      try {
        this.rng.setState(s.rng.runner);
        for (const [name, rng] of this.#modelRngs) {
          const saved = s.rng.model[name];
          if (saved === undefined)
            throw new CheckpointError(
              `${where}: checkpoint ${ckpt.name} has no state for the model's generator '${name}' (has: ${Object.keys(s.rng.model).join(', ') || 'none'})`,
            );
          rng.setState(saved);
        }
        for (const m of this.metrics) {
          const saved = s.metrics[m.name];
          if (saved === undefined)
            throw new CheckpointError(
              `${where}: checkpoint ${ckpt.name} has no state for metric '${m.name}' (has: ${Object.keys(s.metrics).join(', ') || 'none'})`,
            );
          m.setState(saved);
        }
      } catch (e) {
        if (e instanceof CheckpointError) throw e;
        throw new CheckpointError(`${where}: ${(e as Error).message}`, { cause: e });
      }
      const callbackTensors = ckpt.tensors.callbacks ?? {};
      for (const cb of this.callbacks) {
        if (cb.loadStateDict === undefined) continue;
        const key = this.#keys.get(cb) as string;
        if (!(key in s.callbacks))
          throw new CheckpointError(
            `${where}: checkpoint ${ckpt.name} has no state for callback '${key}' (has: ${Object.keys(s.callbacks).join(', ') || 'none'})`,
          );
        const prefix = `${key}.`;
        const tensors = Object.fromEntries(
          Object.entries(callbackTensors)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, t]) => [k.slice(prefix.length), t]),
        );
        await cb.loadStateDict({ state: s.callbacks[key], tensors });
      }
      run.epoch = s.position.epoch;
      run.batch = s.position.batch;
      run.step = s.position.step;
      run.stopReason = s.stopReason;
      run.acc = { ...s.accumulators };
      run.history = cloneHistory(s.history);
    } finally {
      for (const group of Object.values(ckpt.tensors)) tf.dispose(Object.values(group));
    }
  }
}
