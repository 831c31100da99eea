"""PyTorch side of bench/train-step.ts: times an nn.LSTM training step on 1 CPU thread.

Reads the config as JSON from argv[1]; prints {"train": {"wallMs": [...], "cpuMs": [...]}, "torch": ...}
with one median per round.
"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../tooling/bench'))
import blas_arch  # noqa: E402,F401  pins OpenBLAS to the real CPU; must precede torch/numpy

from threadpoolctl import threadpool_limits
import torch

torch.set_num_threads(1)
# Debian's torch runs its products on OpenBLAS, whose own thread pool torch.set_num_threads does not
# reach: without this limit "1 thread" used every core for the matrix products.
threadpool_limits(1)
cfg = json.loads(sys.argv[1])
torch.manual_seed(0)
B, T, F, H = cfg['batch'], cfg['steps'], cfg['inputSize'], cfg['hiddenSize']
lstm = torch.nn.LSTM(F, H, batch_first=True)
x = torch.randn(B, T, F)
y = torch.randn(B, H)
opt = torch.optim.Adam(lstm.parameters(), lr=1e-3)


def train_step():
    opt.zero_grad()
    _, (h, _) = lstm(x)
    loss = torch.nn.functional.mse_loss(h[-1], y)
    loss.backward()
    opt.step()


def rounds(fn):
    out = {'wallMs': [], 'cpuMs': []}
    for _ in range(cfg['rounds']):
        wall, cpu = [], []
        for _ in range(cfg['iters']):
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        out['wallMs'].append(statistics.median(wall))
        out['cpuMs'].append(statistics.median(cpu))
    return out


for _ in range(cfg['warmup']):
    train_step()
train = rounds(train_step)
print(json.dumps({'train': train, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
