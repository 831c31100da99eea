import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { CheckpointError, saveSafetensorsFile } from '@ml/core';
import { onBackend } from '@ml/core/testing';
import type { Fixture } from '@ml/core/testing';

import { absoluteError, fixture } from '../test/helpers.js';
import {
  huggingFaceToTimm,
  loadTimmCheckpoint,
  loadTimmWeights,
  timmName,
  timmStateDict,
} from './timm-weights.js';
import { VisionTransformer } from './vision-transformer.js';

const TINY = {
  imageSize: [8, 12],
  patchSize: 4,
  channels: 3,
  numClasses: 5,
  dim: 16,
  depth: 2,
  heads: 2,
  mlpRatio: 2,
} as const;

describe('timm weights', () => {
  let f: Fixture;
  beforeAll(async () => {
    await onBackend('cpu');
    f = await fixture('vit_cls');
  });
  afterAll(() => f.dispose());

  test('timm names map to and from the model', () => {
    expect(timmName('blocks.3.attn.in_proj_weight')).toBe('blocks.3.attn.qkv.weight');
    expect(timmName('blocks.3.attn.in_proj_bias')).toBe('blocks.3.attn.qkv.bias');
    expect(timmName('blocks.3.attn.out_proj.weight')).toBe('blocks.3.attn.proj.weight');
    expect(timmName('blocks.3.mlp.fc1.weight')).toBe('blocks.3.mlp.fc1.weight');
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    expect(Object.keys(timmStateDict(model)).sort()).toEqual(Object.keys(f.group('state.')).sort());
    model.dispose();
  });

  test('a checkpoint file loads in one call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vit-'));
    const path = join(dir, 'timm.safetensors');
    await saveSafetensorsFile(path, f.group('state.'));
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    model.eval();
    const before = tf.memory().numTensors;
    await loadTimmCheckpoint(model, path);
    expect(tf.memory().numTensors).toBe(before);
    const out = model.forward(f.get('in.x'));
    expect(absoluteError(out, f.get('out'))).toBeLessThanOrEqual(1e-4);
    out.dispose();
    model.dispose();
    await rm(dir, { recursive: true });
  });

  test('missing, unexpected and mis-shaped keys are listed in one CheckpointError; nothing is written', () => {
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    const state = { ...f.group('state.') };
    delete state['blocks.1.attn.qkv.weight'];
    const extra = tf.zeros([3]);
    const wrong = tf.zeros([1, 9, 16]);
    state['blocks.1.attn.q.weight'] = extra;
    state['pos_embed'] = wrong;
    const before = model.clsToken.dataSync().slice();
    expect(() => loadTimmWeights(model, state)).toThrow(CheckpointError);
    expect(() => loadTimmWeights(model, state)).toThrow(
      'loadTimmWeights: checkpoint does not fit the model (missing keys: blocks.1.attn.qkv.weight; unexpected keys: blocks.1.attn.q.weight; wrong shapes: pos_embed: expected [1, 7, 16], got [1, 9, 16])',
    );
    expect(Array.from(model.clsToken.dataSync())).toEqual(Array.from(before));
    tf.dispose([extra, wrong]);
    model.dispose();
  });

  test("Hugging Face names (q, k, v separate) map onto timm's and give the same logits", () => {
    const timm = f.group('state.');
    const hf: Record<string, tf.Tensor> = {};
    const split: tf.Tensor[] = [];
    for (const [k, v] of Object.entries(timm)) {
      const m = /^blocks\.(\d+)\.(.*)$/.exec(k);
      if (m === null) {
        const top: Record<string, string> = {
          cls_token: 'vit.embeddings.cls_token',
          pos_embed: 'vit.embeddings.position_embeddings',
          'patch_embed.proj.weight': 'vit.embeddings.patch_embeddings.projection.weight',
          'patch_embed.proj.bias': 'vit.embeddings.patch_embeddings.projection.bias',
          'norm.weight': 'vit.layernorm.weight',
          'norm.bias': 'vit.layernorm.bias',
          'head.weight': 'classifier.weight',
          'head.bias': 'classifier.bias',
        };
        hf[top[k] as string] = v;
        continue;
      }
      const [, i, rest] = m as unknown as [string, string, string];
      const layer = `vit.encoder.layer.${i}.`;
      const names: Record<string, string> = {
        'norm1.weight': 'layernorm_before.weight',
        'norm1.bias': 'layernorm_before.bias',
        'attn.proj.weight': 'attention.output.dense.weight',
        'attn.proj.bias': 'attention.output.dense.bias',
        'norm2.weight': 'layernorm_after.weight',
        'norm2.bias': 'layernorm_after.bias',
        'mlp.fc1.weight': 'intermediate.dense.weight',
        'mlp.fc1.bias': 'intermediate.dense.bias',
        'mlp.fc2.weight': 'output.dense.weight',
        'mlp.fc2.bias': 'output.dense.bias',
      };
      if (rest.startsWith('attn.qkv.')) {
        const kind = rest.slice('attn.qkv.'.length);
        const [q, kk, vv] = tf.split(v, 3, 0);
        split.push(q as tf.Tensor, kk as tf.Tensor, vv as tf.Tensor);
        hf[`${layer}attention.attention.query.${kind}`] = q as tf.Tensor;
        hf[`${layer}attention.attention.key.${kind}`] = kk as tf.Tensor;
        hf[`${layer}attention.attention.value.${kind}`] = vv as tf.Tensor;
      } else {
        hf[layer + (names[rest] as string)] = v;
      }
    }
    const { state, created } = huggingFaceToTimm(hf);
    expect(Object.keys(state).sort()).toEqual(Object.keys(timm).sort());
    const model = new VisionTransformer({ ...TINY, seed: 0 });
    loadTimmWeights(model, state);
    model.eval();
    const out = model.forward(f.get('in.x'));
    expect(absoluteError(out, f.get('out'))).toBeLessThanOrEqual(1e-4);
    tf.dispose([out, ...created, ...split]);
    model.dispose();
    const onlyQ = tf.zeros([4]);
    expect(() => huggingFaceToTimm({ 'encoder.layer.0.attention.attention.query.bias': onlyQ })).toThrow(
      new CheckpointError('huggingFaceToTimm: blocks.0.attn.qkv.bias needs query, key and value, got query'),
    );
    onlyQ.dispose();
  });
});
