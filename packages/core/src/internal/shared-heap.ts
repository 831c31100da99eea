import { nodeBuiltin } from './gemm/probe.js';
import { uleb } from './gemm/wasm-encoder.js';

// tfjs-backend-wasm's single-threaded binary defines its own (unshared) memory, so no other thread can
// read a tensor: @ml's thread pool had to copy every operand into a memory of its own and the result
// back. This rewrites the binary's memory section to declare the same memory shared (same initial size,
// the same maximum, or 4 GiB where none is given), which changes no instruction: the module computes
// exactly as before, and worker threads instantiate @ml's GEMM on that very memory and work on tensors in
// place. Shared memories need cross-thread blocking to be useful, so this is used only where the pool can
// run (Node's worker_threads).

/** Pages (64 KiB) in the largest wasm32 memory. */
const MAX_PAGES = 65536;

/** Reads an unsigned LEB128 at `pos`: [value, next position]. */
function readUleb(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= bytes.length) throw new Error('the module ends inside a number (truncated)');
    const b = bytes[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

/**
 * The module `bytes` with its one defined memory made shared, or the reason it cannot be (no memory
 * section, several memories, an imported memory, already shared).
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> | string {
  try {
    return rewriteMemory(bytes);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function rewriteMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> | string {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    return 'not a WebAssembly module';
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, body] = readUleb(bytes, pos + 1);
    const end = body + size;
    if (end > bytes.length) return 'a section runs past the end of the module';
    if (id === 5) {
      const [count, p0] = readUleb(bytes, body);
      if (count !== 1) return `the module defines ${count} memories, not one`;
      const flags = bytes[p0]!;
      if (flags !== 0 && flags !== 1)
        return `its memory has limits flags ${flags} (shared or 64-bit already)`;
      const [min, p1] = readUleb(bytes, p0 + 1);
      const max = flags === 1 ? readUleb(bytes, p1)[0] : MAX_PAGES;
      const payload = [...uleb(1), 0x03, ...uleb(min), ...uleb(max)];
      const section = [5, ...uleb(payload.length), ...payload];
      const out = new Uint8Array(bytes.length - (end - pos) + section.length);
      out.set(bytes.subarray(0, pos), 0);
      out.set(section, pos);
      out.set(bytes.subarray(end), pos + section.length);
      return out;
    }
    pos = end;
  }
  return 'the module defines no memory (it imports one, or has none)';
}

/** The scheme of the in-memory URLs the shared binary is served under (never fetched from a network). */
const SCHEME = 'ml-shared-heap:';

/**
 * In Node: tfjs-backend-wasm's SIMD binary (read from the installed package) with its memory made
 * shared, handed to `serve` under an in-memory URL; returns the URL map for `setWasmPaths(map, true)`,
 * or the reason the shared binary is unavailable.
 */
export function sharedHeapBinaries(
  serve: (files: ReadonlyMap<string, Uint8Array<ArrayBuffer>>) => void,
  names: readonly string[],
  simdName: string,
): Record<string, string> | string {
  const mod = nodeBuiltin<{ createRequire(from: string): { resolve(id: string): string } }>('node:module');
  const fs = nodeBuiltin<{ readFileSync(path: string): Uint8Array }>('node:fs');
  const path = nodeBuiltin<{ dirname(p: string): string; join(...p: string[]): string }>('node:path');
  if (mod === undefined || fs === undefined || path === undefined) return 'not in Node';
  let bytes: Uint8Array;
  try {
    const main = mod.createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    bytes = fs.readFileSync(path.join(path.dirname(main), simdName));
  } catch (e) {
    return `cannot read ${simdName}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const shared = withSharedMemory(bytes);
  if (typeof shared === 'string') return `${simdName}: ${shared}`;
  if (!WebAssembly.validate(shared)) return `${simdName} with a shared memory does not validate`;
  // tfjs wants a URL for each binary; Node only ever loads the SIMD one (no threads, SIMD required).
  serve(new Map([[SCHEME + simdName, shared]]));
  return Object.fromEntries(names.map((n) => [n, SCHEME + n]));
}
