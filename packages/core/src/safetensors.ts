import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError } from './errors.js';

/** Element types @ml reads and writes in safetensors files. */
export type SafetensorsDtype = 'F32' | 'F16' | 'I32' | 'F64' | 'I64' | 'U8' | 'BOOL';

/** One tensor's raw contents, as stored. */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

/** A decoded safetensors file: tensors by name plus the free-form `__metadata__` strings. */
export interface DecodedSafetensors {
  tensors: Record<string, RawTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, I32: 4, F64: 8, I64: 8, U8: 1, BOOL: 1 };
// A header beyond this is certainly corrupt (the reference implementation uses the same 100 MB cap).
const MAX_HEADER = 100_000_000;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function floatToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half: keep the top bits of the 24-bit significand, rounding to nearest even like
    // normal numbers (values below half the smallest subnormal round to ±0).
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const kept = mant >> shift;
    const dropped = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (dropped > halfway || (dropped === halfway && kept & 1) ? kept + 1 : kept);
  }
  const half = sign | (e << 10) | (mant >> 13);
  // round to nearest even on the dropped 13 bits
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) return half + 1;
  return half;
}

/**
 * Parses a safetensors file (8-byte little-endian header length, JSON header, raw little-endian data).
 * Every inconsistency — short file, header past the end, bad JSON, unknown dtype, offsets outside the
 * data, sizes that disagree with shapes — is a `CheckpointError` naming the file part and tensor.
 * F16, F64 and I64 are widened/narrowed to F32/F32/I32 on read.
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors'): DecodedSafetensors {
  if (bytes.byteLength < 8)
    throw new CheckpointError(
      `${source}: file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > bytes.byteLength) {
    throw new CheckpointError(
      `${source}: header length ${headerLen} goes beyond the file (${bytes.byteLength} bytes); the file is truncated or not safetensors`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen))) as Record<
      string,
      unknown
    >;
  } catch (e) {
    throw new CheckpointError(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new CheckpointError(`${source}: header must be a JSON object`);
  const dataStart = 8 + headerLen;
  const dataLen = bytes.byteLength - dataStart;
  const tensors: Record<string, RawTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (
        entry === null ||
        typeof entry !== 'object' ||
        Array.isArray(entry) ||
        Object.values(entry).some((v) => typeof v !== 'string')
      ) {
        throw new CheckpointError(
          `${source}: __metadata__ must be an object of strings, got ${JSON.stringify(entry)}`,
        );
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new CheckpointError(
        `${source}: tensor '${name}' must be described by an object with dtype, shape and data_offsets, got ${JSON.stringify(entry)}`,
      );
    }
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype))
      throw new CheckpointError(
        `${source}: tensor '${name}' has unknown dtype '${dtype}' (supported: ${Object.keys(BYTES).join(', ')})`,
      );
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
      throw new CheckpointError(`${source}: tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isInteger(o) && o >= 0) ||
      !(offsets[0] <= offsets[1]) ||
      offsets[1] > dataLen
    ) {
      throw new CheckpointError(
        `${source}: tensor '${name}' has data_offsets ${JSON.stringify(offsets)} outside the ${dataLen}-byte data section; the file is truncated or corrupt`,
      );
    }
    const size = shape.reduce((a, b) => a * b, 1);
    const d = dtype as SafetensorsDtype;
    if (offsets[1] - offsets[0] !== size * BYTES[d]) {
      throw new CheckpointError(
        `${source}: tensor '${name}' holds ${offsets[1] - offsets[0]} bytes, but ${d} ${JSON.stringify(shape)} needs ${size * BYTES[d]}`,
      );
    }
    // Copy into an aligned buffer: offsets in the file need not be multiples of the element size.
    const raw = bytes.slice(dataStart + offsets[0], dataStart + offsets[1]);
    const dv = new DataView(raw.buffer);
    let out: RawTensor;
    switch (d) {
      case 'F32':
        out = { dtype: d, shape, data: new Float32Array(raw.buffer) };
        break;
      case 'I32':
        out = { dtype: d, shape, data: new Int32Array(raw.buffer) };
        break;
      case 'U8':
      case 'BOOL':
        out = { dtype: d, shape, data: raw };
        break;
      case 'F16':
        out = {
          dtype: d,
          shape,
          data: Float32Array.from({ length: size }, (_, i) => halfToFloat(dv.getUint16(2 * i, true))),
        };
        break;
      case 'F64':
        out = {
          dtype: d,
          shape,
          data: Float32Array.from({ length: size }, (_, i) => dv.getFloat64(8 * i, true)),
        };
        break;
      case 'I64':
        out = {
          dtype: d,
          shape,
          data: Int32Array.from({ length: size }, (_, i) => Number(dv.getBigInt64(8 * i, true))),
        };
        break;
    }
    tensors[name] = out;
  }
  return { tensors, metadata };
}

/** Options of {@link encodeSafetensors}. */
export interface EncodeOptions {
  /** Free-form strings stored under `__metadata__`. */
  metadata?: Record<string, string>;
  /** Store float tensors as F16 (half the size; ~3 significant digits). Default false (F32). */
  half?: boolean;
}

