import type * as tf from '@tensorflow/tfjs-core';

import { input, type KernelArgs, type TensorInfo, type WasmKernel } from './kernel-utils.js';

// Identity: tfjs clones every tensor a gradient saves; on wasm the stock kernel copied the data.
function identity(args: KernelArgs): TensorInfo {
  const x = input(args, 'x');
  // Tensors are immutable (no kernel writes into its inputs), so a clone can share the buffer, as
  // tfjs-backend-cpu's Identity does.
  (args.backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

/** @ml's wasm `Identity` kernel. */
export const identityConfig: WasmKernel = { kernelName: 'Identity', kernelFunc: identity };
