# The PyTorch reference for `npm run bench:cpu`: the same LoRA step as the studio's CPU engine (Llama-shaped decoder,
# random frozen base in f32, LoRA r/alpha on q/k/v/o with dropout, causal attention written out since torch 1.13 has
# no public SDPA, summed cross-entropy over shifted labels, AdamW on the adapter), in plain PyTorch.
# A measurement reference only: never a runtime dependency of the studio.
#
# Driven over stdin by bench/cpu.ts so its steps interleave with ours under the same load:
#   python3 bench/cpu_torch.py '<json: {"config": LlamaConfig, "seq": T, "r": 16, "alpha": 32, "dropout": 0.05}>'
#   stdin "step"  -> one micro-step + optimizer update; stdout {"sec": s}
#   stdin "done"  -> stdout the summary {"flops": ..., "peak_rss_mib": ..., "gemm_gflops": ..., ...}; exit
# FLOPs are counted the way bench/cpu.ts counts ours, but from what autograd actually does here: a linear's input
# gradient is counted only when its input requires grad (observed by a forward hook), so the parent can check that
# both sides do the same work.
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

torch.manual_seed(0)


class Lora(torch.nn.Module):
    def __init__(self, name, inF, outF, bias, r, alpha, dropout, counter):
        super().__init__()
        self.name, self.inF, self.outF, self.r = name, inF, outF, r
        self.weight = torch.nn.Parameter(torch.empty(outF, inF).uniform_(-0.02, 0.02), requires_grad=False)
        self.bias = torch.nn.Parameter(torch.zeros(outF), requires_grad=False) if bias else None
        self.counter = counter
        if r:
            self.A = torch.nn.Parameter(torch.empty(r, inF).uniform_(-1 / math.sqrt(inF), 1 / math.sqrt(inF)))
            self.B = torch.nn.Parameter(torch.zeros(outF, r))
            self.scale = alpha / r
            self.drop = torch.nn.Dropout(dropout)

    def forward(self, x):
        self.counter(self, x)
        y = F.linear(x, self.weight, self.bias)
        if self.r:
            y = y + F.linear(F.linear(self.drop(x), self.A), self.B) * self.scale
        return y


def rms(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class Model(torch.nn.Module):
    def __init__(self, c, T, r, alpha, dropout):
        super().__init__()
        self.c, self.T = c, T
        self.flops = {'forward': 0, 'backward': 0}
        H, I, NH, NKV, HD = c['hiddenSize'], c['intermediateSize'], c['numHeads'], c['numKvHeads'], c['headDim']
        self.embed = torch.nn.Parameter(torch.empty(c['vocabSize'], H).uniform_(-0.02, 0.02), requires_grad=False)
        if not c['tieWordEmbeddings']:
            self.head = torch.nn.Parameter(torch.empty(c['vocabSize'], H).uniform_(-0.02, 0.02), requires_grad=False)
        self.layers = torch.nn.ModuleList()
        for _ in range(c['numLayers']):
            L = torch.nn.Module()
            lin = lambda n, i, o, b, rr: Lora(n, i, o, b, rr, alpha, dropout, self.count)
            ab = c['attentionBias']
            L.q, L.k, L.v = lin('q', H, NH * HD, ab, r), lin('k', H, NKV * HD, ab, r), lin('v', H, NKV * HD, ab, r)
            L.o = lin('o', NH * HD, H, False, r)
            L.gate, L.up, L.down = lin('gate', H, I, False, 0), lin('up', H, I, False, 0), lin('down', I, H, False, 0)
            L.n1 = torch.nn.Parameter(torch.ones(H), requires_grad=False)
            L.n2 = torch.nn.Parameter(torch.ones(H), requires_grad=False)
            self.layers.append(L)
        self.norm = torch.nn.Parameter(torch.ones(H), requires_grad=False)
        theta = c['rope']['theta']
        inv = 1.0 / theta ** (torch.arange(0, HD, 2).float() / HD)
        ang = torch.outer(torch.arange(T).float(), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.cos, self.sin = emb.cos()[None, None], emb.sin()[None, None]
        self.mask = torch.full((T, T), float('-inf')).triu(1)

    def count(self, lin, x):
        tokens = x.numel() // x.shape[-1]
        f = 2 * tokens * lin.inF * lin.outF
        self.flops['forward'] += f
        if x.requires_grad:
            self.flops['backward'] += f  # dx = dy·W
        if lin.r:
            self.flops['forward'] += 2 * tokens * lin.r * (lin.inF + lin.outF)
            self.flops['backward'] += 2 * tokens * lin.r * (lin.outF + lin.inF + lin.outF + (lin.inF if x.requires_grad else 0))

    def forward(self, ids):
        c = self.c
        B, T = ids.shape
        NH, NKV, HD, eps = c['numHeads'], c['numKvHeads'], c['headDim'], c['rmsNormEps']
        h = F.embedding(ids, self.embed)
        for L in self.layers:
            x = rms(h, L.n1, eps)
            q = L.q(x).view(B, T, NH, HD).transpose(1, 2)
            k = L.k(x).view(B, T, NKV, HD).transpose(1, 2)
            v = L.v(x).view(B, T, NKV, HD).transpose(1, 2)
            q = q * self.cos + rotate_half(q) * self.sin
            k = k * self.cos + rotate_half(k) * self.sin
            k = k.repeat_interleave(NH // NKV, dim=1)
            v = v.repeat_interleave(NH // NKV, dim=1)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(HD) + self.mask
            o = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, NH * HD)
            f = 2 * 2 * B * NH * T * T * HD
            self.flops['forward'] += f
            self.flops['backward'] += 2 * f
            h = h + L.o(o)
            x = rms(h, L.n2, eps)
            h = h + L.down(F.silu(L.gate(x)) * L.up(x))
        h = rms(h, self.norm, eps)
        head = self.embed if c['tieWordEmbeddings'] else self.head
        logits = F.linear(h, head)
        V, Hd = head.shape
        self.flops['forward'] += 2 * B * T * V * Hd
        self.flops['backward'] += 2 * B * T * V * Hd  # dh: h requires grad through the adapters
        return logits


def gemm_rate():
    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    a @ b
    best = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        a @ b
        best = max(best, 2 * 2048**3 / (time.perf_counter() - t0) / 1e9)
    return best


def main():
    o = json.loads(sys.argv[1])
    if 'threads' in o:
        torch.set_num_threads(o['threads'])
    c, T = o['config'], o['seq']
    t0 = time.perf_counter()
    model = Model(c, T, o['r'], o['alpha'], o['dropout'])
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0)
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, c['vocabSize'], (1, T), generator=g)
    labels = torch.cat((ids[:, 1:], torch.full((1, 1), -100)), dim=1)
    setup = time.perf_counter() - t0

    def step():
        model.flops = {'forward': 0, 'backward': 0}
        logits = model(ids)
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100, reduction='sum')
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up, like ours
    print(json.dumps({'ready': True}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == 'step':
            s0 = time.perf_counter()
            step()
            print(json.dumps({'sec': time.perf_counter() - s0}), flush=True)
        elif cmd == 'done':
            print(json.dumps({
                'torch': torch.__version__, 'threads': torch.get_num_threads(), 'setup_s': round(setup, 1),
                'trainable': sum(p.numel() for p in trainable), 'flops': model.flops,
                'peak_rss_mib': round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                'gemm_gflops': round(gemm_rate(), 1),
            }), flush=True)
            return


if __name__ == '__main__':
    main()
