import {
  add,
  flat,
  get,
  I32,
  i32,
  inc,
  ltS,
  set,
  V128,
  vAdd,
  vDiv,
  vLoad,
  vLoadSplat,
  vMax,
  vMul,
  vSqrt,
  vStore,
  vSub,
  whileLoop,
  type Code,
  type FnDef,
} from '../gemm/wasm-encoder.js';
import type { JsKernel } from './js-kernel.js';
import { splitCall, splitRange } from './simd-map.js';

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

// ---- SIMD (wasm): the same operations in the same order on f32x4, so the same bits ----
// update(p, g, m, v, vMax, pOut, mOut, vOut, vMaxOut, consts, bytes); consts holds the f32 scalars
// [β1, β2, 1 − β1, 1 − β2, eps, 1 − lr·wd, wd, stepSize, √(1 − β2ᵗ)], one variant per decay mode and AMSGrad.
type Decay = 'none' | 'l2' | 'decoupled';
const [P_, G_, M_, V_, VMAX, POUT, MOUT, VOUT, VMAXOUT, CONSTS, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const I_ = 11;
const [B1, B2, C1, C2, EPS, SHRINK, WD, SS, BC] = [12, 13, 14, 15, 16, 17, 18, 19, 20];
const [PV, GV, MV, VV] = [21, 22, 23, 24];

function updateFn(decay: Decay, amsgrad: boolean): FnDef {
  const at = (p: number): Code => flat(get(p), get(I_), add);
  const consts = [B1, B2, C1, C2, EPS, SHRINK, WD, SS, BC].map((l, i) =>
    flat(get(CONSTS), vLoadSplat(4 * i), set(l)),
  );
  const second = amsgrad
    ? flat(at(VMAXOUT), at(VMAX), vLoad(), get(VV), vMax, set(VV), get(VV), vStore()) // v̂ = max(v̂, v)
    : [];
  return {
    name: `update_${decay}_${amsgrad ? 'ams' : 'plain'}`,
    params: 11,
    locals: [
      [1, I32],
      [13, V128],
    ],
    body: flat(
      ...consts,
      i32(0),
      set(I_),
      whileLoop(
        flat(get(I_), get(BYTES), ltS),
        flat(at(P_), vLoad(), set(PV), at(G_), vLoad(), set(GV)),
        decay === 'decoupled' ? flat(get(PV), get(SHRINK), vMul, set(PV)) : [],
        decay === 'l2' ? flat(get(GV), get(PV), get(WD), vMul, vAdd, set(GV)) : [],
        // m ← m·β1 + g·(1 − β1); v ← v·β2 + (g·g)·(1 − β2)
        flat(
          at(M_),
          vLoad(),
          get(B1),
          vMul,
          get(GV),
          get(C1),
          vMul,
          vAdd,
          set(MV),
          at(MOUT),
          get(MV),
          vStore(),
        ),
        flat(at(V_), vLoad(), get(B2), vMul, get(GV), get(GV), vMul, get(C2), vMul, vAdd, set(VV)),
        flat(at(VOUT), get(VV), vStore()),
        second,
        // p ← p − (m / (√v / bc + eps))·stepSize
        flat(
          at(POUT),
          get(PV),
          get(MV),
          get(VV),
          vSqrt,
          get(BC),
          vDiv,
          get(EPS),
          vAdd,
          vDiv,
          get(SS),
          vMul,
          vSub,
        ),
        vStore(),
        inc(I_, i32(16)),
      ),
    ),
  };
}

const VARIANTS: [Decay, boolean][] = (['none', 'l2', 'decoupled'] as const).flatMap((d) => [
  [d, false] as [Decay, boolean],
  [d, true] as [Decay, boolean],
]);

const updateFns = () => VARIANTS.map(([d, a]) => updateFn(d, a));

/** MlAdamUpdate: inputs p, g, m, v[, vMax] → p', m', v'[, vMax']. */
export const adamUpdateKernel: JsKernel<AdamUpdateAttrs> = {
  name: ADAM_UPDATE,
  inputs: ['p', 'g', 'm', 'v', 'vMax'],
  outputShapes: (ins, a) => Array.from({ length: a.amsgrad ? 4 : 3 }, () => ins[0]!.shape),
  compute: ([p, g, m, v, vMax], [pOut, mOut, vOut, vMaxOut], a) =>
    adamUpdate(a, p!, g!, m!, v!, vMax ?? null, pOut!, mOut!, vOut!, vMaxOut ?? null),
  wasm: (heap, [p, g, m, v, vMax], [pOut, mOut, vOut, vMaxOut], a, [shape]) => {
    const n = shape!.reduce((x, y) => x * y, 1);
    const n4 = n & ~3;
    const decay: Decay = a.weightDecay === 0 ? 'none' : a.decoupled ? 'decoupled' : 'l2';
    if (n4 > 0) {
      const c = heap.scratch(9);
      const f = Math.fround;
      heap.f32.set(
        [
          a.beta1,
          a.beta2,
          1 - a.beta1,
          1 - a.beta2,
          a.eps,
          1 - a.lr * a.weightDecay,
          a.weightDecay,
          a.stepSize,
          a.bc2Sqrt,
        ].map(f),
        c >> 2,
      );
      // Every element is updated on its own: split by elements across threads when large.
      const ptrs = [p!, g!, m!, v!, vMax ?? 0, pOut!, mOut!, vOut!, vMaxOut ?? 0];
      const at = (s: number, e: number) => [...ptrs.map((q) => (q === 0 ? 0 : q + s)), c, e - s];
      const name = `update_${decay}_${a.amsgrad ? 'ams' : 'plain'}`;
      const bytes = 4 * n4;
      splitCall(
        heap.memory,
        'adam-update',
        updateFns,
        name,
        bytes,
        (threads) =>
          Array.from({ length: threads }, (_, t) => {
            const [s, e] = splitRange(bytes, threads, t, 16);
            return e > s ? at(s, e) : null;
          }),
        at(0, bytes),
      );
    }
    if (n4 < n) {
      // The last n mod 4 floats in JS, on views of the heap.
      const f32 = heap.f32;
      const tail = (ptr: number | null | undefined) =>
        ptr == null ? null : f32.subarray((ptr >> 2) + n4, (ptr >> 2) + n);
      adamUpdate(
        a,
        tail(p)!,
        tail(g)!,
        tail(m)!,
        tail(v)!,
        tail(vMax),
        tail(pOut)!,
        tail(mOut)!,
        tail(vOut)!,
        tail(vMaxOut),
      );
    }
    return true;
  },
};
