import type * as tf from '@tensorflow/tfjs-core';

import { input, runStock, type KernelArgs, type TensorInfo, type WasmKernel } from './kernel-utils.js';

// Identity: tfjs clones every tensor a gradient saves; on wasm the stock kernel copied the data. Cast to
// the tensor's own dtype (what tfjs' Identity gradient emits for every clone, e.g. a dropout of 0) is
// the same clone.
function identity(args: KernelArgs): TensorInfo {
  const x = input(args, 'x');
  // Tensors are immutable (no kernel writes into its inputs), so a clone can share the buffer, as
  // tfjs-backend-cpu's Identity does.
  (args.backend as tf.KernelBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

function cast(args: KernelArgs): TensorInfo {
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  return input(args, 'x').dtype === dtype ? identity(args) : runStock('Cast', args);
}

/** @ml's wasm `Identity` kernel. */
export const identityConfig: WasmKernel = { kernelName: 'Identity', kernelFunc: identity };

/** @ml's wasm `Cast` kernel: to the same dtype it shares the buffer, as `Identity`; others are stock. */
export const castConfig: WasmKernel = { kernelName: 'Cast', kernelFunc: cast };
