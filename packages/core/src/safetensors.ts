import * as tf from '@tensorflow/tfjs-core';

import { crc32 } from './crc32.js';
import { CheckpointError, ConfigError } from './errors.js';

/**
 * Element types @ml reads in safetensors files. F16, BF16 and F64 are read as float32, I64 as int32;
 * @ml writes F32 (F16 on request), I32 and BOOL.
 */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32' | 'F64' | 'I64' | 'U8' | 'BOOL';

/**
 * The `__metadata__` key under which @ml stores each tensor's CRC-32 (of its bytes as stored), as a
 * JSON object `{ "<tensor>": "<8 hex digits>" }`. Files without it (PyTorch's, older ones) load
 * unchecked; files with it are verified tensor by tensor.
 */
export const CHECKSUM_METADATA_KEY = 'ml.crc32';

/** Options of {@link decodeSafetensors}. */
export interface DecodeOptions {
  /**
   * Accept NaN and ±Infinity in float tensors (default false: a non-finite value is a
   * `CheckpointError` naming the tensor, since trained weights never hold one).
   */
  allowNonFinite?: boolean;
}

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

const BYTES: Record<SafetensorsDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I32: 4,
  F64: 8,
  I64: 8,
  U8: 1,
  BOOL: 1,
};
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

// The checksums a file carries, or null when it has none.
function readChecksums(source: string, metadata: Record<string, string>): Record<string, string> | null {
  const text = metadata[CHECKSUM_METADATA_KEY];
  if (text === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    Object.values(parsed).some((v) => typeof v !== 'string')
  )
    throw new CheckpointError(
      `${source}: __metadata__['${CHECKSUM_METADATA_KEY}'] must be a JSON object of tensor checksums; the header is corrupt`,
    );
  return parsed as Record<string, string>;
}

// The first non-finite value of a float tensor, as a message, or null.
function firstNonFinite(data: Float32Array): string | null {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) return `${v} at flat index ${i}`;
  }
  return null;
}

/**
 * Parses a safetensors file (8-byte little-endian header length, JSON header, raw little-endian data).
 * Every inconsistency — short file, header past the end, bad JSON, unknown dtype, offsets outside the
 * data, sizes that disagree with shapes, a tensor whose bytes do not match the CRC-32 @ml stored for
 * it, a NaN or infinity in a float tensor (unless `allowNonFinite`) — is a `CheckpointError` naming
 * the file and the tensor. F16, BF16 and F64 are widened/narrowed to float32, I64 to int32 on read.
 * The returned metadata leaves out @ml's checksum entry.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors',
  options: DecodeOptions = {},
): DecodedSafetensors {
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
  const stored: Record<string, Uint8Array> = {};
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
    stored[name] = raw;
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
      case 'BF16':
        // bfloat16 is the top half of a float32: shift its bits into place.
        out = {
          dtype: d,
          shape,
          data: new Float32Array(
            Uint32Array.from({ length: size }, (_, i) => dv.getUint16(2 * i, true) << 16).buffer,
          ),
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
  const checksums = readChecksums(source, metadata);
  if (checksums !== null) {
    for (const [name, raw] of Object.entries(stored)) {
      const expected = Object.hasOwn(checksums, name) ? checksums[name] : undefined;
      if (expected === undefined)
        throw new CheckpointError(
          `${source}: tensor '${name}' has no checksum in the header, which lists the others; the file was altered`,
        );
      const actual = crc32(raw);
      if (actual !== expected)
        throw new CheckpointError(
          `${source}: tensor '${name}' fails its checksum (CRC-32 ${actual}, the header says ${expected}); its data is corrupt`,
        );
    }
    metadata = Object.fromEntries(Object.entries(metadata).filter(([k]) => k !== CHECKSUM_METADATA_KEY));
  }
  if (options.allowNonFinite !== true) {
    for (const [name, t] of Object.entries(tensors)) {
      if (!(t.data instanceof Float32Array)) continue;
      const bad = firstNonFinite(t.data);
      if (bad !== null)
        throw new CheckpointError(
          `${source}: tensor '${name}' holds ${bad}; trained weights are finite, so the file is corrupt or was saved from a diverged run (pass allowNonFinite to read it anyway)`,
        );
    }
  }
  return { tensors, metadata };
}

/** Options of {@link encodeSafetensors}. */
export interface EncodeOptions {
  /** Free-form strings stored under `__metadata__`. */
  metadata?: Record<string, string>;
  /** Store float tensors as F16 (half the size; ~3 significant digits). Default false (F32). */
  half?: boolean;
  /** Store each tensor's CRC-32 under {@link CHECKSUM_METADATA_KEY}, verified on read (default true). */
  checksum?: boolean;
}

/**
 * Serialises raw tensors to safetensors bytes (keys sorted, 8-byte aligned header), with each tensor's
 * CRC-32 in the metadata unless `checksum` is false.
 */
export function encodeRawSafetensors(
  tensors: Record<string, RawTensor>,
  options: EncodeOptions = {},
): Uint8Array {
  if (options.metadata !== undefined && Object.hasOwn(options.metadata, CHECKSUM_METADATA_KEY))
    throw new ConfigError(
      `encodeSafetensors: metadata key '${CHECKSUM_METADATA_KEY}' is reserved for @ml's tensor checksums`,
    );
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  const checksums: Record<string, string> = {};
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
    // Decoded F64/BF16/I64 tensors hold Float32/Int32 data, so they are written as F32/I32.
    let dtype: SafetensorsDtype =
      t.dtype === 'F64' || t.dtype === 'BF16' ? 'F32' : t.dtype === 'I64' ? 'I32' : t.dtype;
    if (dtype === 'F16' || (options.half === true && dtype === 'F32')) {
      dtype = 'F16';
      const h = new Uint16Array(t.data.length);
      for (let i = 0; i < h.length; i++) h[i] = floatToHalf(t.data[i] as number);
      chunk = new Uint8Array(h.buffer);
    } else {
      chunk = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + chunk.byteLength] };
    if (options.checksum !== false) checksums[name] = crc32(chunk);
    chunks.push(chunk);
    offset += chunk.byteLength;
  }
  const metadata = {
    ...options.metadata,
    ...(options.checksum !== false ? { [CHECKSUM_METADATA_KEY]: JSON.stringify(checksums) } : {}),
  };
  // __metadata__ goes first in the header, as the reference writer puts it.
  const ordered = Object.keys(metadata).length > 0 ? { __metadata__: metadata, ...header } : header;
  // Pad by the UTF-8 byte length (not the string length) so the data section starts 8-byte aligned
  // even with non-ASCII names.
  const json = new TextEncoder().encode(JSON.stringify(ordered));
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
    if (t.dtype === 'float32') out[name] = { dtype: 'F32', shape: [...t.shape], data: data };
    else if (t.dtype === 'int32') out[name] = { dtype: 'I32', shape: [...t.shape], data: data };
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

/** Turns decoded raw tensors into tfjs tensors (floats → float32, ints → int32, bool → bool); the caller owns them. */
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
