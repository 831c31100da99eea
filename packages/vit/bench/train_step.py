"""PyTorch side of bench/train-step.ts: one training step of the demo ViT on 1 CPU thread.

The model is the demo's (28×28×1 images, patch 7, dim 64, depth 4, 4 heads, MLP 128, dropout 0.1,
exact GELU, LayerNorm eps 1e-6, cls pooling, 10 classes) written with timm's layout; AdamW lr 3e-3,
weight decay 0.01; cross-entropy. Reads the config as JSON from argv[1]; prints
{"forward": {"wallMs": [...], "cpuMs": [...]}, "train": {...}} with one median per round.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../tooling/bench'))
from torch_bench import one_thread, rounds  # noqa: E402  (pins OpenBLAS before torch loads)

import torch
import torch.nn as nn

one_thread()
cfg = json.loads(sys.argv[1])
torch.manual_seed(0)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(cfg['dropout'])

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj_drop(self.proj((attn @ v).transpose(1, 2).reshape(b, n, c)))


class Block(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        p = cfg['dropout']
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(p), nn.Linear(hidden, dim), nn.Dropout(p))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        d, p = cfg['dim'], cfg['patch']
        n = (cfg['image'] // p) ** 2
        self.patch_embed = nn.Conv2d(cfg['channels'], d, p, stride=p)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + n, d) * 0.02)
        self.pos_drop = nn.Dropout(cfg['dropout'])
        self.blocks = nn.Sequential(*[Block(d, cfg['heads'], cfg['mlp']) for _ in range(cfg['depth'])])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.head = nn.Linear(d, cfg['classes'])

    def forward(self, x):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(self.pos_drop(x)))
        return self.head(x[:, 0])


model = ViT()
B = cfg['batch']
x = torch.rand(B, cfg['channels'], cfg['image'], cfg['image'])
y = torch.randint(0, cfg['classes'], (B,))
opt = torch.optim.AdamW(model.parameters(), lr=cfg['lr'], weight_decay=cfg['weightDecay'])
loss_fn = nn.CrossEntropyLoss()


def forward():
    with torch.no_grad():
        model(x)


def train_step():
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()




model.eval()
for _ in range(cfg['warmup']):
    forward()
fwd = rounds(forward, cfg['rounds'], cfg['iters'])
model.train()
for _ in range(cfg['warmup']):
    train_step()
train = rounds(train_step, cfg['rounds'], cfg['iters'])
print(json.dumps({'forward': fwd, 'train': train, 'threads': torch.get_num_threads(), 'torch': torch.__version__}))
