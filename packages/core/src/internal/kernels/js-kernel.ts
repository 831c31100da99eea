import * as tf from '@tensorflow/tfjs-core';

import { wasmBackend, type KernelArgs, type TensorInfo } from './kernel-utils.js';

// Kernels written once in JS over Float32Arrays and registered on wasm and cpu: on wasm the arrays are
// views of the heap (no copies; outputs are allocated first, since allocating may grow the heap), on cpu
// they are the backend's own arrays. For fused operations whose cost on wasm was tfjs' per-op dispatch,
// not arithmetic (the Adam update, LayerNorm forward and backward).

/** A float32 kernel: named inputs (optional ones may be absent), outputs shaped from the inputs. */
export interface JsKernel<A> {
  name: string;
  inputs: readonly string[];
  /** Output shapes, from the inputs present (in `inputs` order, absent ones skipped) and the attrs. */
  outputShapes(inputs: TensorInfo[], attrs: A): number[][];
  /** Fills the outputs; inputs not given are null. */
  compute(inputs: (Float32Array | null)[], outputs: Float32Array[], attrs: A, shapes: number[][]): void;
  /**
   * An optional SIMD path on the wasm heap, on byte addresses (inputs not given are null): returns false
   * where it does not apply, and `compute` runs instead.
   */
  wasm?(heap: WasmHeap, inputs: (number | null)[], outputs: number[], attrs: A, shapes: number[][]): boolean;
}

/** What a kernel's wasm path gets: the module's memory, the heap as floats, and scratch space. */
export interface WasmHeap {
  memory: WebAssembly.Memory;
  /** The heap as floats (a getter: current even after `scratch` grew the heap). */
  readonly f32: Float32Array;
  /** A byte address of `floats` floats of scratch, freed when the kernel returns. */
  scratch(floats: number): number;
}

/** The backends {@link registerJsKernel} registers on. */
export const JS_KERNEL_BACKENDS: readonly string[] = ['wasm', 'cpu'];

interface CpuBackend {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
}

function present(args: KernelArgs, names: readonly string[]): (TensorInfo | null)[] {
  return names.map((n) => args.inputs[n] ?? null);
}

/** Registers `k` on wasm and cpu (idempotent: new kernel names, nothing of tfjs is replaced). */
export function registerJsKernel<A>(k: JsKernel<A>): void {
  const wasm = (args: KernelArgs): TensorInfo[] => {
    const be = wasmBackend(args.backend);
    const attrs = args.attrs as unknown as A;
    const ins = present(args, k.inputs);
    const shapes = k.outputShapes(
      ins.filter((t) => t !== null),
      attrs,
    );
    const outs = shapes.map((s) => be.makeOutput(s, 'float32'));
    const ptrs = ins.map((t) => (t === null ? null : be.ptr(t)));
    const scratch: number[] = [];
    const wasmHeap: WasmHeap = {
      memory: be.memory(),
      get f32() {
        return be.heapF32();
      },
      scratch: (floats) => {
        scratch.push(be.malloc(4 * floats));
        return scratch[scratch.length - 1]!;
      },
    };
    try {
      const outPtrs = outs.map((t) => be.ptr(t));
      if (k.wasm?.(wasmHeap, ptrs, outPtrs, attrs, shapes) === true) return outs;
    } finally {
      for (const p of scratch) be.free(p);
    }
    const heap = be.heapF32(); // after every allocation: the heap may have grown
    const view = (t: TensorInfo): Float32Array =>
      heap.subarray(be.ptr(t) >> 2, (be.ptr(t) >> 2) + tf.util.sizeFromShape(t.shape));
    k.compute(
      ins.map((t) => (t === null ? null : view(t))),
      outs.map(view),
      attrs,
      shapes,
    );
    return outs;
  };
  const cpu = (args: KernelArgs): TensorInfo[] => {
    const be = args.backend as CpuBackend;
    const attrs = args.attrs as unknown as A;
    const ins = present(args, k.inputs);
    const shapes = k.outputShapes(
      ins.filter((t) => t !== null),
      attrs,
    );
    const outs = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
    k.compute(
      ins.map((t) => (t === null ? null : (be.readSync(t.dataId) as Float32Array))),
      outs,
      attrs,
      shapes,
    );
    return outs.map((o, i) => be.makeTensorInfo(shapes[i]!, 'float32', o));
  };
  for (const [backendName, kernelFunc] of [
    ['wasm', wasm],
    ['cpu', cpu],
  ] as const) {
    if (tf.getKernel(k.name, backendName) === undefined)
      tf.registerKernel({ kernelName: k.name, backendName, kernelFunc });
  }
}

/** Runs a {@link registerJsKernel} kernel (registering it on first use); inputs that are null are left out. */
export function runJsKernel<A extends object>(
  k: JsKernel<A>,
  inputs: Record<string, tf.Tensor | null>,
  attrs: A,
): tf.Tensor[] {
  registerJsKernel(k);
  const given: tf.NamedTensorMap = {};
  for (const [n, t] of Object.entries(inputs)) if (t !== null) given[n] = t;
  return tf.engine().runKernel<tf.Tensor[]>(k.name, given, attrs as unknown as tf.NamedAttrMap);
}

let enabled = true;

/** Whether the fused JS kernels run on the active backend (wasm, cpu) rather than their op-level paths. */
export function jsKernelsActive(): boolean {
  return enabled && JS_KERNEL_BACKENDS.includes(tf.getBackend());
}

/** For tests: false sends every user of the fused JS kernels down its op-level path (true restores). */
export function enableJsKernelsForTest(on: boolean): void {
  enabled = on;
}
