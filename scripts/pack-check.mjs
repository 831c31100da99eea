#!/usr/bin/env node
// "As a user installs it", for every published package: builds each non-private package under packages/
// (found at run time, so a package added later is checked with no change here), packs it with `pnpm pack`
// (publishConfig and catalog versions applied, as on npm), checks each tarball's contents and manifest,
// runs publint and are-the-types-wrong on it, installs all the tarballs with npm into one scratch project
// outside the repo together with their declared peers from the registry, and then, with plain `node` (no
// bundler, no vitest, no tsx, no source condition):
//   - imports every export of every package as an ES module and with require(), and checks that each
//     value its .d.ts declares is there at run time;
//   - runs an ES module and a CommonJS script that each train a small model with @ml/core on wasm;
//   - resolves @ml/core's subpaths (".", "./testing", "./plain", "./vite") and checks "./internal/*" is blocked.
// Then it installs only the @ml/svm and @ml/core tarballs into a second scratch project (no tfjs: the
// SVMs are plain TypeScript) and checks that no @tensorflow package arrived and that an SVC fits and
// predicts with plain node.
// Exits non-zero on any failure and prints one summary line.
//
//   node scripts/pack-check.mjs [--skip-build] [--keep]
//     --skip-build  pack the existing dist/ folders (for iterating on this script)
//     --keep        leave the scratch project in place (it is always kept when a check fails)
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const CORE = '@ml/core';
// Installed alone with @ml/core, without any tfjs package.
const SVM = '@ml/svm';
// Peers whose install scripts download native libraries from outside the npm registry: never installed.
const NATIVE_PEERS = new Set(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']);
// Loss must fall by at least this factor in each @ml/core training script.
const MIN_LOSS_RATIO = 5;
const args = new Set(process.argv.slice(2));
const started = Date.now();
const isWindows = process.platform === 'win32';
let scratch = null;

function fail(message) {
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
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1' };
}

function spawnArgs(cmd, cmdArgs) {
  const shell = isWindows && cmd !== process.execPath; // npm and pnpm are .cmd shims on Windows
  return [cmd, shell ? cmdArgs.map((a) => (/\s/.test(a) ? `"${a}"` : a)) : cmdArgs, shell];
}

function describeFailure(cmd, cmdArgs, error, status, timeoutS) {
  const why =
    error?.code === 'ETIMEDOUT'
      ? `timed out after ${timeoutS} s`
      : error
        ? error.message
        : `exit code ${status}`;
  return `\`${cmd} ${cmdArgs.join(' ')}\` ${why}`;
}

/** Runs a command to completion; fails the check (printing its output) unless it exits 0. */
function run(cmd, cmdArgs, { cwd = ROOT, timeoutS, hint } = {}) {
  const t0 = Date.now();
  const [c, a, shell] = spawnArgs(cmd, cmdArgs);
  const r = spawnSync(c, a, {
    cwd,
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: timeoutS * 1000,
    shell,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0) {
    console.error(output.split('\n').slice(-40).join('\n'));
    fail(`${describeFailure(cmd, cmdArgs, r.error, r.status, timeoutS)}${hint ? hint(output) : ''}`);
  }
  return { output, seconds: (Date.now() - t0) / 1000 };
}

/** Runs a command in the background; resolves to { ok, output, seconds } (never rejects). */
function runAsync(cmd, cmdArgs, { cwd = ROOT, timeoutS }) {
  const t0 = Date.now();
  const [c, a, shell] = spawnArgs(cmd, cmdArgs);
  return new Promise((done) => {
    const child = spawn(c, a, { cwd, env: cleanEnv(), shell });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const ok = status === 0;
      const why = signal ? `killed by ${signal} (limit ${timeoutS} s)` : `exit code ${status}`;
      done({
        ok,
        output: ok ? output : `${output}\n\`${cmd} ${cmdArgs.join(' ')}\` ${why}`,
        seconds: (Date.now() - t0) / 1000,
      });
    });
  });
}