/** Serialises raw tensors to safetensors bytes (keys sorted, 8-byte aligned header). */
export function encodeRawSafetensors(
  tensors: Record<string, RawTensor>,
  options: EncodeOptions = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (options.metadata) header.__metadata__ = options.metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__')
      throw new CheckpointError(
        `encodeSafetensors: a tensor may not be named '__metadata__' (the format reserves it)`,
      );
    const t = tensors[name] as RawTensor;
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== size) {
      throw new CheckpointError(
        `encodeSafetensors: tensor '${name}' has ${t.data.length} values, but its shape ${JSON.stringify(t.shape)} needs ${size}`,
      );
    }
    let chunk: Uint8Array;
    // Decoded F64/I64 tensors hold narrowed Float32/Int32 data, so they are written as F32/I32.
    let dtype: SafetensorsDtype = t.dtype === 'F64' ? 'F32' : t.dtype === 'I64' ? 'I32' : t.dtype;
    if (dtype === 'F16' || (options.half === true && dtype === 'F32')) {
      dtype = 'F16';
      const h = new Uint16Array(t.data.length);
      for (let i = 0; i < h.length; i++) h[i] = floatToHalf(t.data[i] as number);
      chunk = new Uint8Array(h.buffer);
    } else {
      chunk = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + chunk.byteLength] };
    chunks.push(chunk);
    offset += chunk.byteLength;
  }
  // Pad by the UTF-8 byte length (not the string length) so the data section starts 8-byte aligned
  // even with non-ASCII names.
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.byteLength + ((8 - (json.byteLength % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.byteLength;
  }
  return out;
}

/** Reads tensor values (with `data()`, never blocking) into raw form for {@link encodeRawSafetensors}. */
export async function tensorsToRaw(tensors: Record<string, tf.Tensor>): Promise<Record<string, RawTensor>> {
  const out: Record<string, RawTensor> = {};
  for (const [name, t] of Object.entries(tensors)) {
    const data = await t.data();
    if (t.dtype === 'float32') out[name] = { dtype: 'F32', shape: [...t.shape], data: data as Float32Array };
    else if (t.dtype === 'int32') out[name] = { dtype: 'I32', shape: [...t.shape], data: data as Int32Array };
    else if (t.dtype === 'bool')
      out[name] = { dtype: 'BOOL', shape: [...t.shape], data: Uint8Array.from(data as Uint8Array) };
    else
      throw new CheckpointError(
        `encodeSafetensors: tensor '${name}' has dtype ${t.dtype}, which safetensors cannot hold`,
      );
  }
  return out;
}

/** Serialises tensors to safetensors bytes; float32 → F32 (or F16 with `half`), int32 → I32, bool → BOOL. */
export async function encodeSafetensors(
  tensors: Record<string, tf.Tensor>,
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  return encodeRawSafetensors(await tensorsToRaw(tensors), options);
}

/** Turns decoded raw tensors into tfjs tensors (float → float32, ints → int32, bool → bool); the caller owns them. */
export function rawToTensors(raw: Record<string, RawTensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(raw)) {
    if (t.dtype === 'BOOL') out[name] = tf.tensor(t.data, t.shape, 'bool');
    else if (t.dtype === 'I32' || t.dtype === 'I64' || t.dtype === 'U8')
      out[name] = tf.tensor(Int32Array.from(t.data), t.shape, 'int32');
    else out[name] = tf.tensor(t.data, t.shape, 'float32');
  }
  return out;
}
