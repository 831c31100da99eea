import { KernelRows } from '../src/internal/q-matrix.js';
const n = 360, d = Number(process.argv[2] ?? 64);
const x = new Float64Array(n * d).map(() => Math.random());
const rows = new KernelRows({ x, n, d }, { kernel: 'rbf', gamma: 0.05, degree: 3, coef0: 0 });
const out = new Float32Array(n); const y = new Int8Array(n).map(() => (Math.random() < 0.5 ? 1 : -1));
for (let w = 0; w < 500; w++) rows.fill(w % n, out, 0, n, y);
for (const len of [360, 100, 17]) {
  const c0 = process.cpuUsage().user; let evals = 0;
  for (let i = 0; i < 40000; i++) { const s = (i * 7) % (n - len + 1); rows.fill(i % n, out, s, s + len, y); evals += len; }
  console.log('len', len, ((process.cpuUsage().user - c0) * 1000 / evals).toFixed(2), 'ns/eval', ((process.cpuUsage().user - c0) * 1000 / evals / d).toFixed(3), 'ns/MAC');
}
{
  const r = rows as unknown as { dots(i: number, s: number, e: number): void };
  const c0 = process.cpuUsage().user; let evals = 0;
  for (let i = 0; i < 40000; i++) { r.dots(i % n, 0, n); evals += n; }
  console.log('dots only', ((process.cpuUsage().user - c0) * 1000 / evals / d).toFixed(3), 'ns/MAC');
}
{
  const w = d + (d % 2); const xx = new Float64Array(n * w).map(() => Math.random()); const tmp = new Float64Array(n);
  function dots(i: number, start: number, end: number): void {
    const a = i * w; let j = start;
    for (; j + 3 < end; j += 4) {
      const b0 = j * w, b1 = b0 + w, b2 = b1 + w, b3 = b2 + w; let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let c = 0; c < w; c += 2) { const u0 = xx[a + c] as number, u1 = xx[a + c + 1] as number; s0 += u0 * (xx[b0 + c] as number) + u1 * (xx[b0 + c + 1] as number); s1 += u0 * (xx[b1 + c] as number) + u1 * (xx[b1 + c + 1] as number); s2 += u0 * (xx[b2 + c] as number) + u1 * (xx[b2 + c + 1] as number); s3 += u0 * (xx[b3 + c] as number) + u1 * (xx[b3 + c + 1] as number); }
      tmp[j] = s0; tmp[j + 1] = s1; tmp[j + 2] = s2; tmp[j + 3] = s3;
    }
  }
  for (let i = 0; i < 500; i++) dots(i % n, 0, n);
  const c0 = process.cpuUsage().user; let evals = 0;
  for (let i = 0; i < 40000; i++) { dots(i % n, 0, n); evals += n; }
  console.log('free fn dots', ((process.cpuUsage().user - c0) * 1000 / evals / d).toFixed(3), 'ns/MAC');
}
