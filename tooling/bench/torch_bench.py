"""What the PyTorch sides of the package benchmarks share: one-thread PyTorch and the timing rounds.

Import it before anything else that loads torch (it pins OpenBLAS first, see blas_arch).
"""
import statistics
import time

import blas_arch  # noqa: F401  pins OpenBLAS to the real CPU; must precede torch
from threadpoolctl import threadpool_limits
import torch


def one_thread():
    """torch on one thread. Debian's torch runs its products on OpenBLAS, whose own pool
    torch.set_num_threads does not reach: without the limit "1 thread" used every core for products."""
    torch.set_num_threads(1)
    threadpool_limits(1)


def rounds(fn, count, iters):
    """Runs fn count × iters times; per round, the median wall-clock and process-CPU milliseconds."""
    out = {'wallMs': [], 'cpuMs': []}
    for _ in range(count):
        wall, cpu = [], []
        for _ in range(iters):
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        out['wallMs'].append(statistics.median(wall))
        out['cpuMs'].append(statistics.median(cpu))
    return out
