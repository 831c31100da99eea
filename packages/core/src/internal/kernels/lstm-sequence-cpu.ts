import type * as tf from '@tensorflow/tfjs-core';

import type { KernelArgs, TensorInfo } from './kernel-utils.js';
import { LSTM_SEQUENCE, LSTM_SEQUENCE_GRAD, lstmDims, type MultiOutputKernel } from './lstm-sequence.js';
import {
  backwardCellJs,
  forwardCellJs,
  jsGemm,
  lstmBackward,
  lstmForward,
  transpose2d,
} from './lstm-sequence-math.js';

// The cpu backend's `MlLstmSequence` / `MlLstmSequenceGrad`: the step loops and JS cells of
// ./lstm-sequence-math with a JS product, the same arithmetic as the wasm kernels. Reads inputs with the
// backend's public `readSync` and writes outputs with `makeTensorInfo` (MathBackendCPU's own API).

interface CpuBackend {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
}

const read = (args: KernelArgs, name: string): Float32Array => {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`cpu kernel: missing input '${name}'`);
  return (args.backend as CpuBackend).readSync(t.dataId) as Float32Array;
};

function lstmSequenceCpu(args: KernelArgs): TensorInfo[] {
  const be = args.backend as CpuBackend;
  const d = lstmDims((args.inputs['xp'] as TensorInfo).shape);
  const { T, B, H } = d;
  const G = 4 * H;
  const whhT = new Float32Array(G * H);
  transpose2d(read(args, 'whh'), whhT, G, H);
  const h0 = read(args, 'h0');
  const buf = {
    xp: read(args, 'xp'),
    c0: read(args, 'c0'),
    states: new Float32Array(2 * T * B * H),
    gates: new Float32Array(T * B * G),
    tanhC: new Float32Array(T * B * H),
  };
  const z = new Float32Array(B * G);
  lstmForward(
    T,
    (t) => jsGemm(t === 0 ? h0 : buf.states, t === 0 ? 0 : (t - 1) * B * H, whhT, z, 0, B, G, H),
    (t) => forwardCellJs(d, buf, t, z, G),
  );
  return [
    be.makeTensorInfo([2, T, B, H], 'float32', buf.states),
    be.makeTensorInfo([T, B, G], 'float32', buf.gates),
    be.makeTensorInfo([T, B, H], 'float32', buf.tanhC),
  ];
}

function lstmSequenceGradCpu(args: KernelArgs): TensorInfo[] {
  const be = args.backend as CpuBackend;
  const d = lstmDims((args.inputs['gates'] as TensorInfo).shape);
  const { T, B, H } = d;
  const G = 4 * H;
  const whh = read(args, 'whh');
  const buf = {
    dy: read(args, 'dy'),
    c0: read(args, 'c0'),
    states: read(args, 'states'),
    gates: read(args, 'gates'),
    tanhC: read(args, 'tanhC'),
    dxp: new Float32Array(T * B * G),
    dc: new Float32Array(B * H),
  };
  const dh = new Float32Array(B * H); // the gradient reaching h_t through step t + 1; dh0 at the end
  lstmBackward(
    T,
    (t) => backwardCellJs(d, buf, t, dh, H),
    (t) => jsGemm(buf.dxp, t * B * G, whh, dh, 0, B, H, G),
  );
  return [
    be.makeTensorInfo([T, B, G], 'float32', buf.dxp),
    be.makeTensorInfo([B, H], 'float32', dh),
    be.makeTensorInfo([B, H], 'float32', buf.dc),
  ];
}

/** @ml's cpu `MlLstmSequence` and `MlLstmSequenceGrad` kernels. */
export const lstmSequenceCpuConfigs: readonly MultiOutputKernel[] = [
  { kernelName: LSTM_SEQUENCE, kernelFunc: lstmSequenceCpu },
  { kernelName: LSTM_SEQUENCE_GRAD, kernelFunc: lstmSequenceGradCpu },
];