/** Runs `jobs` (functions returning promises) at most `width` at a time, in order of the results. */
async function pool(jobs, width) {
  const results = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

// 0. The packages: every folder under packages/ with a package.json that is not private.
const packages = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'package.json')))
  .map((d) => {
    const dir = join(ROOT, 'packages', d.name);
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
  })
  .filter((p) => p.manifest.private !== true)
  .map((p) => ({ ...p, name: p.manifest.name }))
  .sort((a, b) => a.name.localeCompare(b.name));
if (!packages.some((p) => p.name === CORE)) fail(`no ${CORE} under packages/`);
for (const p of packages)
  if (typeof p.manifest.scripts?.build !== 'string') fail(`${p.name} has no build script`);

// The catalog (pnpm-workspace.yaml): the one place tfjs versions are named; packed manifests must carry them.
const catalog = {};
{
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const section = /^catalog:\s*\n((?:[ \t]+.*\n?)*)/m.exec(yaml)?.[1] ?? '';
  for (const m of section.matchAll(/^[ \t]+['"]?([^'":\s]+)['"]?:\s*['"]?([^'"\s#]+)/gm))
    catalog[m[1]] = m[2];
}

// 1. Build from clean dist/ folders (tsc never deletes the output of a removed source file, which would
// otherwise ship). turbo builds workspace dependencies first and restores unchanged builds from its cache.
const stages = [];
const stage = (name, since) => stages.push(`${name} ${((Date.now() - since) / 1000).toFixed(0)} s`);
let t = Date.now();
if (!args.has('--skip-build')) {
  for (const p of packages) rmSync(join(p.dir, 'dist'), { recursive: true, force: true });
  run(
    join(BIN, 'turbo'),
    [
      'run',
      'build',
      '--concurrency=2',
      '--output-logs=errors-only',
      ...packages.map((p) => `--filter=${p.name}`),
    ],
    { timeoutS: 600 },
  );
}
for (const p of packages)
  if (!existsSync(join(p.dir, 'dist'))) fail(`${p.name} has no dist/ after its build`);
stage('build', t);
t = Date.now();

scratch = mkdtempSync(join(tmpdir(), 'ml-pack-check-'));
const rel = relative(ROOT, scratch);
if (!rel.startsWith('..') && !isAbsolute(rel))
  fail(`the scratch folder ${scratch} lies inside the repo; set TMPDIR to a folder outside it`);
const packDir = join(scratch, 'pack');
mkdirSync(packDir);

// 2. Pack each package and check what its tarball holds.
const packResults = await pool(
  packages.map(
    (p) => () =>
      runAsync('pnpm', ['pack', '--pack-destination', join(packDir, p.dir.split(/[\\/]/).pop())], {
        cwd: p.dir,
        timeoutS: 120,
      }),
  ),
  2,
);
packages.forEach((p, i) => {
  if (!packResults[i].ok) fail(`packing ${p.name}:\n${packResults[i].output}`);
  const out = join(packDir, p.dir.split(/[\\/]/).pop());
  const tgz = readdirSync(out).filter((f) => f.endsWith('.tgz'));
  if (tgz.length !== 1)
    fail(`expected one tarball for ${p.name} in ${out}, found ${tgz.join(', ') || 'none'}`);
  p.tarball = join(out, tgz[0]);
  p.files = run('tar', ['-tzf', p.tarball], { timeoutS: 60 })
    .output.split('\n')
    .map((l) => l.trim().replace(/^package\//, ''))
    .filter(Boolean);
  run('tar', ['-xzf', p.tarball, '-C', out, 'package/package.json'], { timeoutS: 60 });
  p.packed = JSON.parse(readFileSync(join(out, 'package', 'package.json'), 'utf8'));
  checkTarball(p);
});

function checkTarball(p) {
  const files = new Set(p.files);
  const m = p.packed;
  const where = `${p.name}'s tarball`;
  for (const required of ['package.json', 'README.md', 'LICENSE'])
    if (!files.has(required)) fail(`${where} lacks ${required}`);
  const stray = p.files.filter(
    (f) =>
      !(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f) || f.startsWith('dist/')) ||
      /\.test(-d)?\.(js|d\.ts)(\.map)?$/.test(f),
  );
  if (stray.length > 0) fail(`${where} holds files users should not get: ${stray.slice(0, 10).join(', ')}`);
  const text = JSON.stringify(m);
  if (JSON.stringify(m.exports ?? null).includes('@ml/source'))
    fail(`${where}: exports still carry the @ml/source condition (publishConfig.exports not applied)`);
  for (const protocol of ['workspace:', 'catalog:'])
    if (text.includes(`"${protocol}`)) fail(`${where}: package.json still holds ${protocol} ranges`);
  if (typeof m.engines?.node !== 'string') fail(`${where}: package.json declares no engines.node`);
  if (m.license !== 'MIT') fail(`${where}: license is ${m.license}, not MIT`);
  for (const field of ['dependencies', 'peerDependencies', 'devDependencies'])
    for (const [dep, range] of Object.entries(m[field] ?? {}))
      if (dep in catalog && range !== catalog[dep])
        fail(`${where}: ${field}.${dep} is ${range}, not the catalog's ${catalog[dep]}`);
  if (m.exports?.['.'] === undefined) fail(`${where}: package.json has no exports["."]`);
  const targets = [];
  (function collect(node) {
    if (typeof node === 'string') targets.push(node);
    else if (node && typeof node === 'object') Object.values(node).forEach(collect);
  })(m.exports);
  for (const t of targets)
    if (!t.includes('*') && !files.has(t.replace(/^\.\//, '')))
      fail(`${where}: exports names ${t}, which is not in the tarball`);
}

// 3. publint and are-the-types-wrong on each tarball. Our packages are ES modules only (CommonJS users
// reach them through require(esm), Node >= 20.19), hence attw's esm-only profile.
const lintJobs = packages.flatMap((p) => [
  async () => ({
    p,
    tool: 'publint',
    ...(await runAsync(join(BIN, 'publint'), ['run', p.tarball, '--strict'], { timeoutS: 120 })),
  }),
  async () => ({
    p,
    tool: 'attw',
    ...(await runAsync(
      join(BIN, 'attw'),
      [p.tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-emoji', '--no-color', '--no-summary'],
      { timeoutS: 180 },
    )),
  }),
]);

// 4. One scratch project outside the repo, installed with npm as a user would: every tarball, and every
// peer the packed packages declare (with the versions they declare), except native ones.
const peers = new Map();
for (const p of packages) {
  const meta = p.packed.peerDependenciesMeta ?? {};
  for (const [dep, range] of Object.entries(p.packed.peerDependencies ?? {})) {
    if (NATIVE_PEERS.has(dep) || packages.some((q) => q.name === dep)) continue;
    // Optional peers are optional features; install the tfjs ones (the backends), not e.g. extra datasets.
    if (meta[dep]?.optional === true && !dep.startsWith('@tensorflow/')) continue;
    const prev = peers.get(dep);
    if (prev !== undefined && prev !== range) fail(`peer ${dep} is declared as both ${prev} and ${range}`);
    peers.set(dep, range);
  }
}
const project = join(scratch, 'project');
mkdirSync(project);
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'ml-pack-check', version: '1.0.0', private: true, type: 'commonjs' }, null, 2)}\n`,
);
const [install, ...lintResults] = await Promise.all([
  runAsync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...packages.map((p) => p.tarball),
      ...[...peers].map(([dep, range]) => `${dep}@${range}`),
    ],
    { cwd: project, timeoutS: 600 },
  ),
  pool(lintJobs, 2),
]).then(([i, l]) => [i, ...l]);
for (const r of lintResults)
  if (!r.ok)
    fail(`${r.tool} found problems in ${r.p.name}:\n${r.output.trim().split('\n').slice(-40).join('\n')}`);
if (!install.ok) fail(`npm install:\n${install.output.split('\n').slice(-40).join('\n')}`);
stage('pack, publint, attw and npm install', t);
t = Date.now();

// Each @ml package exactly once, from our tarball (never a same-named package from the registry), and
// exactly one copy of tfjs-core: a second one would hold its own kernel and gradient registries.
const found = new Map();
(function scan(dir, depth) {
  if (depth > 8 || !existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name.startsWith('@')) {
      for (const sub of readdirSync(p)) {
        const q = join(p, sub);
        const full = `${name}/${sub}`;
        if (existsSync(join(q, 'package.json'))) found.set(full, [...(found.get(full) ?? []), q]);
        if (existsSync(join(q, 'node_modules'))) scan(join(q, 'node_modules'), depth + 1);
      }
    } else if (existsSync(join(p, 'node_modules'))) scan(join(p, 'node_modules'), depth + 1);
  }
})(join(project, 'node_modules'), 0);
for (const name of ['@tensorflow/tfjs-core', ...packages.map((p) => p.name)]) {
  const copies = found.get(name) ?? [];
  if (copies.length !== 1)
    fail(`expected one ${name} in the install, found ${copies.length}: ${copies.join(', ')}`);
}
for (const p of packages) {
  const installed = JSON.parse(readFileSync(join(project, 'node_modules', p.name, 'package.json'), 'utf8'));
  if (JSON.stringify(installed) !== JSON.stringify(p.packed))
    fail(
      `node_modules/${p.name} is not the package from our tarball (${installed.name}@${installed.version})`,
    );
}

// 5. Import smoke test. For every export of every package (".", "./testing", …), the value names its
// .d.ts declares (classes, functions, constants: what a user can import) are read with the TypeScript
// compiler; then plain node imports the entry as an ES module and with require() and checks each is there.
const ts = createRequire(import.meta.url)('typescript');
const entries = [];
for (const p of packages)
  for (const [key, value] of Object.entries(p.packed.exports)) {
    if (value === null || key.includes('*') || key === './package.json') continue;
    const types = typeof value === 'object' ? value.types : undefined;
    if (typeof types !== 'string') fail(`${p.name}: exports["${key}"] names no types`);
    entries.push({
      specifier: key === '.' ? p.name : `${p.name}/${key.replace(/^\.\//, '')}`,
      dts: join(project, 'node_modules', p.name, types),
    });
  }
{
  const program = ts.createProgram(
    entries.map((e) => e.dts),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      skipLibCheck: true,
      noEmit: true,
      types: [],
    },
  );
  const checker = program.getTypeChecker();
  const isTypeOnly = (s) =>
    (s.declarations ?? []).some(
      (d) => ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly),
    );
  for (const e of entries) {
    const sf = program.getSourceFile(e.dts);
    const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
    if (!moduleSymbol) fail(`${e.specifier}: cannot read ${e.dts}`);
    e.names = checker
      .getExportsOfModule(moduleSymbol)
      .filter((s) => {
        if (isTypeOnly(s)) return false;
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        return (target.flags & ts.SymbolFlags.Value) !== 0 && (target.flags & ts.SymbolFlags.ConstEnum) === 0;
      })
      .map((s) => s.getName())
      .sort();
    if (e.names.length === 0) fail(`${e.specifier}: its .d.ts exports no values`);
  }
}
const smokeBody = `
const entries = ${JSON.stringify(entries.map((e) => ({ specifier: e.specifier, names: e.names })))};
async function smoke(load) {
  const out = [];
  for (const { specifier, names } of entries) {
    let mod;
    try { mod = await load(specifier); } catch (e) { out.push(specifier + ': cannot be loaded: ' + (e && e.stack || e)); continue; }
    const missing = names.filter((n) => mod[n] === undefined);
    if (missing.length > 0) out.push(specifier + ': declared but missing at run time: ' + missing.join(', '));
  }
  if (out.length > 0) { console.error(out.join('\\n')); process.exit(1); }
  console.log('SMOKE ' + entries.length + ' entries, ' + entries.reduce((n, e) => n + e.names.length, 0) + ' names');
}
`;
writeFileSync(join(project, 'smoke-esm.mjs'), `${smokeBody}\nawait smoke((s) => import(s));\n`);
writeFileSync(join(project, 'smoke-cjs.cjs'), `'use strict';\n${smokeBody}\nsmoke((s) => require(s));\n`);

// 6. Train with @ml/core and plain node, as an ES module and as CommonJS. The body is shared; only how
// it gets the libraries differs. It prints one `RESULT {json}` line.
const body = `
async function main(ml, tf, testing, resolveSpecifier) {
  const { useBackend, Sequential, Linear, ReLU, Rng, Adam, SGD, saveModule, loadModule, CosineWithWarmup } = ml;
  const backend = await useBackend('wasm');
  if (backend !== 'wasm' || tf.getBackend() !== 'wasm') throw new Error('wasm backend not active: ' + backend + ' / ' + tf.getBackend());
  // The exports map: the root and ./testing resolve, ./internal/* is blocked.
  for (const s of ['@ml/core', '@ml/core/testing', '@ml/core/plain', '@ml/core/vite']) resolveSpecifier(s);
  let blocked = false;
  try { resolveSpecifier('@ml/core/internal/gradient-fixes.js'); } catch (e) { blocked = e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED'; }
  if (!blocked) throw new Error('@ml/core/internal/* is not blocked by the exports map');
  if (typeof testing.expectTensorsClose !== 'function') throw new Error('@ml/core/testing lacks expectTensorsClose');

  // A fixed regression task: y = relu(x·a) + 0.5 for 64 samples of 4 features.
  const rng = new Rng(1);
  const x = tf.tensor(rng.normalArray(64 * 4, 0, 1), [64, 4]);
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

// @ml packages are ES modules only; CommonJS loads them through require(esm), on by default from Node 20.19.
const requireEsmHint = (out) =>
  out.includes('ERR_REQUIRE_ESM')
    ? ` (require() of an ES module needs Node >= 20.19; this is ${process.version})`
    : '';
const [smokeEsm, smokeCjs, trainEsm, trainCjs] = await pool(
  ['smoke-esm.mjs', 'smoke-cjs.cjs', 'check-esm.mjs', 'check-cjs.cjs'].map(
    (file) => () => runAsync(process.execPath, [file], { cwd: project, timeoutS: 180 }),
  ),
  2,
);
for (const [kind, r] of [
  ['ESM import smoke test', smokeEsm],
  ['CommonJS require smoke test', smokeCjs],
  ['ESM training script', trainEsm],
  ['CommonJS training script', trainCjs],
])
  if (!r.ok) fail(`${kind}:\n${r.output.split('\n').slice(-40).join('\n')}${requireEsmHint(r.output)}`);
stage('import smoke tests and training', t);
const smokeLine = smokeEsm.output.split('\n').find((l) => l.startsWith('SMOKE ')) ?? '';

const results = {};
for (const [kind, r] of [
  ['ESM', trainEsm],
  ['CJS', trainCjs],
]) {
  const line = r.output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) fail(`${kind} training script printed no RESULT line:\n${r.output}`);
  const result = JSON.parse(line.slice('RESULT '.length));
  console.log(
    `pack-check: ${kind} (plain node ${process.version}) trained on ${result.backend}: loss ${result.first.toFixed(4)} → ${result.last.toFixed(5)} (÷${result.ratio.toFixed(1)}) in ${r.seconds.toFixed(1)} s`,
  );
  if (!(result.ratio >= MIN_LOSS_RATIO))
    fail(`${kind}: loss fell only ${result.ratio.toFixed(2)}×, less than ${MIN_LOSS_RATIO}×`);
  results[kind] = result;
}

// 7. @ml/svm needs no tensor engine: a second scratch project gets only the @ml/svm and @ml/core tarballs
// (tfjs is an optional peer of both, so npm installs none), must hold no node_modules/@tensorflow, and
// fits and predicts an SVC with plain node through @ml/core/plain.
t = Date.now();
const svmPackage = packages.find((p) => p.name === SVM);
const corePackage = packages.find((p) => p.name === CORE);
if (!svmPackage) fail(`no ${SVM} under packages/`);
const svmProject = join(scratch, 'svm-only');
mkdirSync(svmProject);
writeFileSync(
  join(svmProject, 'package.json'),
  `${JSON.stringify({ name: 'ml-pack-check-svm', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`,
);
const svmInstall = await runAsync(
  'npm',
  ['install', '--no-audit', '--no-fund', '--loglevel=error', corePackage.tarball, svmPackage.tarball],
  { cwd: svmProject, timeoutS: 300 },
);
if (!svmInstall.ok)
  fail(`npm install of ${SVM} alone:\n${svmInstall.output.split('\n').slice(-40).join('\n')}`);
const svmTf = join(svmProject, 'node_modules', '@tensorflow');
if (existsSync(svmTf))
  fail(
    `installing ${SVM} and ${CORE} alone brought node_modules/@tensorflow (${readdirSync(svmTf).join(', ')})`,
  );
writeFileSync(
  join(svmProject, 'check-svm.mjs'),
  `import { SVC } from '@ml/svm';
import { Rng } from '@ml/core/plain';

// Two Gaussian blobs in 2-D, 30 points each, centred at (-2, -2) and (2, 2).
const rng = new Rng(3);
const x = [];
const y = [];
for (let i = 0; i < 60; i++) {
  const label = i % 2;
  x.push(Array.from(rng.normalArray(2, label === 1 ? 2 : -2, 1)));
  y.push(label);
}
const svc = new SVC({ kernel: 'rbf', C: 1 });
await svc.fit(x, y);
const predicted = await svc.predict(x);
const accuracy = predicted.filter((p, i) => p === y[i]).length / y.length;
if (!(accuracy >= 0.95)) throw new Error('SVC training accuracy ' + accuracy + ' < 0.95');
const [near] = await svc.predict([[2.5, 2.5]]);
if (near !== 1) throw new Error('SVC predicts ' + near + ' for (2.5, 2.5), not 1');
console.log('SVM ' + JSON.stringify({ accuracy, n: x.length }));
`,
);
const svmRun = await runAsync(process.execPath, ['check-svm.mjs'], { cwd: svmProject, timeoutS: 120 });
if (!svmRun.ok) fail(`${SVM} without tfjs:\n${svmRun.output.split('\n').slice(-40).join('\n')}`);
const svmLine = svmRun.output.split('\n').find((l) => l.startsWith('SVM '));
if (!svmLine) fail(`the ${SVM}-only script printed no SVM line:\n${svmRun.output}`);
const svmResult = JSON.parse(svmLine.slice('SVM '.length));
stage(`${SVM}-only install and SVC`, t);

if (!args.has('--keep')) rmSync(scratch, { recursive: true, force: true });
console.log(
  `pack-check: OK — ${packages.length} packages (${packages.map((p) => `${p.name}@${p.packed.version}`).join(', ')}) packed, ` +
    `passed publint and attw (esm-only), npm-installed outside the repo with ${peers.size} peers in ${install.seconds.toFixed(0)} s; ` +
    `every export imports as ESM and CommonJS (${smokeLine.slice('SMOKE '.length)}); ` +
    `@ml/core trained on wasm as ESM and CommonJS (loss ÷${results.ESM.ratio.toFixed(0)}, ÷${results.CJS.ratio.toFixed(0)}); ` +
    `${SVM} + ${CORE} alone installed no @tensorflow package and an SVC fitted with plain node (accuracy ${svmResult.accuracy.toFixed(3)} on ${svmResult.n} points); ${((Date.now() - started) / 1000).toFixed(0)} s in all (${stages.join(', ')})`,
);
