import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test, vi } from 'vitest';

import { gelu } from './activations.js';
import { useBackend } from './backend.js';
import { BackendError } from './errors.js';
import { installGradientFixes, uninstallGradientFixes } from './internal/gradient-fixes.js';
import {
  WASM_KERNEL_NAMES,
  installWasmKernels,
  uninstallWasmKernels,
  wasmKernelsInstalled,
} from './internal/wasm-kernels.js';
import { overrideGemmPathForTest } from './internal/gemm/probe.js';
import { setPatchChunkFloatsForTest } from './internal/kernels/conv-gemm.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';
import { expectTensorsClose } from './testing/index.js';

// Every kernel and gradient the @ml suite trains with, run on wasm (with @ml's kernels) and on cpu,
// compared within 1e-4 relative to the reference's largest magnitude. Where tfjs has a stock gradient
// the cpu reference uses it; where it has none or a wrong one (StridedSlice, dilated Conv2D,
// broadcasting SquaredDifference) the reference is @ml's gradient on cpu plus an independent check.

/** Deterministic values in [-1, 1): the same on every backend. */
function values(shape: number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = (seed * 2654435761) % 2147483647 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    out[i] = (s / 2147483647) * 2 - 1;
  }
  return out;
}
const rand = (shape: number[], seed: number): tf.Tensor => tf.tensor(values(shape, seed), shape);

type Case = () => tf.Tensor[];

/** Runs `fn` on `backend` and returns every output's values. */
function runOn(backend: string, fn: Case): { shape: number[]; data: Float32Array }[] {
  void tf.setBackend(backend);
  return tf.tidy(() => fn().map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) })));
}

/**
 * Asserts wasm ≈ cpu for every output of `fn`. `stockReference`: compute the cpu side with tfjs' own
 * gradients (false where tfjs has none or a wrong one).
 */
function expectSameOnBoth(fn: Case, stockReference = true, cpuFn: Case = fn): void {
  if (stockReference) uninstallGradientFixes();
  let cpu;
  try {
    cpu = runOn('cpu', cpuFn);
  } finally {
    installGradientFixes();
  }
  const wasm = runOn('wasm', fn);
  expect(wasm.length).toBe(cpu.length);
  cpu.forEach((c, i) => {
    const w = wasm[i]!;
    expect(w.shape, `output ${i} shape`).toEqual(c.shape);
    const scale = c.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expectTensorsClose(w.data, c.data, {
      atol: 1e-4 * Math.max(scale, 1e-6),
      rtol: 1e-4,
      label: `output ${i}`,
    });
  });
}

/** [value, ∂(Σ w·f)/∂x for each x]: a weighted sum makes every gradient entry distinct. */
function withGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[]): tf.Tensor[] {
  const y = f(...xs);
  const w = rand(y.shape, 99);
  const { value, grads } = tf.valueAndGrads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w)))(xs);
  return [y, value, ...grads];
}

beforeAll(async () => {
  await useBackend('cpu');
  await useBackend('wasm');
});

describe('useBackend', () => {
  test("'wasm' activates wasm and installs @ml's kernels", async () => {
    await expect(useBackend('wasm')).resolves.toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmKernelsInstalled()).toBe(true);
    for (const name of WASM_KERNEL_NAMES) expect(tf.getKernel(name, 'wasm'), name).toBeDefined();
  });

  test('an unknown name throws BackendError naming it', async () => {
    await expect(useBackend('nonsense' as 'cpu')).rejects.toThrow(BackendError);
    await expect(useBackend('nonsense' as 'cpu')).rejects.toThrow(
      "useBackend: name must be 'auto' or one of 'tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu', got 'nonsense'",
    );
  });

  test('installing and uninstalling kernels and gradients prints nothing', () => {
    const spies = [vi.spyOn(console, 'warn'), vi.spyOn(console, 'log'), vi.spyOn(console, 'error')];
    try {
      uninstallWasmKernels();
      uninstallGradientFixes();
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
      installGradientFixes();
      installWasmKernels();
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
  });
});

