#!/usr/bin/python3
"""A PyTorch twin of `pnpm demo vit` (apps/vit, @ml/vit's 'M28/7' on Fashion-MNIST) for recipe searches.

Mirrors: patch 7 (16 patches) conv patch-embed with PyTorch default init, [class] token N(0,1e-6),
pos_embed trunc_normal(.02), 4 pre-norm blocks (LN eps 1e-6, qkv bias, exact GELU, MLP 128),
dropout 0.1 at pos_drop / attn proj / MLP fc1-act / MLP fc2, attention dropout 0, drop path 0,
final LN (cls) or fc_norm after mean of patch tokens, head trunc_normal(.02)+zero bias; all Linear
weights trunc_normal(.02), biases 0. AdamW(betas .9/.999, eps 1e-8, wd 0.01 on ALL params),
CosineWithWarmup per step (warmup min(W, total//5), lr*(s+1)/W, cosine to 0 at total steps),
CE with label smoothing, batch 128 shuffled per epoch (last batch of 96 kept), train-set
pixel mean/std standardisation, eval batch 500.

Run with Debian's python3 (torch 1.13) and a single thread, e.g. the demo's default recipe:
  /usr/bin/python3 packages/vit/bench/recipe_twin.py --name default --pos-drop 0 --proj-drop 0 \
      --mlp-drop 0 --head-drop 0.1 --beta2 0.98 --wd-mode matrices --clip 1 --bf16 [--seed N]
Each run appends a line to OUT/results.tsv (name, final accuracy, per-epoch accuracies, seconds, options)
and writes OUT/logs/NAME.log; OUT is --out (default: $TMPDIR or /tmp, then vit-recipe-twin).
"""
import argparse, gzip, json, math, os, sys, time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

DATA = "/usr/share/datasets/fashion-mnist"
DEFAULT_OUT = os.path.join(os.environ.get("TMPDIR", "/tmp"), "vit-recipe-twin")


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data():
    xs = {}
    for split, pre in (("train", "train"), ("test", "t10k")):
        x = load_idx(f"{DATA}/{pre}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
        y = load_idx(f"{DATA}/{pre}-labels-idx1-ubyte.gz").astype(np.int64)
        xs[split] = (torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y))  # [N,1,28,28]
    return xs


def trunc_normal_(t, std):
    # PyTorch/timm trunc_normal_ with absolute bounds [-2, 2] (as @ml/core's init.truncatedNormal)
    return nn.init.trunc_normal_(t, mean=0.0, std=std, a=-2.0, b=2.0)


class Attention(nn.Module):
    def __init__(self, dim, heads, attn_drop, proj_drop, qkv_bias=True):
        super().__init__()
        self.heads, self.hd = heads, dim // heads
        self.scale = self.hd ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.attn_drop = Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = Dropout(proj_drop)

    def forward(self, x):
        B, T, D = x.shape
        H, hd = self.heads, self.hd
        # contiguous 3-D bmm: Debian's torch (generic BLAS) is ~3x slower on strided 4-D matmuls
        qkv = self.qkv(x).reshape(B, T, 3, H, hd).permute(2, 0, 3, 1, 4).reshape(3, B * H, T, hd)
        q = (qkv[0] * self.scale).contiguous()
        k = qkv[1].contiguous()
        v = qkv[2].contiguous()
        a = torch.bmm(q, k.transpose(1, 2)).softmax(-1)  # [B*H, T, T]
        a = self.attn_drop(a)
        x = torch.bmm(a, v).reshape(B, H, T, hd).transpose(1, 2).reshape(B, T, D)
        return self.proj_drop(self.proj(x))


_NPRNG = [np.random.default_rng(0)]


