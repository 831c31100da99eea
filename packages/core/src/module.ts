import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, ConfigError, formatShape } from './errors.js';
import { requireBackend } from './internal/patches.js';
import type { Rng } from './rng.js';

/** A flat map from dotted names (`encoder.layers.0.linear1.weight`) to tensors, like PyTorch's state dict. */
export type StateDict = Record<string, tf.Tensor>;

/** Options of {@link Module.registerBuffer}. */
export interface RegisterBufferOptions {
  /**
   * Saved in the state dict (default true). A non-persistent buffer (a fixed position table, a causal
   * mask) is owned and disposed by the module but never saved or loaded, like PyTorch's `persistent=False`.
   */
  persistent?: boolean;
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Reject missing and unexpected keys (default true). Wrong shapes are always rejected. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match when `strict` is false. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$|^[0-9]+$/;

/**
 * The base of every model and layer, shaped like `torch.nn.Module`: named parameters (trainable
 * `tf.Variable`s), buffers (non-trained state such as BatchNorm's running statistics), child modules,
 * train/eval mode, state dicts and freezing. Parameters are stored in PyTorch's layouts (a Linear's
 * weight is [out, in]) so PyTorch state dicts load directly.
 *
 * Subclasses register what they own in the constructor:
 * `this.weight = this.registerParameter('weight', init)`; `this.fc = this.registerModule('fc', new Linear(...))`.
 */
export abstract class Module {
  /** True in training mode (dropout active, BatchNorm uses batch statistics). */
  training = true;
  readonly #params = new Map<string, tf.Variable>();
  readonly #buffers = new Map<string, tf.Variable>();
  readonly #transient = new Map<string, tf.Tensor>();
  readonly #generators = new Map<string, Rng>();
  readonly #children = new Map<string, Module>();

  constructor() {
    // Layers create their parameters in their constructors: without a backend tfjs would fail there with
    // "No backend found in registry"; say what to do instead, and make sure training's gradients are in.
    requireBackend(this.constructor.name);
  }

  /** Registers a trainable parameter; the module takes ownership of `value` (it is disposed). */
  protected registerParameter(name: string, value: tf.Tensor): tf.Variable {
    this.#checkName(name);
    const v = tf.variable(value, true, undefined, value.dtype);
    value.dispose();
    this.#params.set(name, v);
    return v;
  }

  /**
   * Registers a non-trainable buffer (e.g. `running_mean`) and takes ownership of `value`. A persistent
   * buffer (the default) is a variable saved in the state dict; a non-persistent one is kept as it is,
   * disposed with the module and never saved.
   */
  protected registerBuffer(name: string, value: tf.Tensor): tf.Variable;
  protected registerBuffer(
    name: string,
    value: tf.Tensor,
    options: RegisterBufferOptions & { persistent: false },
  ): tf.Tensor;
  protected registerBuffer(name: string, value: tf.Tensor, options: RegisterBufferOptions): tf.Tensor;
  protected registerBuffer(name: string, value: tf.Tensor, options: RegisterBufferOptions = {}): tf.Tensor {
    this.#checkName(name);
    if (options.persistent === false) {
      const kept = tf.keep(value);
      this.#transient.set(name, kept);
      return kept;
    }
    const v = tf.variable(value, false, undefined, value.dtype);
    value.dispose();
    this.#buffers.set(name, v);
    return v;
  }

  /**
   * Registers a random generator the module draws from while it runs (dropout masks, drop path,
   * sampling). Checkpoints save and restore every registered generator's state, so a resumed run
   * continues the exact random stream, whether the generator is a public field or a private one.
   */
  protected registerGenerator(name: string, rng: Rng): Rng {
    this.#checkName(name);
    this.#generators.set(name, rng);
    return rng;
  }
  /** Registers a child module under `name` and returns it. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName(name);
    this.#children.set(name, module);
    return module;
  }

  #checkName(name: string): void {
    if (!NAME_RE.test(name))
      throw new ConfigError(
        `${this.constructor.name}: name must be an identifier or an index, got '${name}'`,
      );
    if (
      this.#params.has(name) ||
      this.#buffers.has(name) ||
      this.#transient.has(name) ||
      this.#generators.has(name) ||
      this.#children.has(name)
    ) {
      throw new ConfigError(`${this.constructor.name}: '${name}' is already registered`);
    }
  }

  /** Child modules by name, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** This module and every descendant with its dotted prefix ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.#children)
      out.push(...child.namedModules(prefix === '' ? name : `${prefix}.${name}`));
    return out;
  }

  /** Every parameter with its dotted name, this module's first, then each child's. */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    return this.#collect(prefix, (m) => m.#params);
  }

