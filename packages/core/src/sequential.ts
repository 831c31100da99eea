import * as tf from '@tensorflow/tfjs-core';

import type { LayerModule } from './module.js';
import { Module } from './module.js';

/**
 * Applies layers in order; children are named '0', '1', … as in `torch.nn.Sequential`, so state-dict
 * keys match (`0.weight`, `2.bias`).
 */
export class Sequential extends Module {
  readonly layers: readonly LayerModule[];

  constructor(layers: LayerModule[]) {
    super();
    this.layers = layers.map((layer, i) => this.registerModule(String(i), layer));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.layers.reduce((h, layer) => layer.forward(h), x));
  }
}

/** Holds child modules in a list named '0', '1', … (like `torch.nn.ModuleList`); it has no forward. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: readonly M[];

  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.items.length;
  }
}
