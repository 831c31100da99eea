// Pinning for the side-by-side benches: at one thread both sides' computing threads (@ml's main thread,
// PyTorch's) run on the same core. This virtual machine's cores run at different speeds for seconds at a
// time (one GEMM measured 22 and 38 GFLOP/s in consecutive runs, PyTorch's alongside unchanged), and left
// to the scheduler the two sides could sit on different ones.
import { spawnSync } from 'node:child_process';

/** Pins this process's main thread to one core (-1: back to all it started with), through taskset. */
export interface Pin {
  cores: number[];
  set(cpu: number): void;
}

/** A {@link Pin}, or why there is none (not Linux, no taskset, `--unpinned`). */
export function startPin(unpinned: boolean): Pin | string {
  if (unpinned) return 'unpinned (--unpinned)';
  const pid = String(process.pid);
  const taskset = (...a: string[]) => spawnSync('taskset', [...a, pid], { encoding: 'utf8' });
  const now = taskset('-p', '-c');
  const list = now.status === 0 ? /list:\s*([\d,-]+)/.exec(now.stdout)?.[1] : undefined;
  if (list === undefined) return 'unpinned (taskset unavailable)';
  const cores = list.split(',').flatMap((part) => {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
  return {
    cores,
    set(cpu) {
      // Only the main thread (taskset -p without -a): V8's helpers and the GEMM's workers keep every core.
      if (taskset('-p', '-c', cpu >= 0 ? String(cpu) : list).status !== 0)
        throw new Error(`taskset could not pin pid ${pid} to ${cpu >= 0 ? cpu : list}`);
    },
  };
}