describe('matMul on wasm equals cpu', () => {
  const shapes: [string, number[], number[]][] = [
    ['2-D', [5, 7], [7, 4]],
    ['3-D', [3, 5, 7], [3, 7, 4]],
    ['4-D attention', [2, 3, 9, 8], [2, 3, 8, 9]],
    ['3-D × 2-D', [3, 5, 7], [7, 4]],
    ['2-D × 3-D', [5, 7], [3, 7, 4]],
    ['XNNPACK-sized', [2, 96, 120], [2, 120, 104]],
    ['odd columns', [1, 13, 11], [1, 11, 13]],
    // More than MC_BLOCKS row blocks: A packed and computed 128 rows at a time (and in its gradients).
    ['tall, A packed in runs', [2, 301, 9], [2, 9, 300]],
  ];
  for (const [label, as, bs] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      test(`${label} transposeA=${ta} transposeB=${tb}, value and gradients`, () => {
        const sa = ta ? [...as.slice(0, -2), as.at(-1)!, as.at(-2)!] : as;
        const sb = tb ? [...bs.slice(0, -2), bs.at(-1)!, bs.at(-2)!] : bs;
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, ta, tb);
        // tfjs' stock matMul gradient fails when a batch axis broadcasts; @ml's sums it back.
        const broadcasts = as.length !== bs.length || as.slice(0, -2).some((d, i) => d !== bs[i]);
        expectSameOnBoth(() => withGrads(f, [rand(sa, 1), rand(sb, 2)]), !broadcasts);
      });
    }
  }

  // tfjs-cpu gets both-sides batch broadcasting wrong ([2,1]×[3] gives 2 batches); compare with tiles.
  for (const [ta, tb] of [
    [false, false],
    [true, true],
  ] as const) {
    test(`both operands broadcasting batch axes (transposes ${ta}) equals the tiled product, with gradients`, () => {
      const [sa, sb] = [ta ? [2, 1, 7, 5] : [2, 1, 5, 7], tb ? [3, 4, 7] : [3, 7, 4]];
      const broadcast = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, ta, tb);
      const tiled = (a: tf.Tensor, b: tf.Tensor) =>
        tf.matMul(tf.tile(a, [1, 3, 1, 1]), tf.tile(tf.expandDims(b, 0), [2, 1, 1, 1]), ta, tb);
      expectSameOnBoth(
        () => withGrads(broadcast, [rand(sa, 1), rand(sb, 2)]),
        false,
        () => withGrads(tiled, [rand(sa, 1), rand(sb, 2)]),
      );
    });
  }
});

describe('fused matMul (bias, activation) on wasm equals cpu', () => {
  // [label, a, b, transposeA, transposeB, bias shape or null, activation]
  const cases: [string, number[], number[], boolean, boolean, number[] | null, tf.fused.Activation][] = [
    ['row bias (Linear)', [13, 7], [9, 7], false, true, [9], 'linear'],
    ['row bias, whole tiles', [12, 7], [16, 7], false, true, [16], 'linear'],
    ['row bias, k in two blocks', [10, 300], [12, 300], false, true, [12], 'linear'],
    ['row bias, batched, transposed A', [2, 7, 5], [2, 7, 6], true, false, [1, 6], 'linear'],
    ['column bias (added after)', [5, 7], [7, 4], false, false, [5, 1], 'linear'],
    ['no bias, relu', [5, 7], [7, 4], false, false, null, 'relu'],
    ['bias + relu6', [6, 7], [7, 8], false, false, [8], 'relu6'],
    ['bias + leakyrelu', [6, 7], [7, 8], false, false, [8], 'leakyrelu'],
    ['bias + sigmoid', [6, 7], [7, 8], false, false, [8], 'sigmoid'],
    ['bias + elu', [6, 7], [7, 8], false, false, [8], 'elu'],
  ];
  for (const [label, as, bs, ta, tb, biasShape, activation] of cases) {
    test(`${label}: value (and gradients when linear)`, () => {
      const f = (a: tf.Tensor, b: tf.Tensor, ...rest: tf.Tensor[]) =>
        tf.fused.matMul({
          a,
          b,
          transposeA: ta,
          transposeB: tb,
          bias: rest[0],
          activation,
          leakyreluAlpha: 0.1,
        });
      const xs = [rand(as, 1), rand(bs, 2), ...(biasShape === null ? [] : [rand(biasShape, 3)])];
      // tfjs differentiates fused activations other than 'linear' through the unfused ops.
      expectSameOnBoth(() =>
        activation === 'linear' ? withGrads(f, xs) : [f(...(xs as [tf.Tensor, tf.Tensor]))],
      );
    });
  }

  test('prelu', () => {
    expectSameOnBoth(() => [
      tf.fused.matMul({
        a: rand([6, 7], 1),
        b: rand([7, 8], 2),
        bias: rand([8], 3),
        activation: 'prelu',
        preluActivationWeights: rand([8], 4),
      }),
    ]);
  });

  test('Linear runs as one _FusedMatMul on wasm, without an Add', async () => {
    await tf.setBackend('wasm');
    const layer = new Linear({ inFeatures: 7, outFeatures: 5, seed: 1 });
    const x = rand([3, 7], 1);
    const info = await tf.profile(() => layer.forward(x));
    expect(info.kernelNames).toContain('_FusedMatMul');
    expect(info.kernelNames).not.toContain('Add');
    expect(info.kernelNames).not.toContain('BatchMatMul');
    tf.dispose([x, info.result]);
    layer.dispose();
  });

  test("Linear's gradient is lazy: asked for W and b only, it runs one product (dW), not dx too", async () => {
    await tf.setBackend('wasm');
    const layer = new Linear({ inFeatures: 7, outFeatures: 5, seed: 1 });
    const x = rand([3, 7], 1);
    const weights = [layer.weight, layer.bias!];
    const info = await tf.profile(() => tf.variableGrads(() => tf.sum(layer.forward(x)), weights).grads);
    expect(info.kernels.filter((k) => k.name === 'BatchMatMul')).toHaveLength(1);
    tf.dispose([x, info.result]);
    layer.dispose();
  });
});