  /** Every buffer with its dotted name. */
  namedBuffers(prefix = ''): [string, tf.Variable][] {
    return this.#collect(prefix, (m) => m.#buffers);
  }

  /**
   * Every registered generator with its dotted name, each generator once (a generator shared by several
   * modules is listed under its first name).
   */
  namedGenerators(prefix = ''): [string, Rng][] {
    const seen = new Set<Rng>();
    return this.#collect(prefix, (m) => m.#generators).filter(([, g]) => !seen.has(g) && !!seen.add(g));
  }

  #collect<T>(prefix: string, pick: (m: Module) => Map<string, T>): [string, T][] {
    const out: [string, T][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, v] of pick(m)) out.push([path === '' ? name : `${path}.${name}`, v]);
    }
    return out;
  }

  /** Every parameter (trainable or frozen). */
  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  /** Parameters that receive gradients: those not frozen. */
  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, v) => n + v.size, 0);
  }

  /** Sets training mode on this module and all descendants; returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (dropout off, BatchNorm uses running statistics); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Stops (or, with `false`, resumes) gradient updates for every parameter of this module; returns this. */
  freeze(frozen = true): this {
    for (const v of this.parameters()) v.trainable = !frozen;
    return this;
  }

  /** Resumes gradient updates for every parameter; returns this. */
  unfreeze(): this {
    return this.freeze(false);
  }

  /**
   * Parameters and buffers by dotted name. The tensors are the module's own variables: read or save
   * them, do not dispose them.
   */
  stateDict(): StateDict {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values from `state` into this module's parameters and buffers. Strict by default: missing
   * keys, unexpected keys and wrong shapes are reported together in one `CheckpointError`; nothing is
   * written unless everything fits. The caller keeps ownership of `state`.
   */
  loadStateDict(state: StateDict, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = new Map([...this.namedParameters(), ...this.namedBuffers()]);
    const missingKeys = [...own.keys()].filter((k) => !Object.hasOwn(state, k));
    const unexpectedKeys = Object.keys(state).filter((k) => !own.has(k));
    const wrongShape: string[] = [];
    for (const [key, v] of own) {
      const t = Object.hasOwn(state, key) ? state[key] : undefined;
      if (t === undefined) continue;
      if (!(t instanceof tf.Tensor)) {
        wrongShape.push(`${key}: expected a tensor of shape ${formatShape(v.shape)}, got ${typeof t}`);
        continue;
      }
      if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        wrongShape.push(`${key}: expected ${formatShape(v.shape)}, got ${formatShape(t.shape)}`);
      }
    }
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (wrongShape.length > 0) problems.push(`wrong shapes: ${wrongShape.join('; ')}`);
    if (problems.length > 0) {
      throw new CheckpointError(
        `${this.constructor.name}.loadStateDict: state dict does not fit the model (${problems.join('; ')})`,
      );
    }
    tf.tidy(() => {
      for (const [key, v] of own) {
        const t = Object.hasOwn(state, key) ? state[key] : undefined;
        // Assigning a variable its own data (loading a model's own state dict) would free that data.
        if (t === undefined || t.dataId === v.dataId) continue;
        v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Disposes every parameter and buffer (persistent or not) of this module and its descendants. */
  dispose(): void {
    for (const [, v] of [...this.namedParameters(), ...this.namedBuffers()]) v.dispose();
    for (const [, t] of this.#collect('', (m) => m.#transient)) t.dispose();
  }
}

/** A module that maps one tensor to one tensor; what {@link Sequential} and activations implement. */
export interface Layer {
  forward(x: tf.Tensor): tf.Tensor;
}

/** A Module that is also a {@link Layer}. */
export type LayerModule = Module & Layer;
