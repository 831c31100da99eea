import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listCheckpoints } from './checkpoint-dir.js';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('../test/resume-child.ts', import.meta.url));
const STEPS_PER_EPOCH = 15;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Runs test/resume-child.ts in a real Node process; with `killAfterStep` sends SIGKILL as soon as
// the child reports that step (it is then in the middle of the next one or of its pause).
function runChild(args: string[], killAfterStep?: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@ml/source', '--import', 'tsx', CHILD, ...args], {
      cwd: PACKAGE,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killAfterStep !== undefined && stdout.includes(`step ${killAfterStep}\n`)) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ml-resume-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resume after SIGKILL', () => {
  it('a run killed mid-epoch and resumed ends with the uninterrupted run’s weights and history', async () => {
    const fullOut = join(dir, 'full.json');
    const resumedOut = join(dir, 'resumed.json');
    const [full, killed] = await Promise.all([
      runChild([join(dir, 'full-ckpt'), fullOut]),
      // Killed after step 22 of 60: epoch 2, batch 7; its last checkpoint (every 10 steps) is at step 20.
      runChild([join(dir, 'ckpt'), join(dir, 'never.json'), '--pace', '100'], 22),
    ]);
    expect(full.stderr.replace(/=+\nHi, looks like[^\n]*\n=+\n?/g, '').trim()).toBe('');
    expect(full.code).toBe(0);
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.stdout).not.toContain('step 23\n');

    const saved = await listCheckpoints(join(dir, 'ckpt'));
    const latest = saved.find((c) => c.tags.includes('latest'));
    expect(latest?.step).toBe(20);
    expect((latest?.step as number) % STEPS_PER_EPOCH).not.toBe(0); // a mid-epoch checkpoint

    const resumed = await runChild([join(dir, 'ckpt'), resumedOut, '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.startsWith('start 20\nstep 21\n')).toBe(true);

    const a = JSON.parse(await readFile(fullOut, 'utf8')) as {
      weights: Record<string, number[]>;
      epochs: unknown[];
      steps: number;
    };
    const b = JSON.parse(await readFile(resumedOut, 'utf8')) as typeof a;
    expect(b.steps).toBe(60);
    expect(b.epochs).toEqual(a.epochs);
    expect(b.weights).toEqual(a.weights);
  }, 30_000);
});
