import type * as tf from '@tensorflow/tfjs-core';

import type { KernelArgs, TensorInfo } from './kernel-utils.js';
import { LSTM_SEQUENCE, LSTM_SEQUENCE_GRAD, lstmDims, type MultiOutputKernel } from './lstm-sequence.js';
import { jsActivations, jsGemm, lstmBackward, lstmForward, transpose2d } from './lstm-sequence-math.js';

// The cpu backend's `MlLstmSequence` / `MlLstmSequenceGrad`: the same arithmetic as the wasm kernels
// (./lstm-sequence-math) with a JS product, so both backends give the same numbers. Reads inputs with
// the backend's public `readSync` and writes outputs with `makeTensorInfo` (MathBackendCPU's own API).

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
  const xpShape = (args.inputs['xp'] as TensorInfo).shape;
  const d = lstmDims(xpShape);
  const { T, B, H } = d;
  const whhT = new Float32Array(4 * H * H);
  transpose2d(read(args, 'whh'), whhT, 4 * H, H);
  const states = new Float32Array(2 * T * B * H);
  const gates = new Float32Array(T * B * 4 * H);
  const tanhC = new Float32Array(T * B * H);
  lstmForward(
    d,
    {
      xp: read(args, 'xp'),
      whhT,
      h0: read(args, 'h0'),
      c0: read(args, 'c0'),
      states,
      gates,
      tanhC,
      z: new Float32Array(4 * B * H),
    },
    jsGemm,
    jsActivations,
  );
  return [
    be.makeTensorInfo([2, T, B, H], 'float32', states),
    be.makeTensorInfo([T, B, 4 * H], 'float32', gates),
    be.makeTensorInfo([T, B, H], 'float32', tanhC),
  ];
}

function lstmSequenceGradCpu(args: KernelArgs): TensorInfo[] {
  const be = args.backend as CpuBackend;
  const d = lstmDims((args.inputs['gates'] as TensorInfo).shape);
  const { T, B, H } = d;
  const dxp = new Float32Array(T * B * 4 * H);
  const dh0 = new Float32Array(B * H);
  const dc0 = new Float32Array(B * H);
  lstmBackward(
    d,
    {
      dy: read(args, 'dy'),
      whh: read(args, 'whh'),
      c0: read(args, 'c0'),
      states: read(args, 'states'),
      gates: read(args, 'gates'),
      tanhC: read(args, 'tanhC'),
      dxp,
      dh0,
      dc0,
    },
    jsGemm,
  );
  return [
    be.makeTensorInfo([T, B, 4 * H], 'float32', dxp),
    be.makeTensorInfo([B, H], 'float32', dh0),
    be.makeTensorInfo([B, H], 'float32', dc0),
  ];
}

/** @ml's cpu `MlLstmSequence` and `MlLstmSequenceGrad` kernels. */
export const lstmSequenceCpuConfigs: readonly MultiOutputKernel[] = [
  { kernelName: LSTM_SEQUENCE, kernelFunc: lstmSequenceCpu },
  { kernelName: LSTM_SEQUENCE_GRAD, kernelFunc: lstmSequenceGradCpu },
];
