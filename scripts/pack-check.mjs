#!/usr/bin/env node
// "As a user installs it": builds @ml/core, packs it with `pnpm pack` (publishConfig applied, as on
// npm), installs the tarball with npm into a scratch project outside the repo together with
// @tensorflow/tfjs-core, and then, with plain `node` (no bundler, no vitest, no tsx, no source
// condition), runs an ES module and a CommonJS script that each train a small model on the wasm
// backend. Exits non-zero on any failure and prints one summary line.
//
//   node scripts/pack-check.mjs [--skip-build] [--keep]
//     --skip-build  pack the existing dist/ (for iterating on this script)
//     --keep        leave the scratch project in place (it is always kept when a check fails)
/* global process, console */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PKG_DIR = join(ROOT, 'packages', 'core');
const PKG_NAME = '@ml/core';
const TFJS_CORE = '@tensorflow/tfjs-core@4.22.0';
// Loss must fall by at least this factor in each training script.
const MIN_LOSS_RATIO = 5;
const args = new Set(process.argv.slice(2));
const started = Date.now();
const isWindows = process.platform === 'win32';

function fail(message, scratch) {
  console.error(`pack-check: FAILED — ${message}`);
  if (scratch) console.error(`pack-check: the scratch project is kept at ${scratch}`);
  process.exit(1);
}

// The environment for child processes: no inherited NODE_OPTIONS (it could add tsx or the
// @ml/source condition) and none of the npm_config_* settings pnpm exports from the repo's .npmrc,
// except the ones that say how to reach a registry.
function cleanEnv() {
  const keep =
    /^npm_config_(registry|cache|proxy|https_proxy|http_proxy|noproxy|no_proxy|strict_ssl|cafile|ca|userconfig|globalconfig|@.*:registry)$/i;
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k === 'NODE_PATH') continue;
    if (/^npm_/i.test(k) && !keep.test(k)) continue;
    env[k] = v;
  }
  return env;
}

