import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, test } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--conditions=@ml/source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('pnpm demo playground', () => {
  test('--help prints the commands and options and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: pnpm demo playground \[command\] \[options\]/);
    for (const word of ['build', 'preview', '--host', '--port', '--out']) expect(r.stdout).toContain(word);
  });

  test('an unknown command or a bad port exits 2 with the reason and the usage', () => {
    const bad = run('serve');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("playground: expected one command (dev, build or preview), got 'serve'");
    const port = run('--port', 'x');
    expect(port.status).toBe(2);
    expect(port.stderr).toContain("playground: --port must be an integer in [0, 65535], got 'x'");
    expect(port.stderr).toContain('Usage:');
  });
});
