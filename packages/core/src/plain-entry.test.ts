import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { expect, test } from 'vitest';

import { Rng } from './rng.js';

// `@ml/core/plain` must not load tfjs: a package that needs only errors, Rng and checks (such as @ml/svm)
// then installs and loads no tensor engine. A child `node` process runs with a loader that fails any
// @tensorflow/* import; the main entry, which does load tfjs, is the control that the loader works.
function runEntry(entry: string): ReturnType<typeof spawnSync> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  return spawnSync(
    process.execPath,
    [
      '--conditions=@ml/source',
      '--import',
      'tsx',
      '--import',
      './test/forbid-tfjs.mjs',
      'test/plain-entry.mjs',
      entry,
    ],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
}

test('@ml/core/plain gives errors, Rng and checks without importing any @tensorflow package', () => {
  const res = runEntry('@ml/core/plain');
  expect(res.status, String(res.stderr)).toBe(0);
  const out = JSON.parse(String(res.stdout).trim().split('\n').at(-1)!) as {
    draws: number[];
    named: string;
    exports: string[];
  };
  expect(out.draws).toEqual(Array.from(new Rng(7).normalArray(3)));
  expect(out.named).toBe('ConfigError: svm: C must be a positive integer, got 0');
  expect(out.exports).toEqual(
    expect.arrayContaining(['BackendError', 'ConfigError', 'Rng', 'manualSeed', 'resolveRng', 'checkRange']),
  );
});

test('control: the main entry does import tfjs, so the loader would catch a plain entry that did', () => {
  const res = runEntry('@ml/core');
  expect(res.status).not.toBe(0);
  expect(String(res.stderr)).toMatch(/FORBIDDEN import of @tensorflow\/tfjs-core/);
});
