import { SHARED_MAX_PAGES } from '../gemm/probe.js';
import {
  add,
  encodeModule,
  flat,
  get,
  I32,
  i32,
  ltS,
  set,
  V128,
  whileLoop,
  type Code,
  uleb,
} from '../gemm/wasm-encoder.js';

// In-place SIMD sigmoid and tanh over a run of floats on a wasm heap, for the fused LSTM kernels: the
// gate nonlinearities are most of an LSTM step's arithmetic, and `Math.exp` in JS costs ~4× an f32x4
// exp. exp is Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial, exponent bits
// built directly), within a few float32 ulps; inputs are clamped so the result never overflows.

const simd = (op: number): Code => [0xfd, ...uleb(op)];
const f32x4 = (v: number): Code => [...simd(0x0c), ...new Uint8Array(new Float32Array([v, v, v, v]).buffer)];
const i32x4 = (v: number): Code => [...simd(0x0c), ...new Uint8Array(new Int32Array([v, v, v, v]).buffer)];
const vLoad: Code = [...simd(0x00), 4, 0];
const vStore: Code = [...simd(0x0b), 4, 0];
const fAdd = simd(0xe4);
const fSub = simd(0xe5);
const fMul = simd(0xe6);
const fDiv = simd(0xe7);
const fMin = simd(0xe8);
const fMax = simd(0xe9);
const fNearest = simd(0x6a);
const iTruncSat = simd(0xf8); // i32x4.trunc_sat_f32x4_s
const iAdd = simd(0xae);
const iShl = simd(0xab);

// params: 0 ptr (bytes), 1 n (bytes, a multiple of 16); locals: 2 i (i32), 3 y, 4 k, 5 r (v128)
const [PTR, N, I, Y, K, R] = [0, 1, 2, 3, 4, 5];

/** exp(scale·x) of the v128 on the stack, left on the stack. */
function expOf(scale: number): Code {
  return flat(
    f32x4(scale),
    fMul,
    f32x4(88.3),
    fMin,
    f32x4(-87.3),
    fMax,
    set(Y),
    get(Y),
    f32x4(Math.LOG2E),
    fMul,
    fNearest,
    set(K),
    get(Y),
    get(K),
    f32x4(0.693359375),
    fMul,
    fSub,
    get(K),
    f32x4(-2.1219444e-4),
    fMul,
    fSub,
    set(R),
    f32x4(1.98756915e-4),
    get(R),
    fMul,
    f32x4(1.3981999507e-3),
    fAdd,
    get(R),
    fMul,
    f32x4(8.3334519073e-3),
    fAdd,
    get(R),
    fMul,
    f32x4(4.1665795894e-2),
    fAdd,
    get(R),
    fMul,
    f32x4(1.6666665459e-1),
    fAdd,
    get(R),
    fMul,
    f32x4(5.0000001201e-1),
    fAdd,
    get(R),
    fMul,
    get(R),
    fMul,
    get(R),
    fAdd,
    f32x4(1),
    fAdd,
    get(K),
    iTruncSat,
    i32x4(127),
    iAdd,
    i32(23),
    iShl,
    fMul,
  );
}

/** In place over [ptr, ptr + n): v ← a / (1 + exp(scale·v)) + b. */
function mapFn(name: string, a: number, scale: number, b: number) {
  const addr = flat(get(PTR), get(I), add);
  return {
    name,
    params: 2,
    locals: [
      [1, I32],
      [3, V128],
    ] as [number, number][],
    body: flat(
      i32(0),
      set(I),
      whileLoop(
        flat(get(I), get(N), ltS),
        addr,
        f32x4(a),
        addr,
        vLoad,
        expOf(scale),
        f32x4(1),
        fAdd,
        fDiv,
        f32x4(b),
        fAdd,
        vStore,
        get(I),
        i32(16),
        add,
        set(I),
      ),
    ),
  };
}

/** The module's exports: in-place σ and tanh over n bytes (a multiple of 16) at ptr. */
export interface SimdActivations {
  sigmoid: (ptr: number, n: number) => void;
  tanh: (ptr: number, n: number) => void;
}

const instances = new WeakMap<WebAssembly.Memory, SimdActivations>();

/** The activations module instantiated on `memory` (once per memory). */
export function simdActivations(memory: WebAssembly.Memory): SimdActivations {
  let s = instances.get(memory);
  if (s === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = encodeModule([mapFn('sigmoid', 1, -1, 0), mapFn('tanh', 2, -2, -1)], {
      shared,
      maxPages: SHARED_MAX_PAGES,
    });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    s = instance.exports as unknown as SimdActivations;
    instances.set(memory, s);
  }
  return s;
}
