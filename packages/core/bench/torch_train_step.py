#!/usr/bin/python3
"""One training step of the three benchmark models in PyTorch, for train-step.ts to compare against.

Same shapes, layers, loss and optimizer (Adam, lr 1e-3) as the tfjs side. Run with one thread:
OMP_NUM_THREADS=1 /usr/bin/python3 torch_train_step.py <reps> [model,...]
Prints one JSON line: {"torch": version, "threads": n, "results": {model: [ms, ...]}}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)


def mlp():
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    x, y = torch.randn(128, 784), torch.randint(0, 10, (128,))
    return net, lambda: F.cross_entropy(net(x), y)


def cnn():
    # Seed 002's network (NCHW here; the tfjs side is NHWC with the same shapes).
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


MODELS = {'mlp': mlp, 'cnn': cnn, 'transformer': transformer}


def main():
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
