const n = 5000, d = Number(process.argv[2] ?? 20), w = Math.ceil(d / 4) * 4;
const x = new Float64Array(n * w).map((_, i) => (i % w < d ? Math.random() : 0));
const sq = new Float64Array(n).map((_, i) => { let s = 0; for (let c = 0; c < w; c++) s += x[i * w + c]! ** 2; return s; });
const out = new Float32Array(n); const y = new Int8Array(n).map(() => (Math.random() < 0.5 ? 1 : -1));
const tmp = new Float64Array(n);
function v1(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  for (let j = start; j < end; j++) {
    const b = j * w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < w; c += 4) { s0 += x[a + c]! * x[b + c]!; s1 += x[a + c + 1]! * x[b + c + 1]!; s2 += x[a + c + 2]! * x[b + c + 2]!; s3 += x[a + c + 3]! * x[b + c + 3]!; }
    out[j] = yi * y[j]! * Math.exp(g * (sqi + sq[j]! - 2 * (s0 + s1 + (s2 + s3))));
  }
}
function v2(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  for (let j = start; j < end; j++) {
    const b = j * w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < w; c += 4) { s0 += x[a + c]! * x[b + c]!; s1 += x[a + c + 1]! * x[b + c + 1]!; s2 += x[a + c + 2]! * x[b + c + 2]!; s3 += x[a + c + 3]! * x[b + c + 3]!; }
    tmp[j] = g * (sqi + sq[j]! - 2 * (s0 + s1 + (s2 + s3)));
  }
  for (let j = start; j < end; j++) out[j] = yi * y[j]! * Math.exp(tmp[j]!);
}
function v3(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  for (let j = start; j < end; j++) {
    const b = j * w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < w; c += 4) { s0 += x[a + c]! * x[b + c]!; s1 += x[a + c + 1]! * x[b + c + 1]!; s2 += x[a + c + 2]! * x[b + c + 2]!; s3 += x[a + c + 3]! * x[b + c + 3]!; }
    tmp[j] = s0 + s1 + (s2 + s3);
  }
}

function v4(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  let j = start;
  for (; j + 1 < end; j += 2) {
    const b = j * w, b2 = b + w; let s0 = 0, s1 = 0, t0 = 0, t1 = 0;
    for (let c = 0; c < w; c += 4) {
      const u0 = x[a + c]!, u1 = x[a + c + 1]!, u2 = x[a + c + 2]!, u3 = x[a + c + 3]!;
      s0 += u0 * x[b + c]! + u2 * x[b + c + 2]!; s1 += u1 * x[b + c + 1]! + u3 * x[b + c + 3]!;
      t0 += u0 * x[b2 + c]! + u2 * x[b2 + c + 2]!; t1 += u1 * x[b2 + c + 1]! + u3 * x[b2 + c + 3]!;
    }
    tmp[j] = g * (sqi + sq[j]! - 2 * (s0 + s1)); tmp[j + 1] = g * (sqi + sq[j + 1]! - 2 * (t0 + t1));
  }
  for (; j < end; j++) { const b = j * w; let s0 = 0; for (let c = 0; c < w; c++) s0 += x[a + c]! * x[b + c]!; tmp[j] = g * (sqi + sq[j]! - 2 * s0); }
  for (let j = start; j < end; j++) out[j] = yi * y[j]! * Math.exp(tmp[j]!);
}
function v5(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  for (let j = start; j < end; j++) {
    const b = j * w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < w; c += 4) { s0 += x[a + c]! * x[b + c]!; s1 += x[a + c + 1]! * x[b + c + 1]!; s2 += x[a + c + 2]! * x[b + c + 2]!; s3 += x[a + c + 3]! * x[b + c + 3]!; }
    tmp[j] = s0 + s1 + (s2 + s3);
  }
  for (let j = start; j < end; j++) out[j] = yi * y[j]! * Math.exp(g * (sqi + sq[j]! - 2 * tmp[j]!));
}

function v6(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  let j = start;
  for (; j + 3 < end; j += 4) {
    const b0 = j * w, b1 = b0 + w, b2 = b1 + w, b3 = b2 + w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0; c < w; c += 2) {
      const u0 = x[a + c]!, u1 = x[a + c + 1]!;
      s0 += u0 * x[b0 + c]! + u1 * x[b0 + c + 1]!; s1 += u0 * x[b1 + c]! + u1 * x[b1 + c + 1]!;
      s2 += u0 * x[b2 + c]! + u1 * x[b2 + c + 1]!; s3 += u0 * x[b3 + c]! + u1 * x[b3 + c + 1]!;
    }
    tmp[j] = s0; tmp[j + 1] = s1; tmp[j + 2] = s2; tmp[j + 3] = s3;
  }
  for (; j < end; j++) { const b = j * w; let s0 = 0; for (let c = 0; c < w; c++) s0 += x[a + c]! * x[b + c]!; tmp[j] = s0; }
  for (let j = start; j < end; j++) out[j] = yi * y[j]! * Math.exp(g * (sqi + sq[j]! - 2 * tmp[j]!));
}
function v7(i: number, out: Float32Array, start: number, end: number, y: Int8Array, g: number) {
  const a = i * w, sqi = sq[i]!, yi = y[i]!;
  let j = start;
  for (; j + 1 < end; j += 2) {
    const b = j * w, b2 = b + w; let s0 = 0, s1 = 0, t0 = 0, t1 = 0;
    for (let c = 0; c < w; c += 4) {
      const u0 = x[a + c]!, u1 = x[a + c + 1]!, u2 = x[a + c + 2]!, u3 = x[a + c + 3]!;
      s0 += u0 * x[b + c]! + u2 * x[b + c + 2]!; s1 += u1 * x[b + c + 1]! + u3 * x[b + c + 3]!;
      t0 += u0 * x[b2 + c]! + u2 * x[b2 + c + 2]!; t1 += u1 * x[b2 + c + 1]! + u3 * x[b2 + c + 3]!;
    }
    tmp[j] = s0 + s1; tmp[j + 1] = t0 + t1;
  }
  for (; j < end; j++) { const b = j * w; let s0 = 0; for (let c = 0; c < w; c++) s0 += x[a + c]! * x[b + c]!; tmp[j] = s0; }
  for (let j = start; j < end; j++) out[j] = yi * y[j]! * Math.exp(g * (sqi + sq[j]! - 2 * tmp[j]!));
}
for (const [name, f] of [['v1', v1], ['v2', v2], ['v4', v4], ['v6', v6], ['v7', v7]] as const) {
  for (let k = 0; k < 50; k++) f(k, out, 0, n, y, -0.05);
  const t0 = process.cpuUsage().user / 1000;
  for (let i = 0; i < 2000; i++) f(i, out, 0, n, y, -0.05);
  console.log(name, (((process.cpuUsage().user / 1000 - t0) / (2000 * n)) * 1e6).toFixed(2), 'ns/eval');
}
