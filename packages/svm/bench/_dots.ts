const n = 400, d = Number(process.argv[2] ?? 64), w = d + (d % 2);
const x = new Float64Array(n * w).map((_, i) => (i % w < d ? Math.random() : 0));
const tmp = new Float64Array(n);
function cur(i: number, start: number, end: number) {
  const a = i * w; let j = start;
  for (; j + 3 < end; j += 4) {
    const b0 = j * w, b1 = b0 + w, b2 = b1 + w, b3 = b2 + w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < w; c += 2) { const u0 = x[a + c]!, u1 = x[a + c + 1]!; s0 += u0 * x[b0 + c]! + u1 * x[b0 + c + 1]!; s1 += u0 * x[b1 + c]! + u1 * x[b1 + c + 1]!; s2 += u0 * x[b2 + c]! + u1 * x[b2 + c + 1]!; s3 += u0 * x[b3 + c]! + u1 * x[b3 + c + 1]!; }
    tmp[j] = s0; tmp[j + 1] = s1; tmp[j + 2] = s2; tmp[j + 3] = s3;
  }
}
function sub(i: number, start: number, end: number) {
  const xi = x.subarray(i * w, i * w + w); let j = start;
  for (; j + 3 < end; j += 4) {
    const blk = x.subarray(j * w, j * w + 4 * w); let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < xi.length; c += 2) { const u0 = xi[c]!, u1 = xi[c + 1]!; s0 += u0 * blk[c]! + u1 * blk[c + 1]!; s1 += u0 * blk[w + c]! + u1 * blk[w + c + 1]!; s2 += u0 * blk[2 * w + c]! + u1 * blk[2 * w + c + 1]!; s3 += u0 * blk[3 * w + c]! + u1 * blk[3 * w + c + 1]!; }
    tmp[j] = s0; tmp[j + 1] = s1; tmp[j + 2] = s2; tmp[j + 3] = s3;
  }
}
function eight(i: number, start: number, end: number) { // 4 columns, 4 elements per step, 8 partial sums
  const a = i * w; let j = start;
  for (; j + 3 < end; j += 4) {
    const b0 = j * w, b1 = b0 + w, b2 = b1 + w, b3 = b2 + w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let c = 0;
    for (; c + 3 < w; c += 4) { const u0 = x[a + c]!, u1 = x[a + c + 1]!, u2 = x[a + c + 2]!, u3 = x[a + c + 3]!;
      s0 += u0 * x[b0 + c]! + u1 * x[b0 + c + 1]! + (u2 * x[b0 + c + 2]! + u3 * x[b0 + c + 3]!);
      s1 += u0 * x[b1 + c]! + u1 * x[b1 + c + 1]! + (u2 * x[b1 + c + 2]! + u3 * x[b1 + c + 3]!);
      s2 += u0 * x[b2 + c]! + u1 * x[b2 + c + 1]! + (u2 * x[b2 + c + 2]! + u3 * x[b2 + c + 3]!);
      s3 += u0 * x[b3 + c]! + u1 * x[b3 + c + 1]! + (u2 * x[b3 + c + 2]! + u3 * x[b3 + c + 3]!); }
    tmp[j] = s0; tmp[j + 1] = s1; tmp[j + 2] = s2; tmp[j + 3] = s3;
  }
}
for (const [name, f] of [['cur', cur], ['sub', sub], ['eight', eight], ['cur', cur]] as const) {
  for (let k = 0; k < 200; k++) f(k % n, 0, n);
  const c0 = process.cpuUsage().user;
  for (let i = 0; i < 20000; i++) f(i % n, 0, n);
  console.log(name, ((process.cpuUsage().user - c0) * 1000 / (20000 * n * d)).toFixed(3), 'ns/MAC');
}
