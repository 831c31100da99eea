"""PyTorch side of bench/encoder-layer.ts: times nn.TransformerEncoderLayer on 1 CPU thread.

Reads the config as JSON from argv[1]; prints {"forward": {"wallMs": [...], "cpuMs": [...]}, "train": {...}}
with one median per round.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../tooling/bench'))
from torch_bench import one_thread, rounds  # noqa: E402  (pins OpenBLAS before torch loads)

import torch

one_thread()
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




layer.eval()
for _ in range(cfg['warmup']):
    forward()
fwd = rounds(forward, cfg['rounds'], cfg['iters'])
layer.train()
for _ in range(cfg['warmup']):
    train_step()
train = rounds(train_step, cfg['rounds'], cfg['iters'])
print(json.dumps({'forward': fwd, 'train': train, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
