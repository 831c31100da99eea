// CRC-32 (IEEE 802.3, the zlib/PNG polynomial), table driven: the per-tensor checksum that
// @ml writes into safetensors metadata. Plain TypeScript, no dependencies.

let table: Uint32Array | null = null;

function crcTable(): Uint32Array {
  if (table !== null) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 of `bytes` as 8 lowercase hex digits (`crc32(bytes of "123456789")` is `cbf43926`). */
export function crc32(bytes: Uint8Array): string {
  const t = crcTable();
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (t[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
