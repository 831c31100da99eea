import * as tf from '@tensorflow/tfjs-core';

import {
  run,
  scoped,
  wasmBackend,
  type KernelArgs,
  type TensorInfo,
  type WasmKernel,
} from './kernel-utils.js';

// Einsum: the same contraction plan as tfjs-backend-cpu, on wasm kernels; tfjs-backend-wasm has none.
function einsum(args: KernelArgs): TensorInfo {
  const be = wasmBackend(args.backend);
  const { equation } = args.attrs as unknown as { equation: string };
  const tensors = args.inputs as unknown as TensorInfo[];
  const bu = tf.backend_util;
  const { allDims, summedDims, idDims } = bu.decodeEinsumEquation(equation, tensors.length);
  bu.checkEinsumDimSizes(allDims.length, idDims, tensors as unknown as tf.Tensor[]);
  const { path, steps } = bu.getEinsumComputePath(summedDims, idDims);
  return scoped(be, (keep) => {
    let out: TensorInfo | null = null;
    let remaining = allDims.length;
    for (let i = 0; i < steps.length; i++) {
      for (const term of steps[i]!) {
        const { permutationIndices: perm, expandDims } = bu.getEinsumPermutation(remaining, idDims[term]!);
        let x = tensors[term]!;
        if (!bu.isIdentityPermutation(perm)) x = keep(run(be, 'Transpose', { x }, { perm }));
        const target = x.shape.slice();
        for (const d of expandDims) target.splice(d, 0, 1);
        if (target.length !== x.shape.length) x = keep(run(be, 'Reshape', { x }, { shape: target }));
        out = out === null ? x : keep(run(be, 'Multiply', { a: x, b: out }));
      }
      if (i < steps.length - 1) {
        if (path[i]! >= 0)
          out = keep(
            run(be, 'Sum', { x: out! }, { axis: path[i]! - (allDims.length - remaining), keepDims: false }),
          );
        remaining--;
      }
    }
    // A lone input with an identity plan is returned as a fresh copy the engine can own.
    return out === tensors[0] ? run(be, 'Identity', { x: out }) : out!;
  });
}

/** @ml's wasm `Einsum` kernel. */
export const einsumConfig: WasmKernel = { kernelName: 'Einsum', kernelFunc: einsum };