function run(cmd, cmdArgs, { cwd, timeoutS, scratch, quiet = true, hint } = {}) {
  const t0 = Date.now();
  const shell = isWindows && cmd !== process.execPath; // npm and pnpm are .cmd shims on Windows
  const r = spawnSync(cmd, shell ? cmdArgs.map((a) => (/\s/.test(a) ? `"${a}"` : a)) : cmdArgs, {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    shell,
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0) {
    const why =
      r.error?.code === 'ETIMEDOUT'
        ? `timed out after ${timeoutS} s`
        : r.error
          ? r.error.message
          : `exit code ${r.status}`;
    console.error(output.split('\n').slice(-40).join('\n'));
    fail(`\`${cmd} ${cmdArgs.join(' ')}\` ${why}${hint ? hint(output) : ''}`, scratch);
  }
  if (!quiet) process.stdout.write(output);
  return { output, seconds };
}

// 1. Build from a clean dist/ (tsc never deletes the output of a removed source file, which would
// otherwise ship) and pack.
if (!args.has('--skip-build')) {
  rmSync(join(PKG_DIR, 'dist'), { recursive: true, force: true });
  run('pnpm', ['--filter', PKG_NAME, 'build'], { cwd: ROOT, timeoutS: 300 });
}
if (!existsSync(join(PKG_DIR, 'dist', 'index.js'))) fail(`${PKG_NAME} has no dist/index.js; run its build`);

const scratch = mkdtempSync(join(tmpdir(), 'ml-pack-check-'));
const rel = relative(ROOT, scratch);
if (!rel.startsWith('..') && !isAbsolute(rel))
  fail(`the scratch folder ${scratch} lies inside the repo; set TMPDIR to a folder outside it`);
const packDir = join(scratch, 'pack');
run('pnpm', ['pack', '--pack-destination', packDir], { cwd: PKG_DIR, timeoutS: 120, scratch });
const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
if (tarballs.length !== 1)
  fail(`expected one tarball in ${packDir}, found ${tarballs.join(', ') || 'none'}`, scratch);
const tarball = join(packDir, tarballs[0]);

// 2. What the tarball holds: dist and README, no sources or tests, and a package.json whose exports
// all exist and carry no @ml/source condition.
const listing = run('tar', ['-tzf', tarball], { timeoutS: 60, scratch })
  .output.split('\n')
  .map((l) => l.trim().replace(/^package\//, ''))
  .filter(Boolean);
const files = new Set(listing);
for (const required of [
  'package.json',
  'README.md',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/testing/index.js',
]) {
  if (!files.has(required)) fail(`the tarball lacks ${required}`, scratch);
}
const stray = listing.filter(
  (f) =>
    !(f === 'package.json' || f === 'README.md' || f === 'LICENSE' || f.startsWith('dist/')) ||
    /\.test\.(js|d\.ts)/.test(f),
);
if (stray.length > 0)
  fail(`the tarball holds files users should not get: ${stray.slice(0, 10).join(', ')}`, scratch);
run('tar', ['-xzf', tarball, '-C', packDir, 'package/package.json'], { timeoutS: 60, scratch });
const manifest = JSON.parse(readFileSync(join(packDir, 'package', 'package.json'), 'utf8'));
if (JSON.stringify(manifest.exports ?? null).includes('@ml/source'))
  fail(
    'the packed exports still carry the @ml/source condition (publishConfig.exports not applied)',
    scratch,
  );
if (JSON.stringify(manifest).includes('workspace:'))
  fail('the packed package.json still holds workspace: ranges', scratch);
const targets = [];
(function collect(node) {
  if (typeof node === 'string') targets.push(node);
  else if (node && typeof node === 'object') Object.values(node).forEach(collect);
})(manifest.exports);
for (const t of targets)
  if (!t.includes('*') && !files.has(t.replace(/^\.\//, '')))
    fail(`exports names ${t}, which is not in the tarball`, scratch);
const tarballKb = statSync(tarball).size / 1024;

// 3. A scratch project outside the repo, installed with npm as a user would.
const project = join(scratch, 'project');
mkdirSync(project);
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'ml-pack-check', version: '1.0.0', private: true }, null, 2)}\n`,
);
const install = run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, TFJS_CORE], {
  cwd: project,
  timeoutS: 600,
  scratch,
});

// Exactly one copy of tfjs-core: a second one would hold its own kernel and gradient registries.
const copies = [];
(function scan(dir, depth) {
  if (depth > 6 || !existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === '@tensorflow' && existsSync(join(p, 'tfjs-core', 'package.json')))
      copies.push(join(p, 'tfjs-core'));
    if (name === 'node_modules' || name.startsWith('@')) scan(p, depth + 1);
    else if (existsSync(join(p, 'node_modules'))) scan(join(p, 'node_modules'), depth + 1);
  }
})(join(project, 'node_modules'), 0);
if (copies.length !== 1)
  fail(
    `expected one @tensorflow/tfjs-core in the install, found ${copies.length}: ${copies.join(', ')}`,
    scratch,
  );

// 4. Train with plain node, as an ES module and as CommonJS. The body is shared; only how it gets
// the libraries differs. It prints one `RESULT {json}` line.
const body = `
async function main(ml, tf, testing, resolveSpecifier) {
  const { useBackend, Sequential, Linear, ReLU, Rng, Adam, SGD, saveModule, loadModule, CosineWithWarmup } = ml;
  const backend = await useBackend('wasm');
  if (backend !== 'wasm' || tf.getBackend() !== 'wasm') throw new Error('wasm backend not active: ' + backend + ' / ' + tf.getBackend());
  // The exports map: the root and ./testing resolve, ./internal/* is blocked.
  for (const s of ['@ml/core', '@ml/core/testing']) resolveSpecifier(s);
  let blocked = false;
  try { resolveSpecifier('@ml/core/internal/gradient-fixes.js'); } catch (e) { blocked = e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED'; }
  if (!blocked) throw new Error('@ml/core/internal/* is not blocked by the exports map');
  if (typeof testing.expectTensorsClose !== 'function') throw new Error('@ml/core/testing lacks expectTensorsClose');

  // A fixed regression task: y = relu(x·a) + 0.5 for 64 samples of 4 features.
  const rng = new Rng(1);
  const x = rng.normalTensor([64, 4]);
  const y = tf.tidy(() => tf.add(tf.relu(tf.matMul(x, tf.tensor2d([[1], [-2], [0.5], [1.5]]))), 0.5));
  const makeModel = (seed) => new Sequential([new Linear({ inFeatures: 4, outFeatures: 16, seed }), new ReLU(), new Linear({ inFeatures: 16, outFeatures: 1, seed: seed + 1 })]);
  const model = makeModel(7);
  const lossFn = () => tf.mean(tf.square(tf.sub(model.forward(x), y)));

  // Gradients reach every parameter.
  const opt = new Adam(model, { lr: 0.02 });
  const { loss: l0, grads } = opt.computeGradients(lossFn);
  for (const [name] of model.namedParameters()) {
    const g = grads[name];
    if (!g) throw new Error('no gradient for ' + name);
    const norm = (await tf.norm(g).data())[0];
    if (!(norm > 0 && Number.isFinite(norm))) throw new Error('gradient of ' + name + ' has norm ' + norm);
  }
  const first = (await l0.data())[0];
  tf.dispose([l0, ...Object.values(grads)]);

  const schedule = new CosineWithWarmup({ lr: 0.02, warmupSteps: 10, totalSteps: 150 });
  let last = first;
  let before = 0;
  for (let step = 0; step < 150; step++) {
    // Count live tensors after the first step, which creates Adam's moment buffers.
    if (step === 1) before = tf.memory().numTensors;
    opt.lr = schedule.lrAt(step);
    const loss = opt.minimize(lossFn, { clipNorm: 5 });
    if (step === 149) last = (await loss.data())[0];
    loss.dispose();
  }
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(leaked + ' tensors leaked over 149 training steps');

  // Checkpoint round trip through a file (node:fs is imported lazily by @ml/core).
  const path = CHECKPOINT;
  await saveModule(path, model, { metadata: { step: '150' } });
  const copy = makeModel(100);
  const { metadata } = await loadModule(path, copy);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(copy.forward(x), model.forward(x)))));
  const maxDiff = (await diff.data())[0];
  if (metadata.step !== '150' || maxDiff !== 0) throw new Error('checkpoint round trip differs by ' + maxDiff);

  // SGD too: one step moves the loss down.
  const sgd = new SGD(copy, { lr: 0.01, momentum: 0.9 });
  const s0 = sgd.minimize(() => tf.mean(tf.square(tf.sub(copy.forward(x), y))));
  const s1 = sgd.minimize(() => tf.mean(tf.square(tf.sub(copy.forward(x), y))));
  const [a, b] = [(await s0.data())[0], (await s1.data())[0]];
  tf.dispose([s0, s1, diff, x, y]);
  if (!(b < a)) throw new Error('SGD did not lower the loss: ' + a + ' -> ' + b);
  console.log('RESULT ' + JSON.stringify({ backend, first, last, ratio: first / last }));
}
`;
const checkpoint = (kind) => JSON.stringify(join(project, `model-${kind}.safetensors`));
writeFileSync(
  join(project, 'check-esm.mjs'),
  `import * as ml from '@ml/core';\nimport * as testing from '@ml/core/testing';\nimport * as tf from '@tensorflow/tfjs-core';\n` +
    `const CHECKPOINT = ${checkpoint('esm')};\n${body}\n` +
    `// import.meta.resolve checks the "import" side of the exports map.\n` +
    `await main(ml, tf, testing, (s) => import.meta.resolve(s)).catch((e) => { console.error(e); process.exit(1); });\n`,
);
writeFileSync(
  join(project, 'check-cjs.cjs'),
  `'use strict';\nconst ml = require('@ml/core');\nconst testing = require('@ml/core/testing');\nconst tf = require('@tensorflow/tfjs-core');\n` +
    `const CHECKPOINT = ${checkpoint('cjs')};\n${body}\n` +
    `main(ml, tf, testing, (s) => require.resolve(s)).catch((e) => { console.error(e); process.exit(1); });\n`,
);

