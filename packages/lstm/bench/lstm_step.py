"""PyTorch side of bench/train-step.ts: times an nn.LSTM training step on 1 CPU thread.

Reads the config as JSON from argv[1]; prints {"train": {"wallMs": [...], "cpuMs": [...]}, "torch": ...}
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




for _ in range(cfg['warmup']):
    train_step()
train = rounds(train_step, cfg['rounds'], cfg['iters'])
print(json.dumps({'train': train, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
