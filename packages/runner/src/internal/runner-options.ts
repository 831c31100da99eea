import type * as tf from '@tensorflow/tfjs-core';

import { ConfigError, Module, Optimizer, checkPositiveInt, describe } from '@ml/core';

import type { Callback } from '../callback.js';
import type { CheckpointWhich } from '../checkpoint-dir.js';
import type { Metric } from '../metric.js';
import { DEFAULT_RUNNER_OPTIONS } from '../runner-types.js';
import type { FitOptions, Loader, LossFn, RunnerOptions, SplitBatch, StepFn } from '../runner-types.js';
import { defaultSplitBatch } from '../split-batch.js';
import { checkLoader } from './loaders.js';

// Option checks of Runner and Runner.fit, done once where the runner or the fit starts.

/** A module with the `forward(x)` the default step calls. */
type ForwardModule = Module & { forward(x: tf.Tensor): tf.Tensor };

function hasForward(model: Module): model is ForwardModule {
  return 'forward' in model && typeof model.forward === 'function';
}

/** RunnerOptions checked, with every default filled in. */
export interface ResolvedRunnerOptions<M extends Module, B> {
  model: M;
  optimizer: Optimizer | null;
  loss: LossFn | null;
  metrics: Metric[];
  callbacks: Callback[];
  /** Callbacks in the order hooks run (ascending `order`, then position). */
  sorted: Callback[];
  /** Each callback's key in checkpoints. */
  keys: Map<Callback, string>;
  step: StepFn<M, B> | null;
  forward: (model: M, input: tf.Tensor) => tf.Tensor;
  split: (batch: B) => SplitBatch;
  seed: number | undefined;
  batchSize: number;
  checkLabels: boolean;
}

/** Checks the options of a Runner (ConfigErrors naming the option) and fills in the defaults. */
export function resolveRunnerOptions<M extends Module, B>(
  options: RunnerOptions<M, B>,
): ResolvedRunnerOptions<M, B> {
  const where = 'Runner';
  if (!(options?.model instanceof Module))
    throw new ConfigError(`${where}: model must be an @ml/core Module, got ${describe(options?.model)}`);
  const model = options.model;
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
  if (options.forward === undefined && options.step === undefined && !hasForward(model)) {
    throw new ConfigError(
      `${where}: the model (${model.constructor.name}) has no forward(x); pass forward or a step hook`,
    );
  }
  const forward =
    options.forward ??
    ((m: M, x: tf.Tensor): tf.Tensor => {
      // Reached only by predict with a step hook and no forward option.
      if (!hasForward(m))
        throw new ConfigError(`${where}: the model (${m.constructor.name}) has no forward(x); pass forward`);
      return m.forward(x);
    });
  if (options.seed !== undefined && !Number.isFinite(options.seed))
    throw new ConfigError(`${where}: seed must be a finite number, got ${options.seed}`);
  const batchSize = options.batchSize ?? DEFAULT_RUNNER_OPTIONS.batchSize;
  checkPositiveInt(where, 'batchSize', batchSize);
  const checkLabels = options.checkLabels ?? DEFAULT_RUNNER_OPTIONS.checkLabels;
  if (typeof checkLabels !== 'boolean')
    throw new ConfigError(`${where}: checkLabels must be a boolean, got ${describe(checkLabels)}`);

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
  const keys = new Map<Callback, string>();
  const taken = new Set<string>();
  callbacks.forEach((cb, i) => {
    if (cb === null || typeof cb !== 'object')
      throw new ConfigError(`${where}: callbacks[${i}] must be an object, got ${describe(cb)}`);
    const key = cb.key ?? `${cb.constructor.name}_${i}`;
    if (taken.has(key))
      throw new ConfigError(`${where}: two callbacks have the key '${key}'; give one of them another key`);
    taken.add(key);
    keys.set(cb, key);
  });
  const sorted = callbacks
    .map((cb, i) => ({ cb, i }))
    .sort((a, b) => (a.cb.order ?? 0) - (b.cb.order ?? 0) || a.i - b.i)
    .map(({ cb }) => cb);
  return {
    model,
    optimizer: options.optimizer ?? null,
    loss: options.loss ?? null,
    metrics,
    callbacks,
    sorted,
    keys,
    step: options.step ?? null,
    forward,
    split: options.splitBatch ?? defaultSplitBatch,
    seed: options.seed,
    batchSize,
    checkLabels,
  };
}

/** FitOptions checked, with every default filled in. */
export interface ResolvedFitOptions<B> {
  epochs: number;
  logEvery: number;
  evalEvery: number | undefined;
  valLoader: Loader<B> | undefined;
  /** The checkpoint to resume from, or null. */
  resume: { dir: string; checkpoint: CheckpointWhich } | null;
  stopOnNonFiniteLoss: boolean;
  onWarning: ((message: string) => void) | undefined;
}

/** Checks the options of `Runner.fit` (ConfigErrors naming the option) and fills in the defaults. */
export function resolveFitOptions<B>(where: string, options: FitOptions<B>): ResolvedFitOptions<B> {
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
  const stopOnNonFiniteLoss = options.stopOnNonFiniteLoss ?? DEFAULT_RUNNER_OPTIONS.stopOnNonFiniteLoss;
  if (typeof stopOnNonFiniteLoss !== 'boolean')
    throw new ConfigError(
      `${where}: stopOnNonFiniteLoss must be a boolean, got ${describe(stopOnNonFiniteLoss)}`,
    );
  if (options.onWarning !== undefined && typeof options.onWarning !== 'function')
    throw new ConfigError(`${where}: onWarning must be a function, got ${describe(options.onWarning)}`);
  return {
    epochs: options.epochs,
    logEvery,
    evalEvery: options.evalEvery,
    valLoader: options.valLoader,
    resume: resolveResume(where, options.resume),
    stopOnNonFiniteLoss,
    onWarning: options.onWarning,
  };
}

function resolveResume(where: string, resume: FitOptions['resume']): ResolvedFitOptions<unknown>['resume'] {
  if (resume === undefined) return null;
  const dir = typeof resume === 'string' ? resume : resume?.dir;
  if (typeof dir !== 'string' || dir === '')
    throw new ConfigError(
      `${where}: resume must be a checkpoint directory path or { dir, checkpoint? }, got ${describe(resume)}`,
    );
  const checkpoint = typeof resume === 'string' ? 'latest' : (resume.checkpoint ?? 'latest');
  if (typeof checkpoint !== 'string' || checkpoint === '')
    throw new ConfigError(
      `${where}: resume.checkpoint must be 'latest', 'best' or a checkpoint's name, got ${describe(checkpoint)}`,
    );
  return { dir, checkpoint };
}
