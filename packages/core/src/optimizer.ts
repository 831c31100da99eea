import * as tf from '@tensorflow/tfjs-core';

import { checkNonNegative } from './checks.js';
import { clipGradNormOnDevice } from './clip-grad-norm.js';
import { CheckpointError, ConfigError, ShapeError, formatShape } from './errors.js';
import { requireBackend } from './internal/patches.js';
import { releaseFailedTape } from './internal/tfjs-seam.js';
import { describe, sameShape } from './tensor-utils.js';
import type { Module } from './module.js';

/** What an optimizer updates: a module (all its named parameters) or explicit `[name, variable]` pairs. */
export type OptimizerParams = Module | readonly (readonly [string, tf.Variable])[];

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /** Learning rate, ≥ 0. */
  lr: number;
}

/** Options of {@link Optimizer.minimize}. */
export interface MinimizeOptions {
  /** Clip the global L2 norm of the gradients to this value before the step (like `clip_grad_norm_`). */
  clipNorm?: number;
}

/** The JSON-serialisable half of an optimizer's state. */
export interface OptimizerState {
  /** Which optimizer wrote it: `'SGD'`, `'Adam'`, `'AdamW'`. */
  type: string;
  lr: number;
  /** Number of `step()` calls so far. */
  stepCount: number;
  /** Per-parameter update counts (a parameter without a gradient in a step is not counted, as in PyTorch). */
  paramSteps: Record<string, number>;
  /** The optimizer's other hyperparameters (momentum, betas, eps, …). */
  hyperparameters: Record<string, number | boolean>;
}

/**
 * An optimizer's full state for checkpoints: `tensors` holds the per-parameter buffers keyed
 * `<slot>.<parameter name>` (e.g. `exp_avg.fc.weight`), `state` everything else as plain JSON.
 */
export interface OptimizerStateDict {
  tensors: Record<string, tf.Tensor>;
  state: OptimizerState;
}

/** Throws a ConfigError unless `lr` is a finite number ≥ 0. */
export function checkLearningRate(where: string, lr: unknown): asserts lr is number {
  checkNonNegative(where, 'lr', lr);
}

/** True for a tf.Variable (typed `tf.Variable`, where `instanceof` narrows to `Variable<any>`). */
function isVariable(value: unknown): value is tf.Variable {
  return value instanceof tf.Variable;
}

/**
 * The base of every optimizer, shaped like `torch.optim.Optimizer` with one parameter group.
 * Parameters are addressed by their dotted names (`encoder.0.weight`, as `Module.namedParameters()`
 * gives them); gradients arrive as a record with the same keys. Updates run in `tf.tidy` and write
 * with `Variable.assign`, so a step creates no lasting tensors and records no gradient tape.
 *
 * Subclasses implement {@link Optimizer.updateParameter} (one parameter's update, PyTorch's formula),
 * declare their per-parameter buffers ("slots") and their hyperparameters for checkpoints.
 */
export abstract class Optimizer {
  /** The optimizer's name in checkpoints and messages: `'SGD'`, `'Adam'`, `'AdamW'`. */
  abstract readonly kind: string;
  readonly #params: Map<string, tf.Variable>;
  #lr: number;
  #stepCount = 0;
  readonly #paramSteps = new Map<string, number>();
  // parameter name → slot name → buffer (momentum, first and second moments)
  readonly #slots = new Map<string, Map<string, tf.Variable>>();

