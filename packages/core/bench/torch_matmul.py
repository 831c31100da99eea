#!/usr/bin/python3
"""Matrix products in PyTorch, for gemm-vs-torch.ts to time side by side with @ml's GEMM.

  /usr/bin/python3 torch_matmul.py --serve
reads lines "<threads> <reps> <cpu> <batch> <m> <k> <n> <transposeA 0|1> <transposeB 0|1>" on stdin and
answers each with a JSON line {"ms": [...]} (wall-clock time of each product); cpu ≥ 0 pins the calling
thread to that core (gemm-vs-torch.ts pins its own to the same one), -1 lets it run on any. Operands are built once per shape
(batch 0: a plain 2-D product) and kept; a transposed operand is a transposed view, as autograd hands
them to the products of a backward pass.
"""
import json
import os
import sys
import time

# The same thread and BLAS settings as torch_train_step.py (see there).
os.environ.setdefault('OPENBLAS_THREAD_TIMEOUT', '4')
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../tooling/bench'))
import blas_arch  # noqa: E402,F401  pins OpenBLAS to the real CPU; must precede torch/numpy

from threadpoolctl import threadpool_limits
import torch

torch.manual_seed(0)


def operand(batch, rows, cols, transposed):
    shape = ([batch] if batch > 0 else []) + ([cols, rows] if transposed else [rows, cols])
    t = torch.randn(*shape)
    return t.transpose(-1, -2) if transposed else t


def serve():
    built = {}
    cores = os.sched_getaffinity(0)
    for line in sys.stdin:
        threads, reps, cpu, batch, m, k, n, ta, tb = (int(v) for v in line.split())
        os.sched_setaffinity(0, {cpu} if cpu >= 0 else cores)
        torch.set_num_threads(threads)
        threadpool_limits(threads)
        key = (batch, m, k, n, ta, tb)
        if key not in built:
            built[key] = (operand(batch, m, k, ta), operand(batch, k, n, tb))
        a, b = built[key]
        for _ in range(2):
            torch.matmul(a, b)
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            torch.matmul(a, b)
            samples.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({'ms': samples}), flush=True)


if __name__ == '__main__':
    serve()
