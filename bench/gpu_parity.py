#!/usr/bin/env python3
"""PyTorch + PEFT side of bench/gpu-parity.ts: rebuilds the same random model from the files it wrote (--dir), runs
the same batch and the same AdamW steps, compares with our results and prints the verdict.

Compared: loss (per token), every LoRA gradient (ours are summed over tokens: PEFT's mean-loss gradients are scaled
by the token count), logits of the first rows of each sequence, in f32 and bf16; and the bf16 loss curve.
Tolerances: f32 1e-3 relative (different summation orders on the GPU), bf16 3e-2 (bf16 operands, ~1e-2 per op).
Last line: `gpu-parity: ok` or `gpu-parity: FAIL <what>`.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def rel(a, b):
    import torch

    a, b = a.double().flatten(), b.double().flatten()
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()


def main() -> int:
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from gpu_peft import hf_config

    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    cfgj = json.load(open(os.path.join(args.dir, "config.json")))
    shape = cfgj["shape"]
    shape.setdefault("hf", "qwen2" if shape["family"] == "qwen2" else "llama")
    weights = load_file(os.path.join(args.dir, "weights.safetensors"))
    lora = load_file(os.path.join(args.dir, "lora.safetensors"))
    data = load_file(os.path.join(args.dir, "batches.safetensors"))
    nb = len([k for k in data if k.startswith("input_ids.")])
    batches = []
    for k in range(nb):
        ids = data[f"input_ids.{k}"].long().cuda()
        mask = data[f"attention_mask.{k}"].long().cuda()
        labels = ids.clone()
        labels[mask == 0] = -100
        batches.append((ids, mask, labels))
    rows = cfgj["logitRows"]
    failures, lines = [], []

    def build(dtype):
        cfg = hf_config(shape)
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=dtype, attn_implementation="sdpa").cuda()
        missing, unexpected = model.load_state_dict({k: v.to(dtype) for k, v in weights.items()}, strict=False)
        if unexpected or any(m != "lm_head.weight" for m in missing):
            raise SystemExit(f"weights do not fit the model: missing {missing[:4]}, unexpected {unexpected[:4]}")
        peft = get_peft_model(model, LoraConfig(r=cfgj["r"], lora_alpha=cfgj["alpha"], lora_dropout=0.0, target_modules=cfgj["targets"], bias="none"))
        set_peft_model_state_dict(peft, {k: v.cuda() for k, v in lora.items()})
        for n, p in peft.named_parameters():  # LoRA masters in f32 like ours
            if p.requires_grad:
                p.data = p.data.float()
        return peft

    for dtype_name, dtype, tol in (("f32", torch.float32, 1e-3), ("bf16", torch.bfloat16, 3e-2)):
        ours = load_file(os.path.join(args.dir, f"ours-{dtype_name}.safetensors"))
        peft = build(dtype)
        ids, mask, labels = batches[0]
        out = peft(input_ids=ids, attention_mask=mask, labels=labels)
        tokens = int((labels[:, 1:] != -100).sum())
        out.loss.backward()
        our_loss = (ours["loss"][0] / ours["loss"][1]).item()
        checks = {"loss": abs(our_loss - out.loss.item()) / abs(out.loss.item()), "tokens": float(int(ours["loss"][1].item()) != tokens)}
        checks["logits"] = rel(ours["logits"].cuda(), out.logits[:, :rows].float())
        worst, worst_name = 0.0, ""
        for n, p in peft.named_parameters():
            if not p.requires_grad:
                continue
            key = "grad." + n.replace(".default", "")
            if key not in ours:
                failures.append(f"{dtype_name}: no gradient {key} in ours")
                continue
            e = rel(ours[key].cuda(), p.grad.float() * tokens)
            if e > worst:
                worst, worst_name = e, n
        checks["grads (worst)"] = worst
        for k, v in checks.items():
            ok = v <= tol if k != "tokens" else v == 0
            lines.append(f"| {dtype_name} | {k} | {v:.3e} | {tol:.0e} | {'ok' if ok else 'FAIL'} |")
            if not ok:
                failures.append(f"{dtype_name} {k} {v:.3e}" + (f" ({worst_name})" if k.startswith("grads") else ""))
        if dtype_name == "bf16":
            peft.zero_grad(set_to_none=True)
            peft = build(dtype)  # fresh LoRA tensors: the curve starts from the same point as ours
            params = [p for p in peft.parameters() if p.requires_grad]
            opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
            curve = ours["curve"]
            diffs = []
            for step in range(len(curve)):
                ids, mask, labels = batches[step % nb]
                loss = peft(input_ids=ids, attention_mask=mask, labels=labels).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                opt.zero_grad(set_to_none=True)
                diffs.append(abs(curve[step].item() - loss.item()) / max(1e-6, abs(loss.item())))
                if step % 20 == 0 or step == len(curve) - 1:
                    print(f"step {step:4d}  ours {curve[step].item():.4f}  peft {loss.item():.4f}")
            worst_curve = max(diffs)
            ok = worst_curve <= 3e-2
            lines.append(f"| bf16 | loss curve ({len(curve)} steps, worst step) | {worst_curve:.3e} | 3e-02 | {'ok' if ok else 'FAIL'} |")
            if not ok:
                failures.append(f"loss curve {worst_curve:.3e}")
    print("\n| dtype | quantity | relative error | tolerance | verdict |\n| --- | --- | --- | --- | --- |")
    print("\n".join(lines))
    print("gpu-parity: ok" if not failures else "gpu-parity: FAIL " + "; ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
