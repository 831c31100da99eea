#!/usr/bin/env node
// The test suite reads the full Fashion-MNIST from Debian's `dataset-fashion-mnist` package. This installs it
// with apt when it is missing (as root), or says exactly what to run.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const DIR = '/usr/share/datasets/fashion-mnist';
const FILE = `${DIR}/train-images-idx3-ubyte.gz`;

if (!existsSync(FILE)) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = isRoot ? [] : ['sudo'];
  console.log(`Fashion-MNIST not found in ${DIR}; installing Debian's dataset-fashion-mnist…`);
  try {
    const run = (cmd) =>
      execFileSync(sudo.length ? 'sudo' : cmd[0], sudo.length ? cmd : cmd.slice(1), {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', 'dataset-fashion-mnist']);
  } catch (e) {
    console.error(
      `Could not install dataset-fashion-mnist (${e.message}). Run: sudo apt-get install dataset-fashion-mnist`,
    );
    process.exit(1);
  }
}
