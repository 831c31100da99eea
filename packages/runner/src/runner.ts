import * as tf from '@tensorflow/tfjs-core';

import {
  CheckpointError,
  ConfigError,
  DataError,
  DEFAULT_CROSS_ENTROPY_OPTIONS,
  checkIndexValues,
  collectTensors,
  describe,
  disposeAll,
  formatShape,
  isPlainObject,
  resolveRng,
  sameShape,
} from '@ml/core';
import type { Module, Optimizer, Rng } from '@ml/core';

import type { Callback } from './callback.js';
import { readCheckpoint } from './checkpoint-dir.js';
import type { CheckpointWhich } from './checkpoint-dir.js';
import { cloneHistory } from './history.js';
import type { Logs } from './history.js';
import { FitRun, freshAccumulators } from './internal/fit-run.js';
import type { Position } from './internal/fit-run.js';
import { asLoader, checkLoader, epochOf, loaderLength, rowBatches } from './internal/loaders.js';
import { resolveFitOptions, resolveRunnerOptions } from './internal/runner-options.js';
import type { ResolvedFitOptions } from './internal/runner-options.js';
import { leadingDim, readScalar } from './internal/tensors.js';
import type { Metric } from './metric.js';
import { disposeGroups, flushCheckpoints, restore } from './runner-checkpoint.js';
import type { RunnerParts } from './runner-checkpoint.js';
import type {
  FitOptions,
  FitResult,
  Loader,
  LossFn,
  RunnerOptions,
  SplitBatch,
  StepContext,
  StepFn,
  StepOutput,
  StepResult,
  TensorData,
} from './runner-types.js';

type PlainHook = 'onFitStart' | 'onEpochStart' | 'onStepStart' | 'onValidationStart' | 'onFitEnd';
type LogsHook = 'onStepEnd' | 'onLog' | 'onValidationEnd' | 'onEpochEnd';

