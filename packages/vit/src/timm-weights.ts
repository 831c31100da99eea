import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, formatShape, loadSafetensorsFile } from '@ml/core';
import type { StateDict } from '@ml/core';

import type { VisionTransformer } from './vision-transformer.js';

/**
 * The timm name of one of a {@link VisionTransformer}'s parameters: the attention block's
 * `attn.in_proj_weight` / `attn.in_proj_bias` are timm's `attn.qkv.weight` / `attn.qkv.bias` (same
 * [3D, D] layout, rows q | k | v) and `attn.out_proj.*` is `attn.proj.*`; every other name is timm's.
 */
export function timmName(name: string): string {
  return name
    .replace(/\.attn\.in_proj_weight$/, '.attn.qkv.weight')
    .replace(/\.attn\.in_proj_bias$/, '.attn.qkv.bias')
    .replace(/\.attn\.out_proj\./, '.attn.proj.');
}

/** The model's state dict under timm's names (the tensors are the model's own: do not dispose them). */
export function timmStateDict(model: VisionTransformer): StateDict {
  const out: StateDict = {};
  for (const [name, v] of model.namedParameters()) {
    if (!model.config.qkvBias && name.endsWith('.attn.in_proj_bias')) continue; // timm has none
    out[timmName(name)] = v;
  }
  return out;
}

/** Options of {@link loadTimmWeights}. */
export interface LoadTimmWeightsOptions {
  /** Reject missing and unexpected keys (default true); wrong shapes are always rejected. */
  strict?: boolean;
}

/** What {@link loadTimmWeights} skipped (non-strict loads). */
export interface LoadTimmWeightsResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Loads a timm `VisionTransformer` state dict (`cls_token`, `pos_embed`, `patch_embed.proj.*`,
 * `blocks.N.norm1.*`, `blocks.N.attn.qkv.*`, `blocks.N.attn.proj.*`, `blocks.N.mlp.fc1/fc2.*`,
 * `norm.*` or `fc_norm.*`, `head.*`) into `model`. Every missing, unexpected and mis-shaped key is
 * listed, by its timm name, in one `CheckpointError`; nothing is written unless everything fits. The
 * caller keeps ownership of `state`.
 */
