"""PyTorch side of bench/encoder-layer.ts: times nn.TransformerEncoderLayer on 1 CPU thread.

Reads the config as JSON from argv[1]; prints {"forwardMs": [...], "trainMs": [...]} (one median per round).
"""
import json
import statistics
import sys
import time

import torch

torch.set_num_threads(1)
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


def rounds(fn, iters):
    out = []
    for _ in range(cfg['rounds']):
        times = []
        for _ in range(iters):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
        out.append(statistics.median(times))
    return out


layer.eval()
for _ in range(cfg['warmup']):
    forward()
fwd = rounds(forward, cfg['iters'])
layer.train()
for _ in range(cfg['warmup']):
    train_step()
train = rounds(train_step, cfg['iters'])
print(json.dumps({'forwardMs': fwd, 'trainMs': train, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