const results = {};
for (const [kind, file] of [
  ['ESM', 'check-esm.mjs'],
  ['CJS', 'check-cjs.cjs'],
]) {
  const { output, seconds } = run(process.execPath, [file], {
    cwd: project,
    timeoutS: 180,
    scratch,
    // @ml/core is ESM only; CommonJS loads it through require(esm), on by default from Node 20.19.
    hint: (out) =>
      out.includes('ERR_REQUIRE_ESM')
        ? ` (require() of an ES module needs Node >= 20.19; this is ${process.version})`
        : '',
  });
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) fail(`${kind} script printed no RESULT line:\n${output}`, scratch);
  const r = JSON.parse(line.slice('RESULT '.length));
  console.log(
    `pack-check: ${kind} (plain node ${process.version}) trained on ${r.backend}: loss ${r.first.toFixed(4)} → ${r.last.toFixed(5)} (÷${r.ratio.toFixed(1)}) in ${seconds.toFixed(1)} s`,
  );
  if (!(r.ratio >= MIN_LOSS_RATIO))
    fail(`${kind}: loss fell only ${r.ratio.toFixed(2)}×, less than ${MIN_LOSS_RATIO}×`, scratch);
  results[kind] = r;
}

if (!args.has('--keep')) rmSync(scratch, { recursive: true, force: true });
console.log(
  `pack-check: OK — ${manifest.name}@${manifest.version} packed (${listing.length} files, ${tarballKb.toFixed(0)} kB), npm-installed outside the repo in ${install.seconds.toFixed(0)} s; ` +
    `ESM and CommonJS each trained on wasm (loss ÷${results.ESM.ratio.toFixed(0)}, ÷${results.CJS.ratio.toFixed(0)}); ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
);
