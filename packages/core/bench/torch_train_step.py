#!/usr/bin/python3
"""One training step of the benchmark models in PyTorch, for train-step.ts to compare against.

Same shapes, layers, loss and optimizer (Adam, lr 1e-3) as the tfjs side.
  /usr/bin/python3 torch_train_step.py <reps> [model,...] [threads]
prints one JSON line: {"torch": version, "threads": n, "results": {model: [ms, ...]}}.
  /usr/bin/python3 torch_train_step.py --serve
reads lines "<model> <threads> <reps> [<cpu>]" on stdin and answers each with a JSON line {"ms": [...],
"cpu_ms": [...]} (wall-clock and process CPU time per step; models are built once and kept), so that
train-step.ts can interleave PyTorch with its own measurements. With <cpu> ≥ 0 the stepping thread is pinned
to that core (train-step.ts pins its own main thread to the same one), with -1 or none it may run on any.
"""
import json
import os
import math
import sys
import time

# Side by side, the two sides take turns on the same cores: a pool thread left spinning after PyTorch's turn
# (OpenBLAS spins ~2^28 cycles, libgomp a while, before sleeping) would run during @ml's turn and take a
# core from its threads. Idle pool threads sleep at once instead (set before torch loads its libraries).
os.environ.setdefault('OPENBLAS_THREAD_TIMEOUT', '4')
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../tooling/bench'))
import blas_arch  # noqa: E402,F401  pins OpenBLAS to the real CPU; must precede torch/numpy

from threadpoolctl import threadpool_limits
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
# Debian's torch runs its products on OpenBLAS, whose own thread pool torch.set_num_threads does not
# reach: without this limit "1 thread" used every core for the matrix products.
threadpool_limits(1)
torch.manual_seed(0)


def mlp():
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    return net, lambda: F.cross_entropy(net(x), y)


def cnn():
    # The MNIST-style CNN (NCHW here; the tfjs side is NHWC with the same shapes).
    net = nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.LeakyReLU(0.01), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.Linear(1024, 10))
    x, y = torch.randn(50, 1, 28, 28), torch.randint(0, 10, (50,))
    return net, lambda: F.cross_entropy(net(x), y)


class EncoderLayer(nn.Module):
    """Post-norm Transformer encoder layer written out like the tfjs one (same ops, same order)."""

    def __init__(self, d=128, heads=4, ff=512):
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff1, self.ff2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, x):
        b, t, d = x.shape
        split = lambda z: z.reshape(b, t, self.h, self.dh).permute(0, 2, 1, 3)  # [B, H, T, Dh]
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), -1)  # [B, H, T, T]
        ctx = (att @ v).permute(0, 2, 1, 3).reshape(b, t, d)
        h1 = self.ln1(x + self.o(ctx))
        return self.ln2(h1 + self.ff2(torch.relu(self.ff1(h1))))


def transformer():
    net = EncoderLayer()
    x, target = torch.randn(32, 64, 128), torch.randn(32, 64, 128)
    return net, lambda: F.mse_loss(net(x), target)


class LstmRegressor(nn.Module):
    """LSTM(8 -> 128) over 50 steps, Linear(128 -> 1) on the last step."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 128, batch_first=True)
        self.head = nn.Linear(128, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


def lstm():
    net = LstmRegressor()
    x, y = torch.randn(64, 50, 8), torch.randn(64, 1)
    return net, lambda: F.mse_loss(net(x), y)


class Vit(nn.Module):
    """A small pre-norm ViT: patch 4 on 32x32x3, width 128, 4 blocks of 4 heads, MLP 256 (GELU), cls head."""

    def __init__(self, d=128, depth=4, heads=4, mlp=256, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, d, 4, stride=4)
        self.cls = nn.Parameter(torch.zeros(1, 1, d))
        self.pos = nn.Parameter(torch.randn(1, 65, d) * 0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, heads, mlp, dropout=0.0, activation='gelu', batch_first=True,
                                       norm_first=True, layer_norm_eps=1e-6) for _ in range(depth))
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2)  # [B, 64, D]
        t = torch.cat([self.cls.expand(x.shape[0], -1, -1), t], 1) + self.pos
        for block in self.blocks:
            t = block(t)
        return self.head(self.norm(t)[:, 0])


def vit():
    net = Vit()
    x, y = torch.randn(32, 3, 32, 32), torch.randint(0, 10, (32,))
    return net, lambda: F.cross_entropy(net(x), y)


MODELS = {'mlp': mlp, 'cnn': cnn, 'transformer': transformer, 'lstm': lstm, 'vit': vit}


def serve():
    built = {}
    cores = os.sched_getaffinity(0)
    for line in sys.stdin:
        name, threads, reps, *pin = line.split()
        cpu = int(pin[0]) if pin else -1
        os.sched_setaffinity(0, {cpu} if cpu >= 0 else cores)
        torch.set_num_threads(int(threads))
        threadpool_limits(int(threads))
        if name not in built:
            net, loss_fn = MODELS[name]()
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)

            def step(opt=opt, loss_fn=loss_fn):
                opt.zero_grad(set_to_none=True)
                loss = loss_fn()
                loss.backward()
                opt.step()
                return loss.item()

            built[name] = step
        step = built[name]
        for _ in range(2):
            step()
        samples, cpu = [], []
        for _ in range(int(reps)):
            t0, c0 = time.perf_counter(), time.process_time()
            step()
            samples.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        print(json.dumps({'ms': samples, 'cpu_ms': cpu}), flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--serve':
        serve()
        return
    if len(sys.argv) > 3:
        torch.set_num_threads(int(sys.argv[3]))
        threadpool_limits(int(sys.argv[3]))
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    only = sys.argv[2].split(',') if len(sys.argv) > 2 else list(MODELS)
    results = {}
    for name in only:
        net, loss_fn = MODELS[name]()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn()
            loss.backward()
            opt.step()
            return loss.item()

        for _ in range(3):
            step()
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            step()
            samples.append((time.perf_counter() - t0) * 1e3)
        results[name] = samples
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'results': results}))


if __name__ == '__main__':
    main()
