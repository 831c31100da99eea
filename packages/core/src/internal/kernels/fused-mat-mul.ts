import { gemmMatMul } from './batch-mat-mul.js';
import {
  input,
  run,
  runStock,
  scoped,
  size,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// _FusedMatMul (tf.fused.matMul: A·B + bias, then an activation) on @ml's GEMM: a bias of one row is
// the accumulator's starting value (no separate Add), the activation runs as the registered kernel. The
// stock kernel runs on XNNPACK, which re-packs B for every new tensor and multiplies without FMA.

/** tfjs' fused activations and the kernels that compute them. */
const ACTIVATIONS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

function fusedMatMul(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const a = input(args, 'a');
  const b = input(args, 'b');
  const bias = args.inputs.bias;
  const prelu = args.inputs.preluActivationWeights;
  const attrs = args.attrs as unknown as {
    transposeA: boolean;
    transposeB: boolean;
    activation: string;
    leakyreluAlpha?: number;
  };
  const kernel = ACTIVATIONS[attrs.activation];
  if (
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    (bias !== undefined && bias.dtype !== 'float32') ||
    (attrs.activation !== 'linear' && kernel === undefined)
  )
    return runStock('_FusedMatMul', args);
  const n = attrs.transposeB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
  // A bias of n values along the last axis starts the accumulators; any other broadcast is added after.
  const rowBias = bias !== undefined && size(bias.shape) === n && bias.shape[bias.shape.length - 1] === n;
  return scoped(be, (keep) => {
    let y = keep(gemmMatMul(be, a, b, attrs.transposeA, attrs.transposeB, rowBias ? bias : undefined));
    if (bias !== undefined && !rowBias) y = keep(run(be, 'Add', { a: y, b: bias }));
    if (kernel === undefined) return y;
    if (kernel === 'Prelu') {
      if (prelu === undefined)
        throw new Error("wasm _FusedMatMul: activation 'prelu' needs preluActivationWeights");
      return keep(run(be, kernel, { x: y, alpha: prelu }));
    }
    return keep(
      run(be, kernel, { x: y }, kernel === 'LeakyRelu' ? { alpha: attrs.leakyreluAlpha ?? 0.2 } : {}),
    );
  });
}

/** @ml's wasm `_FusedMatMul` kernel. */
export const fusedMatMulConfig: WasmKernel = { kernelName: '_FusedMatMul', kernelFunc: fusedMatMul };