class Dropout(nn.Module):
    """Inverted dropout (as nn.Dropout) with masks from numpy's PCG64: ~2x faster than bernoulli_ here."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        r = torch.from_numpy(_NPRNG[0].random(tuple(x.shape), dtype=np.float32))
        mask = (r >= self.p).to(x.dtype) * (1.0 / (1.0 - self.p))
        return x * mask


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        m = x.new_empty(x.shape[0], 1, 1).bernoulli_(keep) / keep
        return x * m


class Block(nn.Module):
    def __init__(self, dim, heads, mlp, drop, attn_drop, dp, eps, proj_drop=None, qkv_bias=True):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads, attn_drop, drop if proj_drop is None else proj_drop, qkv_bias)
        self.dp1 = DropPath(dp)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.fc1 = nn.Linear(dim, mlp)
        self.drop1 = Dropout(drop)
        self.fc2 = nn.Linear(mlp, dim)
        self.drop2 = Dropout(drop)
        self.dp2 = DropPath(dp)

    def forward(self, x):
        x = x + self.dp1(self.attn(self.norm1(x)))
        h = self.drop1(F.gelu(self.fc1(self.norm2(x))))
        return x + self.dp2(self.drop2(self.fc2(h)))


class ViT(nn.Module):
    def __init__(self, a):
        super().__init__()
        dim, p = 64, 7
        self.pool = a.pool
        self.patch = nn.Conv2d(1, dim, p, p)  # PyTorch default init (kaiming-uniform a=sqrt5), as @ml Conv2d / timm
        n = (28 // p) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, dim))
        self.pos_drop = Dropout(a.pos_drop)
        rates = [a.drop_path * i / 3 for i in range(4)]
        self.blocks = nn.ModuleList(
            [Block(dim, 4, 128, a.mlp_drop, a.attn_drop, r, 1e-6, a.proj_drop, not a.no_qkv_bias)
             for r in rates])
        self.norm = nn.LayerNorm(dim, eps=1e-6)  # 'norm' (cls) or 'fc_norm' (mean)
        self.head_drop = Dropout(a.head_drop)
        self.head = nn.Linear(dim, 10)
        self._init(a)

    def _init(self, a):
        if a.cls_init == "1e-6":
            nn.init.normal_(self.cls_token, std=1e-6)
        elif a.cls_init == "0.02":
            trunc_normal_(self.cls_token, 0.02)
        else:
            nn.init.zeros_(self.cls_token)
        trunc_normal_(self.pos_embed, a.pos_std)
        for name, m in self.named_modules():
            if isinstance(m, nn.Linear):
                if m is self.head and a.head_init == "zero":
                    nn.init.zeros_(m.weight)
                else:
                    trunc_normal_(m.weight, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        if a.patch_init == "trunc":
            trunc_normal_(self.patch.weight, 0.02); nn.init.zeros_(self.patch.bias)
        elif a.patch_init == "lecun":
            fan_in = self.patch.weight[0].numel()
            trunc_normal_(self.patch.weight, math.sqrt(1.0 / fan_in) / .87962566103423978)
            nn.init.zeros_(self.patch.bias)
        elif a.patch_init == "xavier":  # MAE / jax style: xavier_uniform on the flattened weight
            w = self.patch.weight
            nn.init.xavier_uniform_(w.view(w.shape[0], -1)); nn.init.zeros_(self.patch.bias)

    def forward(self, x):
        B = x.shape[0]
        # the strided conv as reshape + matmul (as @ml's 'matmul' method; same numbers, faster here)
        g = 28 // 7
        p = x.reshape(B, g, 7, g, 7).permute(0, 1, 3, 2, 4).reshape(B, g * g, 49)  # [B,16,49] row-major
        t = F.linear(p, self.patch.weight.reshape(64, 49), self.patch.bias)  # [B,16,64]
        t = torch.cat([self.cls_token.expand(B, -1, -1), t], 1) + self.pos_embed
        t = self.pos_drop(t)
        for b in self.blocks:
            t = b(t)
        if self.pool == "cls":
            t = self.norm(t)[:, 0]
        else:
            t = self.norm(t[:, 1:].mean(1))
        return self.head(self.head_drop(t))


def lr_at(step, lr, warmup, total, min_lr):
    if step < warmup:
        return lr * (step + 1) / warmup
    span = total - warmup
    k = min(step - warmup, span)
    return min_lr + (lr - min_lr) * (1 + math.cos(math.pi * k / span)) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0, help="debug: at most N train images")
    # fixed by the spec (exposed only for checking)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=0.01)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.1, help="attn proj + MLP dropout")
    # free knobs (defaults = the current tfjs demo)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ls", type=float, default=0.1)
    ap.add_argument("--pool", choices=["cls", "mean"], default="cls")
    ap.add_argument("--wd-mode", choices=["all", "matrices", "rank2"], default="all",
                    help="matrices: decay only ndim>=2 weights (not bias/LN/pos_embed/cls_token), as timm; "
                         "rank2: every ndim>=2 tensor (so pos_embed and cls_token ARE decayed)")
    ap.add_argument("--clip", type=float, default=0.0, help="global grad-norm clip (0 = none)")
    ap.add_argument("--attn-drop", type=float, default=0.0)
    ap.add_argument("--drop-path", type=float, default=0.0)
    ap.add_argument("--pos-drop", type=float, default=None, help="default = --dropout")
    ap.add_argument("--proj-drop", type=float, default=None, help="after attn proj; default = --dropout")
    ap.add_argument("--mlp-drop", type=float, default=None, help="both MLP dropouts; default = --dropout")
    ap.add_argument("--head-drop", type=float, default=0.0)
    ap.add_argument("--min-lr", type=float, default=0.0, help="cosine floor as a fraction of lr")
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--cls-init", choices=["1e-6", "0.02", "zero"], default="1e-6")
    ap.add_argument("--pos-std", type=float, default=0.02)
    ap.add_argument("--head-init", choices=["trunc", "zero"], default="trunc")
    ap.add_argument("--patch-init", choices=["default", "trunc", "lecun", "xavier"], default="default")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (AMX; ~2.5x faster on this CPU)")
    ap.add_argument("--ema", type=float, default=0.0, help="evaluate an EMA of the weights (decay; 0 = off)")
    ap.add_argument("--no-qkv-bias", action="store_true")
    ap.add_argument("--no-std", action="store_true", help="no standardisation (pixels in [0,1])")
    a = ap.parse_args()
    for k in ("pos_drop", "proj_drop", "mlp_drop"):
        if getattr(a, k) is None:
            setattr(a, k, a.dropout)

    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    _NPRNG[0] = np.random.default_rng(a.seed + 777)
    d = load_data()
    xtr, ytr = d["train"]
    xte, yte = d["test"]
    if a.limit:
        xtr, ytr = xtr[: a.limit], ytr[: a.limit]
    if not a.no_std:
        mean, std = xtr.mean().item(), xtr.std(unbiased=False).item()
        xtr = (xtr - mean) / std
        xte = (xte - mean) / std

    model = ViT(a)
    nparams = sum(p.numel() for p in model.parameters())
    if a.wd_mode == "all":
        groups = [{"params": list(model.parameters()), "weight_decay": a.wd}]
    else:
        decay = [p for n, p in model.named_parameters()
                 if p.ndim >= 2 and (a.wd_mode == "rank2" or n not in ("pos_embed", "cls_token"))]
        ids = {id(p) for p in decay}
        nodecay = [p for p in model.parameters() if id(p) not in ids]
        groups = [{"params": decay, "weight_decay": a.wd}, {"params": nodecay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)

    n = xtr.shape[0]
    steps_per_epoch = math.ceil(n / a.bs)
    total = a.epochs * steps_per_epoch
    warmup = min(a.warmup, total // 5)
    min_lr = a.min_lr * a.lr
    gen = torch.Generator().manual_seed(a.seed + 12345)

    os.makedirs(f"{a.out}/logs", exist_ok=True)
    logf = open(f"{a.out}/logs/{a.name}.log", "w")

    def log(s):
        print(s, flush=True)
        logf.write(s + "\n"); logf.flush()

    log(f"# {a.name}: {json.dumps(vars(a))}")
    log(f"# params {nparams}, steps/epoch {steps_per_epoch}, total {total}, warmup {warmup}, threads {torch.get_num_threads()}")

    ema = [p.detach().clone() for p in model.parameters()] if a.ema > 0 else None

    def evaluate():
        if ema is not None:
            saved = [p.detach().clone() for p in model.parameters()]
            with torch.no_grad():
                for p, e in zip(model.parameters(), ema):
                    p.copy_(e)
        r = _evaluate()
        if ema is not None:
            with torch.no_grad():
                for p, s in zip(model.parameters(), saved):
                    p.copy_(s)
        return r

    def _evaluate():
        model.eval()
        correct, loss_sum = 0, 0.0
        with torch.no_grad():
            for i in range(0, xte.shape[0], 500):
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                    out = model(xte[i:i + 500]).float()
                loss_sum += F.cross_entropy(out, yte[i:i + 500], reduction="sum").item()
                correct += (out.argmax(1) == yte[i:i + 500]).sum().item()
        return correct / xte.shape[0], loss_sum / xte.shape[0]

    step = 0
    accs, secs = [], []
    for ep in range(a.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(n, generator=gen)
        lsum, csum = 0.0, 0
        for i in range(0, n, a.bs):
            idx = perm[i:i + a.bs]
            xb, yb = xtr[idx], ytr[idx]
            cur = lr_at(step, a.lr, warmup, total, min_lr)
            for g in opt.param_groups:
                g["lr"] = cur
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                out = model(xb).float()
            loss = F.cross_entropy(out, yb, label_smoothing=a.ls)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            if ema is not None:
                d = a.ema
                with torch.no_grad():
                    for p, e in zip(model.parameters(), ema):
                        e.mul_(d).add_(p.detach(), alpha=1 - d)
            step += 1
            lsum += loss.item() * yb.shape[0]
            csum += (out.argmax(1) == yb).sum().item()
        dt = time.time() - t0
        acc, tl = evaluate()
        accs.append(acc); secs.append(dt)
        log(f"epoch {ep + 1} train_loss {lsum / n:.4f} train_acc {csum / n:.4f} test_acc {acc:.4f} test_loss {tl:.4f} sec {dt:.1f} lr_end {cur:.2e}")
    log(f"FINAL {a.name} test_acc {accs[-1]:.4f} epochs {' '.join(f'{x:.4f}' for x in accs)} sec_total {sum(secs):.0f}")
    with open(f"{a.out}/results.tsv", "a") as f:
        f.write("\t".join([a.name, f"{accs[-1]:.4f}", " ".join(f"{x:.4f}" for x in accs),
                           f"{sum(secs):.0f}", json.dumps(vars(a))]) + "\n")


if __name__ == "__main__":
    main()
