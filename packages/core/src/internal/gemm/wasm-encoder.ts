// A small WebAssembly binary encoder: LEB128 numbers, sections, and the instructions @ml's GEMM emits
// (i32 arithmetic, structured loops, f32 and SIMD128 loads/stores/arithmetic, relaxed-SIMD FMA). Code
// is a plain byte array; functions are concatenated into one module with an imported memory.

/** Bytecode: a flat list of bytes. */
export type Code = number[];

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export const flat = (...parts: Code[]): Code => parts.flat();
export const get = (i: number): Code => [0x20, ...uleb(i)];
export const set = (i: number): Code => [0x21, ...uleb(i)];
export const tee = (i: number): Code => [0x22, ...uleb(i)];
export const i32 = (n: number): Code => [0x41, ...sleb(n)];
export const add: Code = [0x6a];
export const sub: Code = [0x6b];
export const mul: Code = [0x6c];
export const ltS: Code = [0x48];
export const gtS: Code = [0x4a];
export const leS: Code = [0x4c];
export const geS: Code = [0x4e];
export const eq: Code = [0x46];
export const eqz: Code = [0x45];
export const f32Load = (offset = 0): Code => [0x2a, 2, ...uleb(offset)];
export const i32Load = (offset = 0): Code => [0x28, 2, ...uleb(offset)];
export const f32Store = (offset = 0): Code => [0x38, 2, ...uleb(offset)];
export const f32Zero: Code = [0x43, 0, 0, 0, 0];
/** An f32 constant. */
export const fConst = (v: number): Code => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
export const fAdd: Code = [0x92]; // f32.add
export const fSub: Code = [0x93]; // f32.sub
export const fMul: Code = [0x94]; // f32.mul
export const fDiv: Code = [0x95]; // f32.div
export const fSqrt: Code = [0x91]; // f32.sqrt
export const fGt: Code = [0x5e]; // f32.gt
export const iAnd: Code = [0x71]; // i32.and
/** select: (a, b, cond) → cond ? a : b. */
export const select: Code = [0x1b];
/** A SIMD instruction (prefix 0xfd, LEB128 opcode). */
export const simd = (op: number): Code => [0xfd, ...uleb(op)];
export const vLoad = (offset = 0): Code => [...simd(0x00), 4, ...uleb(offset)];
export const vStore = (offset = 0): Code => [...simd(0x0b), 4, ...uleb(offset)];
/** v128.load32_splat: four copies of the f32 at the address. */
export const vLoadSplat = (offset = 0): Code => [...simd(0x09), 2, ...uleb(offset)];
/** i8x16.shuffle picking the f32 lanes `lanes` (0–3: the first operand's, 4–7: the second's). */
export const vShuffle32 = (lanes: [number, number, number, number]): Code => [
  ...simd(0x0d),
  ...lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]),
];
export const vZero: Code = [...simd(0x0c), ...new Array<number>(16).fill(0)];
export const vAdd = simd(0xe4); // f32x4.add
export const vMul = simd(0xe6); // f32x4.mul
/** f32x4.relaxed_madd (a·b + c; fused or not, as the engine chooses): opcode 0xfd 0x105. */
export const vMadd = simd(0x105);
export const vSub = simd(0xe5); // f32x4.sub
export const vDiv = simd(0xe7); // f32x4.div
export const vMin = simd(0xe8); // f32x4.min
export const vMax = simd(0xe9); // f32x4.max
/** f32x4.pmin(a, b) = b < a ? b : a: one x86 instruction (f32x4.min's NaN and ±0 rules take several); a NaN a is kept. */
export const vPmin = simd(0xea);
/** f32x4.pmax(a, b) = a < b ? b : a: one x86 instruction; a NaN a is kept. */
export const vPmax = simd(0xeb);
export const vAbs = simd(0xe0); // f32x4.abs
export const vSqrt = simd(0xe3); // f32x4.sqrt
export const vNearest = simd(0x6a); // f32x4.nearest
export const vSplat = simd(0x13); // f32x4.splat
export const vGt = simd(0x44); // f32x4.gt
export const vNe = simd(0x42); // f32x4.ne
export const vAnd = simd(0x4e); // v128.and
export const vOr = simd(0x50); // v128.or
/** v128.bitselect(a, b, mask): a's bits where mask's are set, else b's. */
export const vBitselect = simd(0x52);
/** f32x4.extract_lane `l`. */
export const vLane = (l: number): Code => [...simd(0x1f), l];
export const vI32Splat = simd(0x11); // i32x4.splat
export const vI32Eq = simd(0x37); // i32x4.eq
export const vI32Add = simd(0xae); // i32x4.add
export const vI32Shl = simd(0xab); // i32x4.shl
export const vI32TruncSat = simd(0xf8); // i32x4.trunc_sat_f32x4_s
export const vF64PromoteLow = simd(0x5f); // f64x2.promote_low_f32x4
export const vF64Add = simd(0xf0); // f64x2.add
/** A v128 constant of four copies of the float `v`. */
export const f32x4 = (v: number): Code => [
  ...simd(0x0c),
  ...new Uint8Array(new Float32Array([v, v, v, v]).buffer),
];
/** A v128 constant of four copies of the int `v`. */
export const i32x4 = (v: number): Code => [
  ...simd(0x0c),
  ...new Uint8Array(new Int32Array([v, v, v, v]).buffer),
];

/** `if (cond) then else otherwise`: cond leaves an i32 on the stack. */
export const ifElse = (cond: Code, then: Code, otherwise: Code = []): Code => [
  ...cond,
  0x04,
  0x40,
  ...then,
  ...(otherwise.length > 0 ? [0x05, ...otherwise] : []),
  0x0b,
];

/** `while (cond) body`: cond leaves an i32 on the stack. */
export const whileLoop = (cond: Code, ...body: Code[]): Code => [
  0x02,
  0x40,
  0x03,
  0x40,
  ...cond,
  ...eqz,
  0x0d,
  1,
  ...body.flat(),
  0x0c,
  0,
  0x0b,
  0x0b,
];

/** `do body while (cond)`: runs body at least once. */
export const doWhile = (cond: Code, ...body: Code[]): Code => [
  0x03,
  0x40,
  ...body.flat(),
  ...cond,
  0x0d,
  0,
  0x0b,
];

/** local += by */
export const inc = (local: number, by: Code): Code => flat(get(local), by, add, set(local));

/** One function of a module: all parameters are i32, no results. */
export interface FnDef {
  name: string;
  params: number;
  locals: [count: number, type: number][];
  body: Code;
}

const utf8 = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];

/**
 * A module of `fns` (exported by name) that imports `env.memory`. A shared import must declare a
 * maximum, and links only to memories whose own maximum is at most that: it declares 4 GiB (every
 * wasm32 memory, tfjs' shared heap and its threaded build's included).
 */
export function encodeModule(fns: FnDef[], memory: { shared: boolean }): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => [0x60, ...uleb(f.params), ...new Array<number>(f.params).fill(I32), 0]);
  const limits = memory.shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(2, vec([[...utf8('env'), ...utf8('memory'), 0x02, ...limits]])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(fns.map((f, i) => [...utf8(f.name), 0x00, ...uleb(i)]))),
    ...section(
      10,
      vec(
        fns.map((f) => {
          const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.body, 0x0b];
          return [...uleb(body.length), ...body];
        }),
      ),
    ),
  ];
  return new Uint8Array(bytes);
}
