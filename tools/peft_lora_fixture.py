#!/usr/bin/env python3
"""PEFT LoRA interop fixtures for Migu.Models' adapter files (CPU, fp32).

Generate mode writes, under OUTDIR (tests/Migu.Models.Tests/Fixtures/peft), one folder per case:
  adapter_config.json, adapter_model.safetensors   as PeftModel.save_pretrained writes them
  expected.json                                    the fixed input, PEFT's logits with the adapter,
                                                   and the logits after merge_and_unload()
The base models are the committed tiny transformers checkpoints beside OUTDIR (llama/llama_gqa,
t5/v11). LoRA A and B are set to seeded random values (B is not left at zero), so the adapter
changes the logits. Cases:
  llama_gqa         r 4, alpha 8, target_modules ["q_proj", "v_proj", "down_proj"], CAUSAL_LM
  llama_gqa_rslora  r 2, alpha 4, use_rslora, target_modules a regex (layer 1's gate and up)
  t5_v11            r 4, alpha 8, target_modules ["q", "v", "wo"], SEQ_2_SEQ_LM

Check mode loads adapters that Migu.NET saved (folders with adapter_config.json,
adapter_model.safetensors and csharp.json, whose schema is expected.json's) into PEFT on the base
model named in csharp.json, and compares PEFT's logits, unmerged and merged, with the logits C#
computed. It prints the largest absolute differences and exits with 1 when one exceeds 1e-4.

Usage: python3 tools/peft_lora_fixture.py OUTDIR
       python3 tools/peft_lora_fixture.py --check DIR [DIR ...]
"""
import json
import os
import shutil
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

TOLERANCE = 1e-4

# Right-padded batch of 2 for the decoder-only model; token 0 is the pad id.
LLAMA_INPUT = {
    "input_ids": [[1, 17, 5, 45, 99, 23], [1, 88, 12, 101, 0, 0]],
    "attention_mask": [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]],
}
T5_INPUT = {
    "input_ids": [[13, 7, 42, 9, 1], [21, 5, 1, 0, 0]],
    "attention_mask": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]],
    "decoder_input_ids": [[0, 5, 9, 3], [0, 7, 2, 11]],
}

CASES = {
    "llama_gqa": dict(
        base="llama/llama_gqa", kind="causal", seed=1234, inputs=LLAMA_INPUT,
        config=dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj", "down_proj"],
                    task_type="CAUSAL_LM"),
    ),
    "llama_gqa_rslora": dict(
        base="llama/llama_gqa", kind="causal", seed=99, inputs=LLAMA_INPUT,
        config=dict(r=2, lora_alpha=4, lora_dropout=0.0, use_rslora=True,
                    target_modules=r".*layers\.1\.mlp\.(gate_proj|up_proj)", task_type="CAUSAL_LM"),
    ),
    "t5_v11": dict(
        base="t5/v11", kind="seq2seq", seed=4321, inputs=T5_INPUT,
        config=dict(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q", "v", "wo"],
                    task_type="SEQ_2_SEQ_LM"),
    ),
}


def flat(t):
    return [float(f"{v:.9g}") for v in t.detach().float().reshape(-1).tolist()]


def load_base(fixtures_root, base, kind):
    path = os.path.join(fixtures_root, base)
    cls = AutoModelForCausalLM if kind == "causal" else AutoModelForSeq2SeqLM
    model = cls.from_pretrained(path, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def kind_of(base):
    return "seq2seq" if base.startswith("t5/") else "causal"


def logits(model, inputs):
    kwargs = {k: torch.tensor(v) for k, v in inputs.items()}
    with torch.no_grad():
        return model(**kwargs).logits


def generate(outdir):
    fixtures_root = os.path.dirname(os.path.abspath(outdir.rstrip("/")))
    for name, case in CASES.items():
        torch.manual_seed(case["seed"])
        base = load_base(fixtures_root, case["base"], case["kind"])
        model = get_peft_model(base, LoraConfig(**case["config"]))
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if ".lora_A." in pname or ".lora_B." in pname:
                    p.normal_(0.0, 0.3)
        model.eval()
        folder = os.path.join(outdir, name)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        # The relative name, not this machine's absolute path to the base model.
        model.peft_config["default"].base_model_name_or_path = case["base"]
        model.save_pretrained(folder)
        readme = os.path.join(folder, "README.md")  # PEFT's model card template; not needed
        if os.path.exists(readme):
            os.remove(readme)
        unmerged = logits(model, case["inputs"])
        with model.disable_adapter():
            plain = logits(model, case["inputs"])
        merged = logits(model.merge_and_unload(), case["inputs"])
        record = dict(case["inputs"])
        record.update({
            "base_model": case["base"],
            "logits_shape": list(unmerged.shape),
            "logits": flat(unmerged),
            "merged_logits": flat(merged),
        })
        with open(os.path.join(folder, "expected.json"), "w") as f:
            json.dump(record, f)
        print(f"{name}: {sorted(os.listdir(folder))}, logits {list(unmerged.shape)}, "
              f"adapter effect {(unmerged - plain).abs().max().item():.3g}, "
              f"merged vs unmerged max |d| {(merged - unmerged).abs().max().item():.3g}")


def check(dirs):
    worst = 0.0
    for folder in dirs:
        folder = os.path.abspath(folder.rstrip("/"))
        with open(os.path.join(folder, "csharp.json")) as f:
            record = json.load(f)
        fixtures_root = os.path.dirname(os.path.dirname(folder))
        base = load_base(fixtures_root, record["base_model"], kind_of(record["base_model"]))
        inputs = {k: record[k] for k in ("input_ids", "attention_mask", "decoder_input_ids") if k in record}
        plain = logits(base, inputs)  # before PEFT wraps the base model in place
        model = PeftModel.from_pretrained(base, folder)
        model.eval()
        unmerged = logits(model, inputs)
        expected_shape = record["logits_shape"]
        if list(unmerged.shape) != expected_shape:
            print(f"{folder}: PEFT logits {list(unmerged.shape)}, C# {expected_shape}")
            sys.exit(1)
        merged = logits(model.merge_and_unload(), inputs)
        d_unmerged = (unmerged.reshape(-1) - torch.tensor(record["logits"])).abs().max().item()
        d_merged = (merged.reshape(-1) - torch.tensor(record["merged_logits"])).abs().max().item()
        # The adapter must change the logits, or agreeing on them proves nothing.
        effect = (unmerged - plain).abs().max().item()
        print(f"{folder}: max |PEFT - C#| unmerged {d_unmerged:.3g}, merged {d_merged:.3g}; "
              f"the adapter moves the logits by up to {effect:.3g}")
        worst = max(worst, d_unmerged, d_merged, TOLERANCE * 2 if effect < 1e-3 else 0.0)
    print(f"worst {worst:.3g} (tolerance {TOLERANCE})")
    sys.exit(0 if worst <= TOLERANCE else 1)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--check":
        check(sys.argv[2:])
    elif len(sys.argv) == 2 and not sys.argv[1].startswith("-"):
        generate(sys.argv[1])
    else:
        print(__doc__)
        sys.exit(2)