/**
 * The training loop, what Keras `fit` and PyTorch Lightning users expect: `fit` with validation,
 * batch-accumulated metrics, callbacks, checkpoints and exact resume; batched `evaluate` and
 * `predict` whatever the input size.
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
 * everything (the model's registered generators included) and, in a checkpoint taken mid-epoch,
 * re-reads the epoch from its start and skips (and frees) the batches already trained on. With a
 * loader whose epoch order depends only on (seed, epoch), like DataLoader, the resumed run ends with
 * the same weights as an uninterrupted one on the same backend.
 *
 * Guards: by default a NaN/infinite training loss stops `fit` with a DataError naming the step and
 * batch, and class-id targets outside the output's classes are a DataError naming the batch.
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
  readonly #parts: RunnerParts;
  readonly #checkLabels: boolean;
  #busy = false;

  constructor(options: RunnerOptions<M, B>) {
    const o = resolveRunnerOptions(options);
    this.model = o.model;
    this.optimizer = o.optimizer;
    this.loss = o.loss;
    this.metrics = o.metrics;
    this.callbacks = o.callbacks;
    this.#sorted = o.sorted;
    this.batchSize = o.batchSize;
    this.#step = o.step;
    this.#forward = o.forward;
    this.#split = o.split;
    this.#checkLabels = o.checkLabels;
    this.rng = resolveRng(undefined, o.seed);
    if (o.seed !== undefined)
      for (const [, rng] of this.model.namedGenerators()) rng.setState(this.rng.fork().state());
    this.#parts = {
      model: this.model,
      rng: this.rng,
      metrics: this.metrics,
      callbacks: this.callbacks,
      keys: o.keys,
    };
  }

  // ---------------------------------------------------------------- steps

  #runStep(batch: B, ctx: StepContext<M>, needLoss: boolean): StepResult {
    if (this.#step !== null) {
      const out = this.#step(batch, ctx);
      if (out instanceof tf.Tensor) return { loss: out };
      if (!isPlainObject(out) || !(out.loss instanceof tf.Tensor))
        throw new ConfigError(
          `Runner: the step hook must return a scalar loss tensor or { loss, output?, target? }, got ${describe(out)}`,
        );
      return out;
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

  // With the default step, int32 class ids against logits [..., C] must lie in [0, C) (or be the
  // ignore index): a label 7 with 3 classes would otherwise train silently on garbage.
  async #checkTargets(out: StepResult, where: string, context: string): Promise<void> {
    const { output, target } = out;
    if (!this.#checkLabels || this.#step !== null || output === undefined || target === undefined) return;
    if (target.dtype !== 'int32' || output.rank !== target.rank + 1) return;
    if (!sameShape(output.shape.slice(0, -1), target.shape)) return;
    const classes = output.shape[output.rank - 1] as number;
    checkIndexValues(where, 'label', await target.data(), classes, {
      skip: DEFAULT_CROSS_ENTROPY_OPTIONS.ignoreIndex,
      context: `(the output ${formatShape(output.shape)} has ${classes} classes) in ${context}`,
    });
  }

  #batchWeight(out: StepResult, batch: B): number {
    if (out.batchSize !== undefined) {
      if (!(out.batchSize > 0))
        throw new ConfigError(`Runner: the step hook's batchSize must be > 0, got ${out.batchSize}`);
      return out.batchSize;
    }
    return (out.output !== undefined && out.output.rank > 0 ? out.output.shape[0] : leadingDim(batch)) ?? 1;
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

  async #trainBatch(batch: B, run: FitRun, fit: ResolvedFitOptions<B>): Promise<void> {
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
    let captured: StepOutput | null = null;
    const { loss, grads } = optimizer.computeGradients(() => {
      const out = this.#runStep(batch, ctx, true);
      if (out.loss === undefined) throw new ConfigError('Runner.fit: the step produced no loss');
      if (out.output !== undefined) tf.keep(out.output);
      if (out.target !== undefined) tf.keep(out.target);
      captured = { ...out, loss: out.loss };
      return out.loss;
    });
    const out: StepOutput = captured ?? { loss };
    const owned = new Set<tf.Tensor>([loss, ...Object.values(grads)]);
    const here = `batch ${run.batch + 1} of epoch ${run.epoch + 1} (step ${run.step + 1})`;
    let lossValue: number;
    let n: number;
    try {
      await this.#checkTargets(out, 'Runner.fit', here);
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
      if (!Number.isFinite(lossValue) && fit.stopOnNonFiniteLoss && !(skip && run.stopReason !== null)) {
        throw new DataError(
          `Runner.fit: the loss is ${lossValue} in ${here}; that update was not applied. Look for NaN or infinite values in the batch's inputs, or lower the learning rate (pass stopOnNonFiniteLoss: false to train on)`,
        );
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
          let out: StepResult = {};
          tf.tidy(() => {
            out = this.#runStep(batch, ctx, false);
            for (const t of collectTensors(out)) tf.keep(t);
          });
          try {
            await this.#checkTargets(out, 'Runner.evaluate', `batch ${batches}`);
            await this.#updateMetrics(out.output, out.target);
            if (out.loss !== undefined) {
              const n = this.#batchWeight(out, batch);
              lossSum += (await readScalar(out.loss)) * n;
              count += n;
              hasLoss = true;
            }
          } finally {
            disposeAll(out);
          }
        } finally {
          disposeAll(batch);
        }
      }
      if (batches === 0) throw new DataError('Runner.evaluate: the loader yielded no batches');
      return { ...(hasLoss ? { [`${prefix}loss`]: lossSum / count } : {}), ...this.#metricResults(prefix) };
    } finally {
      this.metrics.forEach((m, i) => m.setState(saved[i] ?? []));
      this.model.train(wasTraining);
    }
  }

  // ---------------------------------------------------------------- public API

  /**
   * Trains for `epochs` epochs (see {@link FitOptions}) and returns the history. Each batch the loader
   * yields is owned and freed by the runner. Throws a ConfigError for bad options, a DataError for an
   * empty loader, a non-finite loss or labels out of range (naming the batch), a CheckpointError when
   * no checkpoint of `resume` can be read or it does not fit.
   */
  async fit(train: Loader<B>, options: FitOptions<B>): Promise<FitResult> {
    const where = 'Runner.fit';
    checkLoader(where, 'train', train);
    const fit = resolveFitOptions(where, options);
    if (this.optimizer === null)
      throw new ConfigError(`${where}: needs an optimizer; pass one to the Runner`);
    if (this.loss === null && this.#step === null)
      throw new ConfigError(`${where}: needs a loss or a step hook; pass one to the Runner`);
    if (this.#busy)
      throw new ConfigError(`${where}: this runner is already fitting or evaluating; await it first`);
    this.#busy = true;
    const run = new FitRun(
      this.model,
      this.optimizer,
      fit.epochs,
      loaderLength(train),
      fit.valLoader !== undefined,
      fit.onWarning,
    );
    try {
      if (fit.resume !== null) await restore(this.#parts, run, fit.resume.dir, fit.resume.checkpoint);
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
      resumedFrom: run.resumedFrom,
      warnings: [...run.warnings],
    };
  }

  async #loop(train: Loader<B>, run: FitRun, fit: ResolvedFitOptions<B>): Promise<void> {
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

  async #endEpoch(run: FitRun, fit: ResolvedFitOptions<B>): Promise<void> {
    const logs: Logs = {
      epoch: run.epoch + 1,
      step: run.step,
      loss: run.acc.lossSum / run.acc.lossCount,
      ...this.#metricResults(),
      lr: run.optimizer.lr,
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
   * every metric. `data` is a loader or whole tensors `{ x, y }` (sliced into `batchSize` rows and
   * given to the step as `[x, y]` batches). Returns `{ loss, <metric>: … }` (no `loss` when the
   * runner has none).
   */
  async evaluate(data: Loader<B> | TensorData): Promise<Logs> {
    // Whole tensors become [x, y] batches, which only the default splitBatch (or a step that reads
    // [x, y]) understands; B says nothing about them, hence the one cast.
    const loader = asLoader('Runner.evaluate', data, this.batchSize) as Loader<B>;
    if (this.loss === null && this.#step === null && this.metrics.length === 0)
      throw new ConfigError('Runner.evaluate: needs a loss, a step hook or metrics to compute');
    return this.#evaluate(loader, '', 0, 0);
  }

  /**
   * Runs the model in eval mode on `input` — a tensor (sliced into `batchSize` rows) or a loader
   * (each batch's input, see `splitBatch`) — and returns the outputs concatenated along the first
   * axis. The caller owns the result.
   */
  async predict(input: tf.Tensor | Loader<B>): Promise<tf.Tensor> {
    const where = 'Runner.predict';
    let inputs: Iterable<tf.Tensor> | AsyncIterable<tf.Tensor>;
    if (input instanceof tf.Tensor) {
      if (input.rank === 0)
        throw new ConfigError(`${where}: input must have a batch dimension, got ${formatShape(input.shape)}`);
      inputs = rowBatches(input, this.batchSize);
    } else {
      checkLoader(where, 'input', input);
      inputs = this.#inputsOf(input);
    }
    const wasTraining = this.model.training;
    this.model.eval();
    const parts: tf.Tensor[] = [];
    try {
      for await (const x of inputs) {
        try {
          parts.push(tf.tidy(() => this.#forward(this.model, x)));
        } finally {
          x.dispose();
        }
      }
      if (parts.length === 0) throw new DataError(`${where}: no input rows to predict`);
      return parts.length === 1 ? (parts.pop() as tf.Tensor) : tf.concat(parts, 0);
    } finally {
      tf.dispose(parts);
      this.model.train(wasTraining);
    }
  }

  // Each batch's input; the rest of the batch is freed as soon as the input is taken out.
  async *#inputsOf(loader: Loader<B>): AsyncGenerator<tf.Tensor> {
    for await (const batch of epochOf(loader, 0)) {
      let input: tf.Tensor;
      try {
        input = this.#split(batch).input;
      } catch (e) {
        disposeAll(batch);
        throw e;
      }
      disposeAll(batch, input);
      yield input;
    }
  }

  /**
   * Loads only the model weights of a checkpoint in `dir` ('best', 'latest' or a checkpoint's name)
   * with `loadStateDict`. Returns which checkpoint it was.
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
      disposeGroups(ckpt.tensors);
    }
  }

  // ---------------------------------------------------------------- callbacks and checkpoints

  async #emit(hook: PlainHook, run: FitRun): Promise<void> {
    for (const cb of this.#sorted) await cb[hook]?.(run);
  }

  async #emitLogs(hook: LogsHook, run: FitRun, logs: Logs): Promise<void> {
    for (const cb of this.#sorted) await cb[hook]?.(run, logs);
  }

  async #flush(run: FitRun, position: Position): Promise<void> {
    await flushCheckpoints(this.#parts, run, position, this.#epochSeconds(run));
  }
}
