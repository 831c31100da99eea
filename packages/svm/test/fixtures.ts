// Loads the scikit-learn fixtures written by tooling/fixtures/gen_svm.py (float32 safetensors files).
import { readFileSync } from 'node:fs';

import { decodeSafetensors } from '@ml/core';

/** One tensor of a fixture as float64 values plus its shape. */
export interface FixtureArray {
  data: Float64Array;
  shape: number[];
}

/** A dataset fixture: named arrays and parsed metadata. */
export interface SvmFixture {
  get(name: string): FixtureArray;
  has(name: string): boolean;
  /** `{ data, shape }` of a rank-2 array, as the estimators take it. */
  matrix(name: string): { data: Float64Array; shape: [number, number] };
  rows(name: string): number[][];
  values(name: string): number[];
  meta<T = unknown>(key: string): T;
}

export function loadSvmFixture(dataset: string): SvmFixture {
  const path = new URL(`../fixtures/${dataset}.safetensors`, import.meta.url);
  const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(path)), dataset);
  const get = (name: string): FixtureArray => {
    const t = tensors[name];
    if (t === undefined) throw new Error(`fixture ${dataset}: no tensor '${name}'`);
    return { data: Float64Array.from(t.data), shape: t.shape };
  };
  return {
    get,
    has: (name) => name in tensors,
    matrix(name) {
      const t = get(name);
      const cols = t.shape.length === 2 ? (t.shape[1] as number) : 1;
      return { data: t.data, shape: [t.shape[0] as number, cols] };
    },
    rows(name) {
      const t = get(name);
      const cols = t.shape.length === 2 ? (t.shape[1] as number) : 1;
      return Array.from({ length: t.shape[0] as number }, (_, r) =>
        Array.from(t.data.subarray(r * cols, (r + 1) * cols)),
      );
    },
    values: (name) => Array.from(get(name).data),
    meta<T>(key: string): T {
      const v = metadata[key];
      if (v === undefined) throw new Error(`fixture ${dataset}: no metadata '${key}'`);
      try {
        return JSON.parse(v) as T;
      } catch {
        return v as T;
      }
    },
  };
}