describe('convolutions on wasm equal cpu', () => {
  const convs: [
    string,
    number[],
    number[],
    number | [number, number],
    tf.backend_util.ExplicitPadding | 'same' | 'valid',
  ][] = [
    ['stride 1 same', [2, 9, 8, 3], [3, 3, 3, 4], 1, 'same'],
    ['stride 2 same', [2, 9, 8, 3], [3, 3, 3, 4], 2, 'same'],
    ['stride 2 valid', [2, 9, 8, 3], [3, 3, 3, 4], 2, 'valid'],
    ['5×5 valid', [2, 9, 8, 3], [5, 5, 3, 4], 1, 'valid'],
    ['stride 3 > kernel 2, same', [1, 9, 8, 2], [2, 2, 2, 3], 3, 'same'],
    // Channel counts that are multiples of 4 take the GEMM's vector gathers (4×4 transposes of pixel
    // rows; whole f32x4 of channel rows in the filter gradient).
    ['8 channels, stride 2 same', [2, 9, 8, 8], [3, 3, 8, 4], 2, 'same'],
    ['8 → 16 channels, 5×5 same', [2, 7, 7, 8], [5, 5, 8, 16], 1, 'same'],
    // 512 output pixels: the gathered A is packed and computed 128 rows at a time.
    ['512 pixels, A packed in runs', [2, 16, 16, 8], [3, 3, 8, 8], 1, 'same'],
    [
      'stride [2, 1], explicit pads',
      [2, 7, 8, 3],
      [3, 2, 3, 4],
      [2, 1],
      [
        [0, 0],
        [1, 2],
        [2, 0],
        [0, 0],
      ],
    ],
  ];
  for (const [label, xs, fs, stride, pad] of convs) {
    test(`conv2d ${label}: value, input and filter gradients`, () => {
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
      expectSameOnBoth(() => withGrads(f, [rand(xs, 3), rand(fs, 4)]));
    });
  }

  test('on the plain SIMD128 path too (no FMA): convolution, filter and input gradients, fused matMul', () => {
    overrideGemmPathForTest('simd128');
    try {
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      expectSameOnBoth(() => withGrads(f, [rand([2, 7, 7, 8], 3), rand([5, 5, 8, 16], 4)]));
      expectSameOnBoth(() => [
        tf.fused.matMul({ a: rand([13, 7], 1), b: rand([9, 7], 2), transposeB: true, bias: rand([9], 3) }),
      ]);
    } finally {
      overrideGemmPathForTest(null);
    }
  });

  test('large convolutions run in chunks of pixels: the same numbers (forward and both gradients)', () => {
    // A budget of 256 floats of packed patches: 64-pixel chunks (the minimum) over 2·9·8 = 144 pixels.
    setPatchChunkFloatsForTest(256);
    try {
      const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      expectSameOnBoth(() => withGrads(f, [rand([2, 9, 8, 8], 3), rand([3, 3, 8, 4], 4)]));
    } finally {
      setPatchChunkFloatsForTest(null);
    }
  });

  test('an empty batch: conv2d gives [0, …] and a zero filter gradient', () => {
    expectSameOnBoth(() => {
      const x = tf.zeros<tf.Rank.R4>([0, 5, 5, 2]);
      const w = rand([3, 3, 2, 4], 4) as tf.Tensor4D;
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.conv2d(x, v as tf.Tensor4D, 1, 'same')))(w);
      return [tf.conv2d(x, w, 1, 'same'), g];
    });
  });

  test('dilated conv2d: gradients (tfjs has none) equal those of the explicitly spread filter', () => {
    const dilated = (x: tf.Tensor, w: tf.Tensor) =>
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2);
    expectSameOnBoth(() => withGrads(dilated, [rand([2, 9, 8, 3], 5), rand([3, 3, 3, 2], 6)]), false);
    // Independent check on wasm: a 3×3 filter dilated by 2 is a 5×5 filter with zeros between taps.
    void tf.setBackend('wasm');
    tf.tidy(() => {
      const x = rand([2, 9, 8, 3], 5);
      const w = rand([3, 3, 3, 2], 6);
      const wv = w.dataSync();
      const spread = new Float32Array(5 * 5 * 3 * 2);
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 3; j++)
          for (let c = 0; c < 6; c++) spread[(2 * i * 5 + 2 * j) * 6 + c] = wv[(i * 3 + j) * 6 + c]!;
      const gDilated = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(dilated(a, b))))([x, w]);
      const gSpread = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))),
      )([x, tf.tensor4d(spread, [5, 5, 3, 2])]);
      expectTensorsClose(gDilated[0]!, gSpread[0]!, { atol: 1e-4, rtol: 1e-4 });
      expectTensorsClose(
        gDilated[1]!,
        tf.stridedSlice(gSpread[1]!, [0, 0, 0, 0], [5, 5, 3, 2], [2, 2, 1, 1]),
        { atol: 1e-4, rtol: 1e-4 },
      );
    });
  });

  test('depthwise conv2d (multiplier 2, stride 2): value, input and filter gradients', () => {
    const f = (x: tf.Tensor, w: tf.Tensor) =>
      tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same');
    expectSameOnBoth(() => withGrads(f, [rand([2, 9, 8, 3], 7), rand([3, 3, 3, 2], 8)]));
  });

  test('max pooling (valid, and same on odd sizes): values and gradients', () => {
    expectSameOnBoth(() =>
      withGrads((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), [rand([2, 8, 8, 3], 9)]),
    );
    expectSameOnBoth(() =>
      withGrads((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'same'), [rand([2, 7, 7, 3], 9)]),
    );
    expectSameOnBoth(() =>
      withGrads((x) => tf.maxPool(x as tf.Tensor4D, 3, 2, 'same'), [rand([2, 8, 7, 3], 9)]),
    );
  });

  test('average pooling (valid and same): values and gradients', () => {
    expectSameOnBoth(() =>
      withGrads((x) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'), [rand([2, 8, 8, 3], 10)]),
    );
    expectSameOnBoth(() =>
      withGrads((x) => tf.avgPool(x as tf.Tensor4D, 3, 2, 'same'), [rand([2, 8, 7, 3], 10)]),
    );
  });

  test('batch norm ops: value and gradients of x, mean, variance, offset and scale', () => {
    const f = (x: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
      tf.batchNorm(x, m, tf.add(tf.square(v), 0.5), o, s, 1e-5);
    expectSameOnBoth(() =>
      withGrads(f, [rand([2, 4, 4, 3], 11), rand([3], 12), rand([3], 13), rand([3], 14), rand([3], 15)]),
    );
    expectSameOnBoth(() =>
      withGrads(
        (x) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
        },
        [rand([2, 4, 4, 3], 16)],
      ),
    );
  });
});

