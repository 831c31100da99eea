import * as tf from '@tensorflow/tfjs-core';

import { batchMatMulConfig } from './kernels/batch-mat-mul.js';
import { binaryConfigs } from './kernels/binary.js';
import { conv2DConfig } from './kernels/conv2d.js';
import { conv2DBackpropFilterConfig } from './kernels/conv2d-backprop-filter.js';
import { conv2DBackpropInputConfig } from './kernels/conv2d-backprop-input.js';
import { depthwiseBackpropFilterConfig } from './kernels/depthwise-conv2d-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './kernels/depthwise-conv2d-backprop-input.js';
import { einsumConfig } from './kernels/einsum.js';
import { fusedMatMulConfig } from './kernels/fused-mat-mul.js';
import { castConfig, identityConfig } from './kernels/identity.js';
import { setStockKernel, type WasmKernel } from './kernels/kernel-utils.js';
import { maxPoolGradConfig } from './kernels/max-pool-grad.js';
import { sliceConfigs } from './kernels/slice.js';
import { sumConfigs } from './kernels/sum.js';
import { transposeConfig } from './kernels/transpose.js';
import { unaryConfigs } from './kernels/unary.js';
import { unsortedSegmentSumConfig } from './kernels/unsorted-segment-sum.js';
import { replaceKernel, restoreKernel } from './tfjs-seam.js';

// Kernels registered on tfjs-backend-wasm 4.22 so that training runs there with nothing falling back
// or failing: the backprops it lacks (Conv2DBackpropFilter, depthwise backprops, UnsortedSegmentSum for
// gather's gradient, Einsum), and faster or corrected versions of ones it has (BatchMatMul with transposes
// or a batch, _FusedMatMul (bias in the GEMM), Conv2DBackpropInput, Transpose, Sum, Mean, Identity, Cast to the same dtype, MaxPoolGrad, Conv2D (on @ml's GEMM), Slice/Unpack/SplitV, Add/Sub/Multiply and Relu/Step split across threads).
// One kernel per file in ./kernels; every access to the backend's private state goes through ../tfjs-seam.

const KERNELS: readonly WasmKernel[] = [
  batchMatMulConfig,
  fusedMatMulConfig,
  transposeConfig,
  conv2DConfig,
  identityConfig,
  castConfig,
  ...sumConfigs,
  maxPoolGradConfig,
  conv2DBackpropInputConfig,
  conv2DBackpropFilterConfig,
  depthwiseBackpropInputConfig,
  depthwiseBackpropFilterConfig,
  unsortedSegmentSumConfig,
  einsumConfig,
  ...sliceConfigs,
  ...binaryConfigs,
  ...unaryConfigs,
];

const replaced = new Map<string, tf.KernelConfig | undefined>();

/** Registers @ml's wasm kernels (once; call after @tensorflow/tfjs-backend-wasm is loaded). */
export function installWasmKernels(): void {
  if (replaced.size > 0) return;
  if (tf.getKernel('BatchMatMul', 'wasm') === undefined)
    throw new Error('installWasmKernels: @tensorflow/tfjs-backend-wasm must be loaded first');
  for (const { kernelName, kernelFunc } of KERNELS) {
    const original = tf.getKernel(kernelName, 'wasm');
    setStockKernel(kernelName, original);
    const config: tf.KernelConfig = {
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc,
    };
    // The stock kernel's setup (binding its C entry point) must still run when a wasm backend starts.
    if (original?.setupFunc !== undefined) config.setupFunc = original.setupFunc;
    replaced.set(kernelName, replaceKernel(config));
  }
}

/** Restores tfjs' stock wasm kernels (for benchmarks that compare against plain tfjs). */
export function uninstallWasmKernels(): void {
  for (const [name, original] of replaced) {
    restoreKernel(name, 'wasm', original);
    setStockKernel(name, undefined);
  }
  replaced.clear();
}

/** Whether {@link installWasmKernels} is in effect. */
export function wasmKernelsInstalled(): boolean {
  return replaced.size > 0;
}

/** Names of the kernels @ml registers on wasm. */
export const WASM_KERNEL_NAMES: readonly string[] = KERNELS.map((k) => k.kernelName);
