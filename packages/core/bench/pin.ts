// Pinning for the side-by-side benches: at one thread both sides' computing threads (@ml's main thread,
// PyTorch's) run on the same core. This virtual machine's cores run at different speeds for seconds at a
// time (one GEMM measured 22 and 38 GFLOP/s in consecutive runs), and left to the scheduler the two sides
// could sit on different ones.
import { spawnSync } from 'node:child_process';

/** Where this process's main thread runs, turn by turn. */
export interface Pin {
  /** How one-thread turns are placed, for the output. */
  readonly placement: string;
  /**
   * Places the main thread for a turn of round `round` at `threads` threads: one thread, on core round mod
   * cores; more, on every core. Returns the core (-1: any), for the PyTorch side to pin its thread to. Call
   * it before `useBackend` starts workers: a worker inherits the affinity of the thread starting it.
   */
  turn(round: number, threads: number): number;
  /** Back to every core. */
  release(): void;
}

const unpinned = (why: string): Pin => ({ placement: why, turn: () => -1, release: () => {} });

/** A {@link Pin} through taskset; one that pins nothing where `off`, off Linux, or without taskset. */
export function startPin(off: boolean): Pin {
  if (off) return unpinned('unpinned (--unpinned)');
  const pid = String(process.pid);
  const taskset = (...a: string[]) => spawnSync('taskset', [...a, pid], { encoding: 'utf8' });
  const now = taskset('-p', '-c');
  const list = now.status === 0 ? /list:\s*([\d,-]+)/.exec(now.stdout)?.[1] : undefined;
  if (list === undefined) return unpinned('unpinned (taskset unavailable)');
  const cores = list.split(',').flatMap((part) => {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
  // Only the main thread (taskset -p without -a): V8's helpers and the GEMM's workers keep every core.
  const set = (to: string) => {
    if (taskset('-p', '-c', to).status !== 0) throw new Error(`taskset could not pin pid ${pid} to ${to}`);
  };
  return {
    placement: `both sides on one core, cores ${cores.join(',')} in turn`,
    turn(round, threads) {
      const cpu = threads === 1 ? cores[round % cores.length]! : -1;
      set(cpu >= 0 ? String(cpu) : list);
      return cpu;
    },
    release: () => set(list),
  };
}