describe('other ops on wasm equal cpu', () => {
  test('relu and step of large tensors (SIMD, split across threads) equal the stock kernels, special values included', () => {
    void tf.setBackend('wasm');
    const specials = [-0, 0, NaN, -1, 1, -Infinity, Infinity, 1e-40, -1e-40, 3.5, -2.25];
    // The stock kernels' values, from a tensor too small for @ml's kernels.
    const small = tf.tensor1d(specials);
    const stock = {
      relu: Array.from(tf.relu(small).dataSync()),
      step: Array.from(tf.step(small).dataSync()),
      step05: Array.from(tf.step(small, 0.5).dataSync()),
    };
    expect(stock.relu.map((v) => Object.is(v, -0))).not.toContain(true); // relu(−0) is +0
    tf.dispose(small);
    for (const n of [4096 + 3, 100_003]) {
      // Specials repeated over n floats (a tail of 3; 400 kB splits across the threads).
      const x = tf.tensor1d(Array.from({ length: n }, (_, i) => specials[i % specials.length]!));
      const at = (t: tf.Tensor) => Array.from(t.dataSync());
      const same = (got: number[], want: number[]) =>
        expect(got.findIndex((v, i) => !Object.is(v, want[i % want.length]))).toBe(-1);
      tf.tidy(() => {
        same(at(tf.relu(x)), stock.relu);
        same(at(tf.step(x)), stock.step);
        same(at(tf.step(x, 0.5)), stock.step05);
      });
      x.dispose();
    }
  });

  test('relu and softmax gradients are one kernel each, equal to the stock gradients bit for bit on wasm and cpu', async () => {
    const specials = [-0, 0, NaN, -1, 1, -Infinity, Infinity, 1e-40, -1e-40, 3.5, -2.25, 7e37];
    const cases: [string, () => tf.Tensor[], string, string][] = [
      // relu: x and dy both run through the special values (a tail of 3 floats past the SIMD groups)
      ...[4096 + 3, 100_003].map((n): [string, () => tf.Tensor[], string, string] => [
        `relu ${n}`,
        () => {
          const x = tf.tensor1d(Array.from({ length: n }, (_, i) => specials[i % specials.length]!));
          const dy = tf.tensor1d(
            Array.from({ length: n }, (_, i) => specials[(i * 5 + 1) % specials.length]!),
          );
          return [tf.grad((v: tf.Tensor) => tf.relu(v))(x, dy)];
        },
        'MlReluGrad',
        'Step',
      ]),
      // softmax: 37 rows (groups of 4 rows, then single ones) of 64 floats; rows of 65 and of 7 (SIMD groups
      // and a tail); the large one splits across threads
      ...(
        [
          [37, 64],
          [32, 4, 65, 65],
          [5, 3, 7],
        ] as number[][]
      ).map((shape, s): [string, () => tf.Tensor[], string, string] => [
        `softmax [${shape.join(', ')}]`,
        () => {
          const logits = tf.mul(rand(shape, 40 + s), 6);
          const dy = tf.mul(rand(shape, 50 + s), 3);
          return [tf.grad((v: tf.Tensor) => tf.softmax(v))(logits, dy)];
        },
        'MlSoftmaxGrad',
        'Sum',
      ]),
    ];
    for (const backend of ['wasm', 'cpu']) {
      for (const [name, fn, fused, stockKernel] of cases) {
        void tf.setBackend(backend);
        uninstallGradientFixes();
        let stock: Float32Array;
        try {
          stock = tf.tidy(() => Float32Array.from(fn()[0]!.dataSync()));
        } finally {
          installGradientFixes();
        }
        const before = tf.memory().numTensors;
        let got = new Float32Array();
        const profile = await tf.profile(() => {
          got = tf.tidy(() => Float32Array.from(fn()[0]!.dataSync()));
        });
        expect(tf.memory().numTensors, `${backend} ${name}: leaked tensors`).toBe(before);
        expect(profile.kernelNames, `${backend} ${name}`).toContain(fused);
        expect(profile.kernelNames, `${backend} ${name}`).not.toContain(stockKernel);
        expect(got.length, `${backend} ${name}`).toBe(stock.length);
        const first = got.findIndex((v, i) => !Object.is(v, stock[i]));
        expect(first, `${backend} ${name}: first index differing from the stock gradient`).toBe(-1);
      }
    }
    void tf.setBackend('wasm');
  });

  test("sum's and mean's gradients fill their ones in the backend (Fill), equal to the stock gradients bit for bit on wasm and cpu", async () => {
    const specials = [-0, 0, NaN, -1, 1, -Infinity, Infinity, 1e-40, 3.5, -2.25, 7e37];
    // [reduction, x's shape, axes]: everything (a loss), leading axes, a middle and the last axis, none
    const cases: ['sum' | 'mean', number[], number[] | undefined][] = [
      ['mean', [8, 16, 33], undefined],
      ['sum', [8, 16, 33], undefined],
      ['mean', [6, 5, 7], [0, 2]],
      ['sum', [6, 5, 7], [1]],
      ['mean', [9, 12], [-1]],
      ['mean', [4, 3], []],
    ];
    const run = (op: 'sum' | 'mean', shape: number[], axes: number[] | undefined): Float32Array =>
      tf.tidy(() => {
        const x = rand(shape, 61);
        const outShape = tf.tidy(() => (op === 'sum' ? tf.sum(x, axes) : tf.mean(x, axes)).shape);
        const n = outShape.reduce((a, b) => a * b, 1);
        const dy = tf.tensor(
          Array.from({ length: n }, (_, i) => specials[(i * 3 + 1) % specials.length]!),
          outShape,
        );
        const f = (v: tf.Tensor) => (op === 'sum' ? tf.sum(v, axes) : tf.mean(v, axes));
        return Float32Array.from(tf.grad(f)(x, dy).dataSync());
      });
    for (const backend of ['wasm', 'cpu']) {
      for (const [op, shape, axes] of cases) {
        const name = `${backend} ${op} of [${shape.join(', ')}] over ${axes === undefined ? 'all' : `[${axes.join(', ')}]`}`;
        void tf.setBackend(backend);
        uninstallGradientFixes();
        let stock: Float32Array;
        let stockKernels: string[];
        try {
          let out: Float32Array = new Float32Array();
          stockKernels = (await tf.profile(() => void (out = run(op, shape, axes)))).kernelNames;
          stock = out;
        } finally {
          installGradientFixes();
        }
        const before = tf.memory().numTensors;
        let got: Float32Array = new Float32Array();
        const profile = await tf.profile(() => void (got = run(op, shape, axes)));
        expect(tf.memory().numTensors, `${name}: leaked tensors`).toBe(before);
        expect(stockKernels, name).not.toContain('Fill');
        expect(profile.kernelNames, name).toContain('Fill');
        expect(got.length, name).toBe(stock.length);
        const first = got.findIndex((v, i) => !Object.is(v, stock[i]));
        expect(first, `${name}: first index differing from the stock gradient`).toBe(-1);
      }
    }
    void tf.setBackend('wasm');
  });

  test('cast to the same dtype shares the buffer (no copy, no leak); other casts run the stock kernel', () => {
    void tf.setBackend('wasm');
    const x = rand([300, 40], 21);
    const before = tf.memory();
    const same = tf.cast(x, 'float32');
    const after = tf.memory();
    expect(after.numTensors - before.numTensors).toBe(1);
    expect(after.numDataBuffers - before.numDataBuffers).toBe(0); // one more tensor on the same data
    expect(Array.from(same.dataSync())).toEqual(Array.from(x.dataSync()));
    x.dispose();
    expect(same.dataSync()[7]).toBe(values([300, 40], 21)[7]); // the shared data outlives x
    same.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors - 1);
    const toInt = tf.tidy(() => Array.from(tf.cast(tf.tensor1d([1.7, -2.2, 3.5]), 'int32').dataSync()));
    expect(toInt).toEqual([1, -2, 3]);
    const toFloat = tf.tidy(() => Array.from(tf.cast(tf.tensor1d([1, 0, 1], 'bool'), 'float32').dataSync()));
    expect(toFloat).toEqual([1, 0, 1]);
  });

  test('add, sub, multiply (one shape, a single value either side, a row either side, rank-expanding; other broadcasts and int32 stock) equal cpu bit for bit', () => {
    const pairs: [string, () => [tf.Tensor, tf.Tensor]][] = [
      ['same shape, a tail of 2', () => [rand([70, 99], 1), rand([70, 99], 2)]],
      ['same shape, split across threads', () => [rand([300, 300], 3), rand([300, 300], 4)]],
      ['a single value on the right', () => [rand([70, 99], 5), tf.scalar(0.37)]],
      ['a single value on the left, rank-expanding', () => [rand([1, 1, 1], 6), rand([300, 300], 7)]],
      ['a row of 99 (stock: not whole SIMD groups)', () => [rand([70, 99], 8), rand([99], 9)]],
      ['a row on the right', () => [rand([70, 96], 10), rand([96], 11)]],
      [
        'a row [1, 2, 12] on the left, split across threads',
        () => [rand([1, 2, 12], 12), rand([3000, 2, 12], 13)],
      ],
      ['a column (stock)', () => [rand([300, 40], 14), rand([300, 1], 15)]],
      ['int32 (stock)', () => [tf.range(0, 6000, 1, 'int32'), tf.range(6000, 0, -1, 'int32')]],
    ];
    for (const [label, make] of pairs)
      for (const op of [tf.add, tf.sub, tf.mul]) {
        const outs = ['cpu', 'wasm'].map((backend) => {
          void tf.setBackend(backend);
          return tf.tidy(() => {
            const y = op(...make());
            return { shape: y.shape, data: Array.from(y.dataSync()) };
          });
        });
        expect(outs[1]!.shape, label).toEqual(outs[0]!.shape);
        const differ = outs[1]!.data.findIndex((v, i) => !Object.is(v, outs[0]!.data[i]));
        expect(differ, `${label}: first differing element`).toBe(-1);
      }
  });

  test('gather (embedding lookup, repeated ids) and its gradient (UnsortedSegmentSum)', () => {
    expectSameOnBoth(() =>
      withGrads(
        (e) =>
          tf.gather(
            e,
            tf.tensor2d(
              [
                [1, 3, 1],
                [0, 4, 3],
              ],
              [2, 3],
              'int32',
            ),
          ),
        [rand([6, 5], 17)],
      ),
    );
    expectSameOnBoth(() =>
      withGrads((e) => tf.gather(e, tf.tensor1d([2, 0, 2], 'int32'), 1), [rand([3, 4, 2], 18)]),
    );
    expectSameOnBoth(() => [
      tf.unsortedSegmentSum(rand([5, 3], 19), tf.tensor1d([0, 2, 0, 3, 2], 'int32'), 4),
    ]);
  });

  test('moments, layer norm, softmax, logSoftmax: values and gradients', () => {
    expectSameOnBoth(() =>
      withGrads(
        (x) => {
          const { mean, variance } = tf.moments(x, -1, true);
          return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
        },
        [rand([3, 4, 16], 20)],
      ),
    );
    expectSameOnBoth(() => {
      const ln = new LayerNorm({ normalizedShape: 16 });
      try {
        return withGrads((x) => ln.forward(x), [rand([3, 4, 16], 21)]);
      } finally {
        ln.dispose();
      }
    });
    expectSameOnBoth(() => withGrads((x) => tf.softmax(x), [rand([2, 3, 7, 7], 22)]));
    expectSameOnBoth(() => withGrads((x) => tf.logSoftmax(x), [rand([6, 10], 23)]));
  });

  test('erf, gelu (exact and tanh), leakyRelu, relu, sigmoid, tanh: values and gradients', () => {
    const x = () => [tf.mul(rand([4, 33], 24), 3)];
    expectSameOnBoth(() => withGrads((v) => tf.erf(v), x()));
    expectSameOnBoth(() => withGrads((v) => gelu(v), x()));
    expectSameOnBoth(() => withGrads((v) => gelu(v, 'tanh'), x()));
    expectSameOnBoth(() => withGrads((v) => tf.leakyRelu(v, 0.1), x()));
    expectSameOnBoth(() => withGrads((v) => tf.add(tf.add(tf.relu(v), tf.sigmoid(v)), tf.tanh(v)), x()));
  });

  test('squaredDifference with broadcasting: gradients reduce to each input shape', () => {
    expectSameOnBoth(
      () => withGrads((a, b) => tf.squaredDifference(a, b), [rand([4, 5], 25), rand([5], 26)]),
      false,
    );
    void tf.setBackend('wasm');
    tf.tidy(() => {
      const a = rand([4, 5], 25);
      const b = rand([5], 26);
      const [, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.squaredDifference(p, q)))([a, b]);
      expectTensorsClose(gb!, tf.sum(tf.mul(-2, tf.sub(a, b)), 0), 1e-5);
    });
  });

  test('stridedSlice gradient (tfjs has none) scatters dy to the sliced positions', () => {
    const cases: [number[], number[], number[], number[], number, number, number][] = [
      // begin, end, strides, xShape, beginMask, endMask, shrinkAxisMask
      [[0, 1], [5, 6], [2, 2], [5, 6], 0, 0, 0],
      [[4, 0], [0, 6], [-1, 3], [5, 6], 0, 0, 0],
      [[1, 0], [0, 4], [1, 1], [5, 6], 0, 1, 0],
      [[1, 0, 3], [4, 3, 0], [2, 2, -2], [4, 3, 4], 0, 0, 0],
      [[-1, -2], [0, 0], [-2, -1], [5, 6], 2, 3, 0],
    ];
    for (const [begin, end, strides, shape, bm, em, sm] of cases) {
      const f = (x: tf.Tensor) => tf.stridedSlice(x, begin, end, strides, bm, em, 0, 0, sm);
      expectSameOnBoth(() => withGrads(f, [rand(shape, 27)]), false);
      // Independent check: slicing the element indices says where each dy entry must land.
      void tf.setBackend('wasm');
      tf.tidy(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const taken = f(tf.reshape(tf.range(0, n, 1, 'float32'), shape)).dataSync();
        const w = rand([taken.length], 28).dataSync();
        const expected = new Float32Array(n);
        taken.forEach((pos, i) => (expected[pos] = expected[pos]! + w[i]!));
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.reshape(f(x), [-1]), tf.tensor1d(w))))(
          rand(shape, 27),
        );
        expectTensorsClose(tf.reshape(g, [-1]), expected, 1e-6);
      });
    }
  });

  test('concat, slice, split, unstack, transpose, sum, mean, einsum: values and gradients (float32, int32, bool)', () => {
    expectSameOnBoth(() =>
      withGrads((a, b) => tf.concat([a, b, a], 1), [rand([3, 4], 29), rand([3, 2], 30)]),
    );
    expectSameOnBoth(() => withGrads((a) => tf.slice(a, [1, 0, 2], [2, 3, -1]), [rand([4, 3, 5], 31)]));
    expectSameOnBoth(() =>
      withGrads((a) => tf.concat(tf.split(a, [2, 3, 1], 2).reverse(), 2), [rand([2, 3, 6], 32)]),
    );
    expectSameOnBoth(() => withGrads((a) => tf.concat(tf.unstack(a, 1), 1), [rand([2, 3, 4], 36)]));
    expectSameOnBoth(() =>
      withGrads((a) => tf.slice(a, [0, 1, 0, 0], [2, 2, 3, 4]), [rand([2, 3, 3, 4], 37)]),
    );
    expectSameOnBoth(() => [
      tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]),
      tf.split(tf.tensor1d([true, false, true, true], 'bool'), 2)[1]!,
      tf.unstack(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'))[1]!,
    ]);
    for (const [shape, perm] of [
      [
        [70, 90],
        [1, 0],
      ],
      [
        [3, 70, 90],
        [0, 2, 1],
      ],
      [
        [30, 7, 90],
        [2, 0, 1],
      ],
      [
        [8, 64, 4, 32],
        [0, 2, 1, 3],
      ],
      [
        [8, 12, 1, 10, 8],
        [0, 3, 2, 1, 4],
      ],
      [
        [8, 12, 10, 7],
        [0, 2, 1, 3],
      ],
    ] as const) {
      expectSameOnBoth(() => withGrads((a) => tf.transpose(a, [...perm]), [rand([...shape], 33)]));
    }
    expectSameOnBoth(() => withGrads((a) => tf.sum(a, [0, 1]), [rand([40, 30, 16], 34)]));
    expectSameOnBoth(() => withGrads((a) => tf.mean(a, [0, 1, 2]), [rand([5, 12, 10, 16], 38)]));
    expectSameOnBoth(() => withGrads((a) => tf.mean(a, 0, true), [rand([300, 20], 39)]));
    expectSameOnBoth(() => withGrads((a) => tf.sum(a, 0, true), [rand([300, 20], 35)]));
    expectSameOnBoth(() => [
      tf.einsum('bij,bjk->bik', rand([2, 3, 4], 36), rand([2, 4, 5], 37)),
      tf.einsum('ij->ji', rand([3, 4], 38)),
      tf.einsum('ij,ij->i', rand([3, 4], 39), rand([3, 4], 40)),
    ]);
  });
});

