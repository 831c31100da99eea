import type { JsKernel } from './js-kernel.js';

// MlAdamUpdate: one Adam/AdamW parameter update as one kernel (p, grad, m, v[, vMax] → p', m', v'[, vMax'])
// instead of ~13 tfjs ops, on wasm and cpu. Every operation rounds to float32 in the order the op-level
// update (../../adam.ts) runs them, so the results are bit-identical to it: float32 +, −, ×, ÷ and √
// computed in float64 and rounded once are correctly rounded. Per-op dispatch, not arithmetic, was
// most of an optimizer step on wasm (a small ViT has ~50 parameters: ~650 kernels per step).

/** Kernel name; attrs {@link AdamUpdateAttrs}. */
export const ADAM_UPDATE = 'MlAdamUpdate';

/** The update's hyperparameters, with the step's bias corrections as plain numbers. */
export interface AdamUpdateAttrs {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: p·(1 − lr·weightDecay) before the update; Adam: weightDecay·p added to the gradient. */
  decoupled: boolean;
  lr: number;
  /** lr / (1 − β1ᵗ). */
  stepSize: number;
  /** √(1 − β2ᵗ). */
  bc2Sqrt: number;
  amsgrad: boolean;
}

const f = Math.fround;

/** The update over n floats; outputs may not alias inputs. */
function adamUpdate(
  a: AdamUpdateAttrs,
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vMax: Float32Array | null,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  vMaxOut: Float32Array | null,
): void {
  const { beta1, beta2, eps, weightDecay, decoupled, stepSize, bc2Sqrt } = a;
  const [b1, b2, c1, c2, e] = [f(beta1), f(beta2), f(1 - beta1), f(1 - beta2), f(eps)];
  const [shrink, wd, ss, bc] = [f(1 - a.lr * weightDecay), f(weightDecay), f(stepSize), f(bc2Sqrt)];
  const decay = weightDecay !== 0;
  for (let i = 0; i < p.length; i++) {
    let pi = p[i]!;
    let gi = g[i]!;
    if (decay) {
      if (decoupled) pi = f(pi * shrink);
      else gi = f(gi + f(pi * wd));
    }
    const mi = f(f(m[i]! * b1) + f(gi * c1));
    const vi = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
    mOut[i] = mi;
    vOut[i] = vi;
    let second = vi;
    if (vMax !== null && vMaxOut !== null) {
      second = Math.max(vMax[i]!, vi);
      vMaxOut[i] = second;
    }
    const denom = f(f(f(Math.sqrt(second)) / bc) + e);
    pOut[i] = f(pi - f(f(mi / denom) * ss));
  }
}

/** MlAdamUpdate: inputs p, g, m, v[, vMax] → p', m', v'[, vMax']. */
export const adamUpdateKernel: JsKernel<AdamUpdateAttrs> = {
  name: ADAM_UPDATE,
  inputs: ['p', 'g', 'm', 'v', 'vMax'],
  outputShapes: (ins, a) => Array.from({ length: a.amsgrad ? 4 : 3 }, () => ins[0]!.shape),
  compute: ([p, g, m, v, vMax], [pOut, mOut, vOut, vMaxOut], a) =>
    adamUpdate(a, p!, g!, m!, v!, vMax ?? null, pOut!, mOut!, vOut!, vMaxOut ?? null),
};
