import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { expect, test } from 'vitest';

// Gradients, chained registrations and @ml's wasm kernels must work for a plain Node consumer too, not
// only under vitest's module resolver: run a training script in a child `node` process.
test('a model with a trainable embedding and a conv trains on wasm under plain Node', () => {
  const script = fileURLToPath(new URL('../test/plain-node-gradients.mjs', import.meta.url));
  const res = spawnSync(process.execPath, ['--conditions=@ml/source', '--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(res.status, res.stderr).toBe(0);
  const out = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as {
    backend: string;
    active: string;
    first: number;
    last: number;
  };
  expect(out.backend).toBe('wasm');
  expect(out.active).toBe('wasm');
  expect(out.last).toBeLessThan(0.5 * out.first);
});