describe('training on wasm', () => {
  /** Runs `steps` Adam steps of `loss` over `vars`, returning the losses; asserts the tensor count holds. */
  async function train(
    vars: tf.Variable[],
    loss: () => tf.Scalar,
    steps: number,
    lr: number,
  ): Promise<number[]> {
    const before = tf.memory().numTensors;
    const opt = tf.train.adam(lr);
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const l = opt.minimize(loss, true, vars)!;
      losses.push((await l.data())[0]!);
      l.dispose();
      // Adam's slots are created on the first step; from then on the count must not move.
      if (i === 0) expect(tf.memory().numTensors - before).toBe(2 * vars.length + 2);
    }
    expect(tf.memory().numTensors - before).toBe(2 * vars.length + 2);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    return losses;
  }

  test('a small CNN (conv → relu → max pool → dense) learns a synthetic task; no tensor leaks in 100 steps', async () => {
    await useBackend('wasm');
    // Class 1 images have a bright 3×3 patch top-left, class 0 bottom-right, on noise.
    const n = 16;
    const imgs = new Float32Array(n * 8 * 8);
    const noise = values([n * 64], 41);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % 2;
      labels.push(c);
      for (let p = 0; p < 64; p++) {
        const [r, col] = [Math.floor(p / 8), p % 8];
        const inPatch = c === 1 ? r < 3 && col < 3 : r >= 5 && col >= 5;
        imgs[i * 64 + p] = 0.3 * noise[i * 64 + p]! + (inPatch ? 1 : 0);
      }
    }
    const x = tf.tensor4d(imgs, [n, 8, 8, 1]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const w1 = tf.variable(tf.mul(rand([3, 3, 1, 4], 42), 0.5));
    const b1 = tf.variable(tf.zeros([4]));
    const w2 = tf.variable(tf.mul(rand([4 * 4 * 4, 2], 43), 0.2));
    const b2 = tf.variable(tf.zeros([2]));
    const loss = () =>
      tf.tidy(() => {
        const h = tf.maxPool(
          tf.relu<tf.Tensor4D>(tf.add(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'), b1)),
          2,
          2,
          'valid',
        ); // [N, 4, 4, 4]
        const logits = tf.add(tf.matMul(tf.reshape(h, [n, -1]), w2), b2);
        return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, logits);
      });
    const losses = await train([w1, b1, w2, b2], loss, 100, 0.02);
    expect(tf.getBackend()).toBe('wasm');
    expect(losses[49]!).toBeLessThan(0.5 * losses[0]!);
    tf.dispose([x, y, w1, b1, w2, b2]);
  });

  test('an embedding model (gather on a variable) learns a synthetic task; no tensor leaks in 100 steps', async () => {
    await useBackend('wasm');
    // Sequences of 4 ids from a vocabulary of 10; the class is whether the first id is even.
    const n = 24;
    const ids = Array.from({ length: n * 4 }, (_, i) => (i * 7 + Math.floor(i / 4) * 3) % 10);
    const labels = Array.from({ length: n }, (_, i) => (ids[i * 4]! % 2 === 0 ? 1 : 0));
    const idT = tf.tensor2d(ids, [n, 4], 'int32');
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 2);
    const emb = tf.variable(tf.mul(rand([10, 8], 44), 0.3));
    const w = tf.variable(tf.mul(rand([4 * 8, 2], 45), 0.3));
    const loss = () =>
      tf.tidy(() => {
        const e = tf.gather(emb, idT); // [N, 4, 8]
        const logits = tf.matMul(tf.reshape(e, [n, 32]), w);
        return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, logits);
      });
    const losses = await train([emb, w], loss, 100, 0.05);
    expect(tf.getBackend()).toBe('wasm');
    expect(losses[49]!).toBeLessThan(0.5 * losses[0]!);
    tf.dispose([idT, y, emb, w]);
  });
});
