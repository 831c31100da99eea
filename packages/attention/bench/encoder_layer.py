"""PyTorch side of bench/encoder-layer.ts: times nn.TransformerEncoderLayer on 1 CPU thread.

Reads the config as JSON from argv[1]; prints {"forward": {"wallMs": [...], "cpuMs": [...]}, "train": {...}}
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
B, T, D = cfg['batch'], cfg['seqLen'], cfg['dim']
layer = torch.nn.TransformerEncoderLayer(D, cfg['heads'], dim_feedforward=cfg['dimFeedforward'], dropout=cfg['dropout'],
                                         activation=cfg['activation'], batch_first=True, norm_first=cfg['normFirst'])
x = torch.randn(B, T, D)
y = torch.randn(B, T, D)
opt = torch.optim.Adam(layer.parameters(), lr=1e-4)


def forward():
    with torch.no_grad():
        layer(x)


def train_step():
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(layer(x), y)
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


layer.eval()
for _ in range(cfg['warmup']):
    forward()
fwd = rounds(forward)
layer.train()
for _ in range(cfg['warmup']):
    train_step()
train = rounds(train_step)
print(json.dumps({'forward': fwd, 'train': train, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
