#!/usr/bin/env python3
"""PyTorch + PEFT side of bench:gpu (bench/gpu.ts runs it): one training configuration per call, one JSON line out.

  --peak                      measure the bf16 matmul peak (TFLOP/s) with torch.matmul on 8192² operands
  --model '<LlamaConfig json from bench/gpu.ts>' --seq 2048 --batch 4 --steps 10 --warmup 3 --config lora-all

A random-weight transformers model (LlamaForCausalLM / Qwen2ForCausalLM from a config, bf16, SDPA attention) with
PEFT LoRA r=16 alpha=32 dropout 0 on q/k/v/o ("lora-qkvo") or all linear layers ("lora-all", "qlora-all": the base
loaded in 4-bit NF4 with double quantization through bitsandbytes), AdamW (fused) on the LoRA parameters, no
gradient checkpointing: the same work bench/gpu.ts gives our executor. Peak memory = torch.cuda.max_memory_reserved.
"""
import argparse
import json
import sys
import time


def peak() -> None:
    import torch

    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    best = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
        torch.cuda.synchronize()
        best = max(best, 10 * 2 * n**3 / (time.perf_counter() - t0) / 1e12)
    print(json.dumps({"bf16_peak_tflops": best, "device": torch.cuda.get_device_name()}))


def hf_config(shape: dict):
    from transformers import LlamaConfig, Qwen2Config

    common = dict(
        vocab_size=shape["vocabSize"], hidden_size=shape["hiddenSize"], intermediate_size=shape["intermediateSize"],
        num_hidden_layers=shape["numLayers"], num_attention_heads=shape["numHeads"], num_key_value_heads=shape["numKvHeads"],
        rms_norm_eps=shape["rmsNormEps"], rope_theta=shape["rope"]["theta"], tie_word_embeddings=shape["tieWordEmbeddings"],
        max_position_embeddings=131072, torch_dtype="bfloat16",
    )
    scaling = shape["rope"].get("scaling")
    if scaling and scaling["type"] == "llama3":
        common["rope_scaling"] = {
            "rope_type": "llama3", "factor": scaling["factor"], "low_freq_factor": scaling["lowFreqFactor"],
            "high_freq_factor": scaling["highFreqFactor"], "original_max_position_embeddings": scaling["originalMaxPositions"],
        }
    if shape["hf"] == "qwen2":
        return Qwen2Config(**common)
    return LlamaConfig(head_dim=shape["headDim"], attention_bias=shape["attentionBias"], **common)


def train(args) -> None:
    import torch
    from transformers import AutoModelForCausalLM
    from peft import LoraConfig, get_peft_model

    shape = json.loads(args.model)
    cfg = hf_config(shape)
    cfg._attn_implementation = "sdpa"
    targets = ["q_proj", "k_proj", "v_proj", "o_proj"] if args.config == "lora-qkvo" else "all-linear"
    torch.manual_seed(0)
    if args.config == "qlora-all":
        try:
            import bitsandbytes  # noqa: F401
            from transformers import BitsAndBytesConfig
        except ImportError:
            print(json.dumps({"tokens_per_s": None, "peak_gib": None, "note": "bitsandbytes is not installed: no PEFT QLoRA baseline"}))
            return
        # random weights in bf16 first, then quantized on load through a saved copy (from_config cannot quantize)
        import tempfile

        base = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)
        tmp = tempfile.mkdtemp()
        base.save_pretrained(tmp)
        del base
        q = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)
        model = AutoModelForCausalLM.from_pretrained(tmp, quantization_config=q, torch_dtype=torch.bfloat16, attn_implementation="sdpa", device_map={"": 0})
    else:
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16, attn_implementation="sdpa").cuda()
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=targets, bias="none", task_type="CAUSAL_LM"))
    model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, fused=True)
    V, B, T = shape["vocabSize"], args.batch, args.seq
    ids = (torch.arange(B * T, device="cuda").reshape(B, T) * 7919 + 13) % V
    labels = ids.clone()  # HF shifts internally: the same next-token targets as bench/gpu.ts

    def step():
        out = model(input_ids=ids, labels=labels)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    try:
        for _ in range(args.warmup):
            step()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
    except torch.cuda.OutOfMemoryError as e:
        print(json.dumps({"tokens_per_s": None, "peak_gib": None, "note": f"PyTorch OOM: {str(e).splitlines()[0]}"}))
        return
    print(json.dumps({
        "tokens_per_s": B * T * args.steps / seconds,
        "peak_gib": torch.cuda.max_memory_reserved() / 2**30,
        "allocated_gib": torch.cuda.max_memory_allocated() / 2**30,
        "note": f"torch {torch.__version__}, max allocated {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB",
    }))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--peak", action="store_true")
    ap.add_argument("--model")
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--config", default="lora-all", choices=["lora-qkvo", "lora-all", "qlora-all"])
    args = ap.parse_args()
    if args.peak:
        peak()
    else:
        train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
