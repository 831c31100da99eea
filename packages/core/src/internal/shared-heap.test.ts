import { expect, test } from 'vitest';

import { encodeModule } from './gemm/wasm-encoder.js';
import { withSharedMemory } from './shared-heap.js';

// The rewrite that makes tfjs' binary define a shared memory: same sizes, same code, only the memory's
// limits change; anything else is refused with the reason.

/** A module defining one memory of `min` pages (and `max`, when given) that exports it and a function. */
function moduleWithMemory(min: number, max?: number): Uint8Array<ArrayBuffer> {
  const limits = max === undefined ? [0x00, min] : [0x01, min, ...leb(max)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f], // type: () -> i32
    ...[0x03, 0x02, 0x01, 0x00], // one function of that type
    ...[0x05, limits.length + 1, 0x01, ...limits], // the memory
    ...[0x07, 0x0e, 0x02, 0x03, ...ascii('mem'), 0x02, 0x00, 0x04, ...ascii('size'), 0x00, 0x00],
    ...[0x0a, 0x06, 0x01, 0x04, 0x00, 0x3f, 0x00, 0x0b], // size(): memory.size
  ]);
}
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return out;
}

test.each([
  ['with a maximum', 2, 300],
  ['without a maximum (4 GiB)', 3, undefined],
])('a module whose memory is declared %s gets the same memory, shared', (_, min, max) => {
  const plain = moduleWithMemory(min, max);
  const plainExports = new WebAssembly.Instance(new WebAssembly.Module(plain)).exports as {
    mem: WebAssembly.Memory;
  };
  expect(plainExports.mem.buffer).toBeInstanceOf(ArrayBuffer);
  const shared = withSharedMemory(plain);
  if (typeof shared === 'string') throw new Error(shared);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(shared)).exports as {
    mem: WebAssembly.Memory;
    size: () => number;
  };
  expect(ex.mem.buffer).toBeInstanceOf(SharedArrayBuffer);
  expect(ex.mem.buffer.byteLength).toBe(min * 65536);
  expect(ex.size()).toBe(min);
  ex.mem.grow(1);
  expect(ex.size()).toBe(min + 1);
  if (max !== undefined) expect(() => ex.mem.grow(max)).toThrow(RangeError);
});

test('modules it cannot rewrite are refused with the reason', () => {
  expect(withSharedMemory(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]))).toBe('not a WebAssembly module');
  expect(withSharedMemory(encodeModule([], { shared: false }))).toBe(
    'the module defines no memory (it imports one, or has none)',
  );
  const shared = withSharedMemory(moduleWithMemory(1, 2));
  if (typeof shared === 'string') throw new Error(shared);
  expect(withSharedMemory(shared)).toBe('its memory has limits flags 3 (shared or 64-bit already)');
  const whole = moduleWithMemory(1);
  expect(withSharedMemory(whole.slice(0, 22))).toBe('a section runs past the end of the module');
  const inNumber = Uint8Array.from([...whole.slice(0, 8), 0x01, 0x85]);
  expect(withSharedMemory(inNumber)).toBe('the module ends inside a number (truncated)');
});
