import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { TEST_BACKENDS, expectParity, onBackend } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

import { fixture } from '../test/helpers.js';
import { GRUCell } from './gru-cell.js';
import { GRU } from './gru.js';
import { LSTMCell } from './lstm-cell.js';
import { LSTM } from './lstm.js';

// torch.nn.LSTM / torch.nn.GRU: 2 layers, bidirectional, batch-first, with an initial state; on a full
// batch and on a padded batch packed with per-sequence lengths [3, 5, 1].
const CASES = ['lstm_full', 'lstm_padded', 'gru_full', 'gru_padded'] as const;

function checkCase(name: string, f: Fixture): void {
  const isLstm = name.startsWith('lstm');
  const options = { inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 0 };
  const model = isLstm ? new LSTM(options) : new GRU(options);
  try {
    model.loadStateDict(f.group('state.'));
    const padded = name.endsWith('padded');
    const lengths = padded ? Array.from(f.get('lengths').dataSync()) : undefined;
    const x = tf.variable(f.get('in.x'));
    const h0 = tf.variable(f.get('in.h0'));
    const c0 = isLstm ? tf.variable(f.get('in.c0')) : null;
    const params = model.namedParameters();
    const kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const r =
        model instanceof LSTM
          ? model.forward(x, { h0, c0: c0 as tf.Tensor, lengths })
          : { ...model.forward(x, { h0, lengths }), c: null };
      kept.push(tf.keep(r.output), tf.keep(r.h));
      if (r.c !== null) kept.push(tf.keep(r.c));
      let loss = tf.add(tf.sum(tf.mul(r.output, f.get('dy'))), tf.sum(tf.mul(r.h, f.get('dh'))));
      if (r.c !== null) loss = tf.add(loss, tf.sum(tf.mul(r.c, f.get('dc'))));
      return loss as tf.Scalar;
    }, [x, h0, ...(c0 ? [c0] : []), ...params.map(([, v]) => v)]);
    try {
      expectParity(`${name} out`, kept[0] as tf.Tensor, f.get('out'));
      expectParity(`${name} h_n`, kept[1] as tf.Tensor, f.get('h_n'));
      if (c0) expectParity(`${name} c_n`, kept[2] as tf.Tensor, f.get('c_n'));
      expectParity(`${name} grad.in.x`, grads[x.name] as tf.Tensor, f.get('grad.in.x'));
      expectParity(`${name} grad.in.h0`, grads[h0.name] as tf.Tensor, f.get('grad.in.h0'));
      if (c0) expectParity(`${name} grad.in.c0`, grads[c0.name] as tf.Tensor, f.get('grad.in.c0'));
      for (const [p, v] of params)
        expectParity(`${name} grad.${p}`, grads[v.name] as tf.Tensor, f.get(`grad.${p}`));
    } finally {
      tf.dispose([value, ...Object.values(grads), ...kept, x, h0, ...(c0 ? [c0] : [])]);
    }
  } finally {
    model.dispose();
  }
}

// torch.nn.LSTMCell / GRUCell: one step from a given state.
function checkCell(name: 'lstm_cell' | 'gru_cell', f: Fixture): void {
  const options = { inputSize: 3, hiddenSize: 4, seed: 0 };
  const cell = name === 'lstm_cell' ? new LSTMCell(options) : new GRUCell(options);
  try {
    cell.loadStateDict(f.group('state.'));
    const inputs = ['x', 'h', ...(name === 'lstm_cell' ? ['c'] : [])].map((k) =>
      tf.variable(f.get(`in.${k}`)),
    );
    const [x, h, c] = inputs as [tf.Variable, tf.Variable, tf.Variable | undefined];
    const params = cell.namedParameters();
    const kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      if (cell instanceof LSTMCell) {
        const next = cell.forward(x, { h: h as tf.Tensor2D, c: c as tf.Tensor2D });
        kept.push(tf.keep(next.h), tf.keep(next.c));
        return tf.add<tf.Scalar>(tf.sum(tf.mul(next.h, f.get('dh'))), tf.sum(tf.mul(next.c, f.get('dc'))));
      }
      const next = cell.forward(x, h);
      kept.push(tf.keep(next));
      return tf.sum<tf.Scalar>(tf.mul(next, f.get('dh')));
    }, [...inputs, ...params.map(([, v]) => v)]);
    try {
      expectParity(`${name} h`, kept[0] as tf.Tensor, f.get('out.h'));
      if (c) expectParity(`${name} c`, kept[1] as tf.Tensor, f.get('out.c'));
      for (const [k, v] of [
        ['x', x],
        ['h', h],
        ['c', c],
      ] as const)
        if (v) expectParity(`${name} grad.in.${k}`, grads[v.name] as tf.Tensor, f.get(`grad.in.${k}`));
      for (const [p, v] of params)
        expectParity(`${name} grad.${p}`, grads[v.name] as tf.Tensor, f.get(`grad.${p}`));
    } finally {
      tf.dispose([value, ...Object.values(grads), ...kept, ...inputs]);
    }
  } finally {
    cell.dispose();
  }
}

for (const backend of TEST_BACKENDS) {
  describe(`PyTorch parity (${backend})`, () => {
    const fixtures: Record<string, Fixture> = {};
    beforeAll(async () => {
      await onBackend(backend);
      for (const name of [...CASES, 'lstm_cell', 'gru_cell']) fixtures[name] = await fixture(name);
    });
    afterAll(() => {
      for (const f of Object.values(fixtures)) f.dispose();
    });
    for (const name of CASES) {
      it(`${name}: outputs, final states and every gradient within 1e-5 of torch.nn.${name.startsWith('lstm') ? 'LSTM' : 'GRU'}`, () => {
        checkCase(name, fixtures[name] as Fixture);
      });
    }
    for (const name of ['lstm_cell', 'gru_cell'] as const) {
      it(`${name}: one step and every gradient within 1e-5 of torch.nn.${name === 'lstm_cell' ? 'LSTMCell' : 'GRUCell'}`, () => {
        checkCell(name, fixtures[name] as Fixture);
      });
    }
  });
}
