import * as tf from '@tensorflow/tfjs-core';
import { gzipSync } from 'fflate';

import { ConfigError, DataError, formatShape } from '@ml/core';

import { asBytes, gunzip, isGzip, readFileBytes } from './internal/bytes.js';

/** Element types of the IDX format (type codes 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E). */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Typed arrays an {@link IdxArray} holds, one per {@link IdxDtype}. */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: its element type, its dims, and its values in row-major order (host byte order). */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: IdxData;
}

const CODES: Record<number, IdxDtype> = {
  0x08: 'uint8',
  0x09: 'int8',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};
const CODE_OF: Record<IdxDtype, number> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};
const BYTES: Record<IdxDtype, number> = { uint8: 1, int8: 1, int16: 2, int32: 4, float32: 4, float64: 8 };

/** Options of {@link readIdx}. */
export interface ReadIdxOptions {
  /** Name used in error messages (a file name or URL; default 'IDX data'). */
  name?: string;
}

function hex(v: number, digits: number): string {
  return `0x${v.toString(16).padStart(digits, '0')}`;
}

function decodeValues(view: DataView, offset: number, dtype: IdxDtype, count: number): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/**
 * Decodes an IDX file (the format of MNIST and Fashion-MNIST): 2 zero bytes, a type code, the number
 * of dims, each dim as a big-endian uint32, then the values big-endian. Gzip-compressed input (magic
 * 1f 8b) is inflated first. Works in Node and browsers (no Node APIs). Any malformed input — wrong
 * magic, unknown type code, a truncated header or body (the message gives the byte offset), dims that
 * disagree with the data size, broken gzip — is a DataError naming `options.name`.
 */
export function readIdx(bytes: Uint8Array | ArrayBuffer, options: ReadIdxOptions = {}): IdxArray {
  const name = options.name ?? 'IDX data';
  let raw = asBytes(bytes);
  if (isGzip(raw)) raw = gunzip(raw, 'readIdx', name);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (raw.length < 4) {
    throw new DataError(
      `readIdx: ${name} is truncated at byte offset ${raw.length}: the 4-byte magic number needs bytes 0–3`,
    );
  }
  const magic = view.getUint32(0, false);
  const dtype = CODES[raw[2] as number];
  if (raw[0] !== 0 || raw[1] !== 0 || dtype === undefined) {
    throw new DataError(
      `readIdx: ${name} has a wrong magic number ${hex(magic, 8)} at byte offset 0: expected 0x0000TTNN with type code TT in 08/09/0b/0c/0d/0e and NN dims`,
    );
  }
  const rank = raw[3] as number;
  const headerEnd = 4 + 4 * rank;
  if (raw.length < headerEnd) {
    throw new DataError(
      `readIdx: ${name} is truncated at byte offset ${raw.length}: its header of ${rank} dims needs ${headerEnd} bytes`,
    );
  }
  const shape: number[] = [];
  for (let k = 0; k < rank; k++) shape.push(view.getUint32(4 + 4 * k, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * BYTES[dtype];
  const available = raw.length - headerEnd;
  if (available < dataBytes) {
    throw new DataError(
      `readIdx: ${name} is truncated at byte offset ${raw.length}: dims ${formatShape(shape)} of ${dtype} need ${dataBytes} data bytes after the ${headerEnd}-byte header (up to byte offset ${headerEnd + dataBytes}), found ${available}`,
    );
  }
  if (available > dataBytes) {
    throw new DataError(
      `readIdx: ${name} has ${available - dataBytes} bytes after the data end at byte offset ${headerEnd + dataBytes}: dims ${formatShape(shape)} of ${dtype} disagree with the file size (${raw.length} bytes)`,
    );
  }
  return { dtype, shape, data: decodeValues(view, headerEnd, dtype, count) };
}

/** Reads and decodes an IDX file (plain or `.gz`) from disk — Node only; see {@link readIdx}. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(path);
  } catch (e) {
    throw new DataError(`readIdxFile: cannot read ${path} (${(e as Error).message})`, { cause: e });
  }
  return readIdx(bytes, { name: path });
}

/** Options of {@link encodeIdx}. */
export interface EncodeIdxOptions {
  /** Gzip the result (default false). */
  gzip?: boolean;
}

/** Encodes an array as an IDX file (optionally gzipped): the inverse of {@link readIdx}. */
export function encodeIdx(array: IdxArray, options: EncodeIdxOptions = {}): Uint8Array {
  const { dtype, shape, data } = array;
  if (CODE_OF[dtype] === undefined)
    throw new ConfigError(
      `encodeIdx: dtype must be one of ${Object.keys(CODE_OF).join(', ')}, got ${String(dtype)}`,
    );
  if (shape.length > 255 || shape.some((d) => !Number.isInteger(d) || d < 0 || d > 0xffffffff)) {
    throw new ConfigError(
      `encodeIdx: shape must be at most 255 dims, each an integer in [0, 2^32), got ${formatShape(shape)}`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw new ConfigError(
      `encodeIdx: data must have ${count} values for shape ${formatShape(shape)}, got ${data.length}`,
    );
  const headerEnd = 4 + 4 * shape.length;
  const out = new Uint8Array(headerEnd + count * BYTES[dtype]);
  const view = new DataView(out.buffer);
  out[2] = CODE_OF[dtype];
  out[3] = shape.length;
  shape.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  for (let i = 0; i < count; i++) {
    const v = data[i] as number;
    const at = headerEnd + i * BYTES[dtype];
    if (dtype === 'uint8') view.setUint8(at, v);
    else if (dtype === 'int8') view.setInt8(at, v);
    else if (dtype === 'int16') view.setInt16(at, v, false);
    else if (dtype === 'int32') view.setInt32(at, v, false);
    else if (dtype === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return options.gzip === true ? gzipSync(out) : out;
}

/**
 * An {@link IdxArray} as a tensor of the same shape: uint8/int8/int16/int32 → int32, floats →
 * float32; with `scale`, every value is multiplied by it and the tensor is float32 (e.g. 1/255 for
 * images in [0, 1]).
 */
export function idxToTensor(array: IdxArray, options: { scale?: number } = {}): tf.Tensor {
  const { data, shape } = array;
  if (options.scale !== undefined) {
    const out = new Float32Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = (data[i] as number) * options.scale;
    return tf.tensor(out, shape, 'float32');
  }
  const floating = array.dtype === 'float32' || array.dtype === 'float64';
  return tf.tensor(
    floating ? Float32Array.from(data) : Int32Array.from(data),
    shape,
    floating ? 'float32' : 'int32',
  );
}