  constructor(params: OptimizerParams, options: OptimizerOptions) {
    const where = new.target.name;
    requireBackend(where);
    checkLearningRate(where, options.lr);
    this.#lr = options.lr;
    // Duck-typed so a Module from another copy of @ml/core is still recognised.
    const entries =
      typeof (params as Module).namedParameters === 'function'
        ? (params as Module).namedParameters()
        : params;
    if (!Array.isArray(entries))
      throw new ConfigError(
        `${where}: params must be a Module or [name, tf.Variable] pairs, got ${describe(params)}`,
      );
    this.#params = new Map();
    const seen = new Set<tf.Variable>();
    for (const entry of entries) {
      const [name, variable] = entry as [unknown, unknown];
      if (typeof name !== 'string' || !isVariable(variable)) {
        throw new ConfigError(
          `${where}: each param must be a [name, tf.Variable] pair, got [${String(name)}, ${String(variable)}]`,
        );
      }
      if (this.#params.has(name)) throw new ConfigError(`${where}: parameter name '${name}' appears twice`);
      if (seen.has(variable))
        throw new ConfigError(`${where}: parameter '${name}' is the same variable as an earlier one`);
      seen.add(variable);
      this.#params.set(name, variable);
    }
    if (this.#params.size === 0) throw new ConfigError(`${where}: got an empty parameter list`);
  }

  /** The learning rate used by the next step; schedules set it. */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    checkLearningRate(`${this.kind}.lr`, value);
    this.#lr = value;
  }

  /** Number of `step()` calls so far. */
  get stepCount(): number {
    return this.#stepCount;
  }

  /** The names of the parameters this optimizer updates, in order. */
  paramNames(): string[] {
    return [...this.#params.keys()];
  }

  /**
   * Applies one update to every trainable parameter that has a gradient in `grads` (keyed by
   * parameter name). Frozen parameters and parameters without a gradient are left alone. Does not
   * dispose `grads`. Unknown names and wrong shapes throw before anything is written.
   */
  step(grads: Record<string, tf.Tensor>): void {
    const work: [string, tf.Variable, tf.Tensor][] = [];
    for (const [name, grad] of Object.entries(grads)) {
      const param = this.#params.get(name);
      if (param === undefined) {
        throw new ConfigError(
          `${this.kind}.step: gradient '${name}' names no parameter of this optimizer (known: ${this.paramNames().join(', ')})`,
        );
      }
      if (!(grad instanceof tf.Tensor) || grad.isDisposed)
        throw new ConfigError(`${this.kind}.step: gradient '${name}' must be a live tf.Tensor`);
      if (!sameShape(grad.shape, param.shape)) {
        throw new ShapeError(
          `${this.kind}.step: gradient '${name}' must have the parameter's shape ${formatShape(param.shape)}, got ${formatShape(grad.shape)}`,
        );
      }
      if (param.trainable) work.push([name, param, grad]);
    }
    tf.tidy(() => {
      for (const [name, param, grad] of work) {
        const n = (this.#paramSteps.get(name) ?? 0) + 1;
        this.#paramSteps.set(name, n);
        this.updateParameter(name, param, grad, n);
      }
    });
    this.#stepCount += 1;
  }

  /**
   * Runs `lossFn` under autodiff and returns the loss and the gradients of every trainable parameter
   * it depends on, keyed by parameter name. The caller disposes both.
   */
  computeGradients(lossFn: () => tf.Scalar): { loss: tf.Scalar; grads: Record<string, tf.Tensor> } {
    const trainable = [...this.#params].filter(([, v]) => v.trainable);
    if (trainable.length === 0)
      throw new ConfigError(
        `${this.kind}.computeGradients: every parameter is frozen; nothing to differentiate`,
      );
    let produced: tf.Tensor | undefined;
    const checked = (): tf.Scalar => {
      const loss = lossFn();
      if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
        throw new ShapeError(
          `${this.kind}.computeGradients: lossFn must return a scalar tensor, got ${loss instanceof tf.Tensor ? formatShape(loss.shape) : String(loss)}`,
        );
      }
      produced = loss;
      return loss;
    };
    let result: ReturnType<typeof tf.variableGrads>;
    try {
      result = tf.variableGrads(
        checked,
        trainable.map(([, v]) => v),
      );
    } catch (e) {
      // tfjs keeps the tape's saved tensors alive when lossFn throws; free them (see PATCHES.md).
      releaseFailedTape();
      if (produced !== undefined && !produced.isDisposed) produced.dispose();
      throw e;
    }
    const { value, grads: byVar } = result;
    const grads: Record<string, tf.Tensor> = {};
    for (const [name, v] of trainable) {
      const g = byVar[v.name];
      if (g != null) grads[name] = g;
    }
    return { loss: value, grads };
  }

  /**
   * One training step: computes the loss and gradients, optionally clips their global norm, updates
   * the parameters and disposes the gradients. Returns the loss; the caller disposes it.
   */
  minimize(lossFn: () => tf.Scalar, options: MinimizeOptions = {}): tf.Scalar {
    const { clipNorm } = options;
    if (
      clipNorm !== undefined &&
      (typeof clipNorm !== 'number' || !(clipNorm > 0) || !Number.isFinite(clipNorm))
    ) {
      throw new ConfigError(
        `${this.kind}.minimize: clipNorm must be a finite number > 0, got ${String(clipNorm)}`,
      );
    }
    const { loss, grads } = this.computeGradients(lossFn);
    try {
      if (clipNorm === undefined) {
        this.step(grads);
      } else {
        const clipped = clipGradNormOnDevice(grads, clipNorm);
        try {
          this.step(clipped.grads);
        } finally {
          tf.dispose([clipped.totalNorm, ...Object.values(clipped.grads)]);
        }
      }
    } catch (e) {
      loss.dispose();
      throw e;
    } finally {
      tf.dispose(Object.values(grads));
    }
    return loss;
  }

  /**
   * The optimizer's state for a checkpoint. The tensors are the optimizer's own buffers: save or read
   * them, do not dispose them. {@link Optimizer.loadStateDict} restores it exactly.
   */
  stateDict(): OptimizerStateDict {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, slots] of this.#slots) {
      for (const [slot, v] of slots) tensors[`${slot}.${name}`] = v;
    }
    return {
      tensors,
      state: {
        type: this.kind,
        lr: this.#lr,
        stepCount: this.#stepCount,
        paramSteps: Object.fromEntries(this.#paramSteps),
        hyperparameters: this.hyperparameters(),
      },
    };
  }

  /**
   * Restores a state written by {@link Optimizer.stateDict} of the same optimizer type over the same
   * parameter names: learning rate, hyperparameters, step counts and buffers. Everything is checked
   * first and every mismatch reported in one `CheckpointError`; nothing changes unless all fits. The
   * caller keeps ownership of `dict.tensors`.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const where = `${this.kind}.loadStateDict`;
    const { tensors, state } = dict;
    if (state === null || typeof state !== 'object')
      throw new CheckpointError(`${where}: state must be an object, got ${String(state)}`);
    if (state.type !== this.kind)
      throw new CheckpointError(`${where}: state was written by '${String(state.type)}', not '${this.kind}'`);
    try {
      checkLearningRate(where, state.lr);
      this.checkHyperparameters(where, state.hyperparameters ?? {});
    } catch (e) {
      throw new CheckpointError((e as Error).message, { cause: e });
    }
    if (!Number.isInteger(state.stepCount) || state.stepCount < 0)
      throw new CheckpointError(
        `${where}: stepCount must be a non-negative integer, got ${String(state.stepCount)}`,
      );
    const problems: string[] = [];
    const paramSteps = new Map<string, number>();
    for (const [name, n] of Object.entries(state.paramSteps ?? {})) {
      if (!this.#params.has(name)) problems.push(`paramSteps names unknown parameter '${name}'`);
      else if (!Number.isInteger(n) || n < 0)
        problems.push(`paramSteps['${name}'] must be a non-negative integer, got ${String(n)}`);
      else paramSteps.set(name, n);
    }
    const slotNames = this.slotNames(state.hyperparameters);
    const slots = new Map<string, Map<string, tf.Tensor>>();
    for (const [key, t] of Object.entries(tensors ?? {})) {
      const dot = key.indexOf('.');
      const slot = key.slice(0, dot);
      const name = key.slice(dot + 1);
      const param = this.#params.get(name);
      if (dot < 0 || !slotNames.includes(slot) || param === undefined) {
        problems.push(`unexpected tensor '${key}'`);
      } else if (!(t instanceof tf.Tensor) || !sameShape(t.shape, param.shape)) {
        problems.push(
          `'${key}' must have shape ${formatShape(param.shape)}, got ${t instanceof tf.Tensor ? formatShape(t.shape) : String(t)}`,
        );
      } else {
        if (!slots.has(name)) slots.set(name, new Map());
        slots.get(name)?.set(slot, t);
      }
    }
    for (const [name, n] of paramSteps) {
      if (n === 0) continue;
      for (const slot of slotNames)
        if (!slots.get(name)?.has(slot)) problems.push(`missing tensor '${slot}.${name}'`);
    }
    if (problems.length > 0)
      throw new CheckpointError(`${where}: optimizer state does not fit (${problems.join('; ')})`);

    this.#disposeSlots();
    this.#lr = state.lr;
    this.setHyperparameters(state.hyperparameters ?? {});
    this.#stepCount = state.stepCount;
    this.#paramSteps.clear();
    for (const [name, n] of paramSteps) this.#paramSteps.set(name, n);
    for (const [name, byName] of slots) {
      const own = new Map<string, tf.Variable>();
      // tf.variable shares the tensor's data (tfjs data is immutable), so the caller may dispose its copy.
      for (const [slot, t] of byName)
        own.set(
          slot,
          tf.tidy(() => tf.variable(t.dtype === 'float32' ? t : tf.cast(t, 'float32'), false)),
        );
      this.#slots.set(name, own);
    }
  }

  /** Frees the optimizer's buffers (not the parameters). */
  dispose(): void {
    this.#disposeSlots();
  }

  #disposeSlots(): void {
    for (const slots of this.#slots.values()) for (const v of slots.values()) v.dispose();
    this.#slots.clear();
  }

  /**
   * The buffer `slot` of parameter `name`, created on first use from `init()` (called inside the
   * step's tidy; the variable keeps the data). Subclasses update it with `assign`.
   */
  protected slot(name: string, slot: string, init: () => tf.Tensor): tf.Variable {
    let slots = this.#slots.get(name);
    if (slots === undefined) {
      slots = new Map();
      this.#slots.set(name, slots);
    }
    let v = slots.get(slot);
    if (v === undefined) {
      v = tf.variable(init(), false);
      slots.set(slot, v);
    }
    return v;
  }

  /** Whether parameter `name` already has buffer `slot`. */
  protected hasSlot(name: string, slot: string): boolean {
    return this.#slots.get(name)?.has(slot) ?? false;
  }

  /**
   * Updates one parameter in place (`param.assign(...)`), inside the step's `tf.tidy`. `step` is this
   * parameter's update count including this one (1 on the first update).
   */
  protected abstract updateParameter(name: string, param: tf.Variable, grad: tf.Tensor, step: number): void;

  /** The hyperparameters saved in the state (lr excluded). */
  protected abstract hyperparameters(): Record<string, number | boolean>;

  /** Throws a ConfigError unless `h` holds valid hyperparameters for this optimizer. */
  protected abstract checkHyperparameters(where: string, h: Record<string, unknown>): void;

  /** Adopts checked hyperparameters from a state. */
  protected abstract setHyperparameters(h: Record<string, unknown>): void;

  /** The slots every updated parameter has under hyperparameters `h` (e.g. `['exp_avg', 'exp_avg_sq']`). */
  protected abstract slotNames(h: Record<string, unknown>): string[];
}