export function loadTimmWeights(
  model: VisionTransformer,
  state: StateDict,
  options: LoadTimmWeightsOptions = {},
): LoadTimmWeightsResult {
  const strict = options.strict ?? true;
  const own = new Map<string, [string, tf.Variable]>();
  const zeroBiases: string[] = [];
  for (const [name, v] of model.namedParameters()) {
    if (!model.config.qkvBias && name.endsWith('.attn.in_proj_bias')) zeroBiases.push(name);
    else own.set(timmName(name), [name, v]);
  }
  const missingKeys = [...own.keys()].filter((k) => !Object.hasOwn(state, k));
  const unexpectedKeys = Object.keys(state).filter((k) => !own.has(k));
  const wrong: string[] = [];
  for (const [key, [, v]] of own) {
    const t = Object.hasOwn(state, key) ? state[key] : undefined;
    if (t === undefined) continue;
    if (t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i]))
      wrong.push(`${key}: expected ${formatShape(v.shape)}, got ${formatShape(t.shape)}`);
  }
  const problems: string[] = [];
  if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(', ')}`);
  if (strict && unexpectedKeys.length > 0) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
  if (wrong.length > 0) problems.push(`wrong shapes: ${wrong.join('; ')}`);
  if (problems.length > 0)
    throw new CheckpointError(`loadTimmWeights: checkpoint does not fit the model (${problems.join('; ')})`);
  tf.tidy(() => {
    for (const [key, [, v]] of own) {
      const t = Object.hasOwn(state, key) ? state[key] : undefined;
      if (t === undefined || t.dataId === v.dataId) continue;
      v.assign(t.dtype === v.dtype ? t : tf.cast(t, v.dtype));
    }
    for (const [name, v] of model.namedParameters()) if (zeroBiases.includes(name)) v.assign(tf.zerosLike(v));
  });
  return { missingKeys, unexpectedKeys };
}

/** Reads a timm ViT checkpoint saved as safetensors and loads it with {@link loadTimmWeights}. */
export async function loadTimmCheckpoint(
  model: VisionTransformer,
  path: string,
  options: LoadTimmWeightsOptions = {},
): Promise<LoadTimmWeightsResult> {
  const { tensors } = await loadSafetensorsFile(path);
  try {
    return loadTimmWeights(model, tensors, options);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * Hugging Face `ViTModel` / `ViTForImageClassification` names → timm names (a leading `vit.` is
 * dropped): `embeddings.cls_token` → `cls_token`, `embeddings.position_embeddings` → `pos_embed`,
 * `embeddings.patch_embeddings.projection.*` → `patch_embed.proj.*`, per layer `encoder.layer.N.`
 * `layernorm_before` → `blocks.N.norm1`, `attention.attention.{query,key,value}` → concatenated into
 * `blocks.N.attn.qkv` (rows q | k | v), `attention.output.dense` → `attn.proj`, `layernorm_after` →
 * `norm2`, `intermediate.dense` → `mlp.fc1`, `output.dense` → `mlp.fc2`; `layernorm` → `norm`,
 * `classifier` → `head`. Hugging Face's LayerNorm eps is 1e-12: build the model with
 * `layerNormEps: 1e-12`. Returns new tensors for the concatenated q/k/v and the input's own tensors
 * otherwise (dispose the input and `created`, not the rest). `pooler.*` (unused) is dropped.
 */
export function huggingFaceToTimm(state: StateDict): { state: StateDict; created: tf.Tensor[] } {
  const out: StateDict = {};
  const created: tf.Tensor[] = [];
  const qkv = new Map<string, Partial<Record<'query' | 'key' | 'value', tf.Tensor>>>();
  const rules: [RegExp, string][] = [
    [/^embeddings\.cls_token$/, 'cls_token'],
    [/^embeddings\.position_embeddings$/, 'pos_embed'],
    [/^embeddings\.patch_embeddings\.projection\.(weight|bias)$/, 'patch_embed.proj.$1'],
    [/^encoder\.layer\.(\d+)\.layernorm_before\.(weight|bias)$/, 'blocks.$1.norm1.$2'],
    [/^encoder\.layer\.(\d+)\.attention\.output\.dense\.(weight|bias)$/, 'blocks.$1.attn.proj.$2'],
    [/^encoder\.layer\.(\d+)\.layernorm_after\.(weight|bias)$/, 'blocks.$1.norm2.$2'],
    [/^encoder\.layer\.(\d+)\.intermediate\.dense\.(weight|bias)$/, 'blocks.$1.mlp.fc1.$2'],
    [/^encoder\.layer\.(\d+)\.output\.dense\.(weight|bias)$/, 'blocks.$1.mlp.fc2.$2'],
    [/^layernorm\.(weight|bias)$/, 'norm.$1'],
    [/^classifier\.(weight|bias)$/, 'head.$1'],
  ];
  for (const [rawKey, t] of Object.entries(state)) {
    const key = rawKey.replace(/^vit\./, '');
    if (key.startsWith('pooler.')) continue;
    const m = /^encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\.(weight|bias)$/.exec(key);
    if (m !== null) {
      const target = `blocks.${m[1]}.attn.qkv.${m[3]}`;
      const parts = qkv.get(target) ?? {};
      parts[m[2] as 'query' | 'key' | 'value'] = t;
      qkv.set(target, parts);
      continue;
    }
    const rule = rules.find(([re]) => re.test(key));
    out[rule === undefined ? rawKey : key.replace(rule[0], rule[1])] = t;
  }
  for (const [target, parts] of qkv) {
    const { query, key, value } = parts;
    if (query === undefined || key === undefined || value === undefined)
      throw new CheckpointError(
        `huggingFaceToTimm: ${target} needs query, key and value, got ${Object.keys(parts).join(', ')}`,
      );
    const joined = tf.concat([query, key, value], 0); // [3D, D] or [3D]
    created.push(joined);
    out[target] = joined;
  }
  return { state: out, created };
}
