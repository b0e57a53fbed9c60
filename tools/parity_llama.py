#!/usr/bin/env python3
"""Golden fixtures for Migu.Models' Llama, made with Hugging Face transformers (CPU, fp32).

Two tiny random LlamaForCausalLM models, saved with save_pretrained:
  * "gqa": 4 query heads sharing 2 key/value heads, default RoPE, untied lm_head, no biases;
  * "tied_llama3": tied embeddings, llama3 RoPE scaling, explicit head_dim (16, not
    hidden/heads), attention and MLP biases, eos given as a list.
Norm weights and biases are random (not the defaults), weights have a larger spread than
transformers' init so logits are not all near zero and greedy choices have clear margins.

For each model the JSON records, on a right-padded batch of 2: logits, the causal-LM loss
(labels -100 on padding), gradients of a few parameters after backward, and per-nn.Linear
magnitudes (sum over tokens with attention_mask 1 of |y| per output unit, fp32, from forward
hooks, keyed by module name). On a left-padded batch: greedy generation of 8 new tokens,
once without EOS and once with an EOS taken from that free run (so stopping and pad filling
are exercised), plus the position ids that generate fed to the prefill.

It also records the parameter names and shapes of the full-size presets, built on the meta
device, and the defaults transformers fills into their configs.

Usage: python3 tools/parity_llama.py OUTDIR
       python3 tools/parity_llama.py --check-saved MODEL_DIR FIXTURE_JSON VARIANT
         (loads a directory written by Migu.NET and compares it with the fixture)
"""
import json
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

VARIANTS = {
    "gqa": dict(
        vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=False, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    ),
    "tied_llama3": dict(
        vocab_size=128, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 128},
        tie_word_embeddings=True, attention_bias=True, mlp_bias=True,
        pad_token_id=0, bos_token_id=1, eos_token_id=[2, 3],
    ),
}

PRESETS = {  # as in /work/shared/reference/pytorch_migu_reference.py
    "llama-160m": (768, 2048, 12, 12),
    "llama-1b-like": (2048, 5632, 16, 16),
}

# Right-padded forward batch; token 0 (= pad_token_id, the embedding's padding_idx) also sits at
# a real position of row 0, so the embedding gradient shows that row staying zero.
FWD_IDS = [[1, 17, 0, 45, 99, 23, 60], [1, 88, 12, 101, 0, 0, 0]]
FWD_MASK = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]]
# Left-padded prompts for generation.
GEN_IDS = [[1, 5, 9, 33, 70], [0, 0, 1, 44, 7]]
GEN_MASK = [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]]
NEW_TOKENS = 8

GRAD_NAMES = [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.input_layernorm.weight",
    "model.layers.1.mlp.down_proj.weight",
    "model.norm.weight",
]


def flat(t):
    return [float(f"{v:.9g}") for v in t.detach().float().reshape(-1).tolist()]


def build(name, seed):
    torch.manual_seed(seed)
    cfg = LlamaConfig(**VARIANTS[name])
    cfg._attn_implementation = "sdpa"
    model = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("norm.weight"):
                p.uniform_(0.5, 1.5)
            elif pname.endswith(".bias"):
                p.normal_(0.0, 0.1)
            else:
                p.normal_(0.0, 0.25)
    model.eval()
    return model


def forward_record(model):
    ids = torch.tensor(FWD_IDS)
    mask = torch.tensor(FWD_MASK)
    labels = ids.masked_fill(mask == 0, -100)
    flat_mask = mask.reshape(-1).float()
    mags, hooks = {}, []
    for mname, mod in model.named_modules():
        if isinstance(mod, torch.nn.Linear):
            def hook(_m, _inp, out, mname=mname):
                with torch.no_grad():
                    y = out.detach().reshape(-1, out.shape[-1]).float()
                    mags[mname] = mags.get(mname, 0) + (y.abs() * flat_mask.unsqueeze(1)).sum(0)
            hooks.append(mod.register_forward_hook(hook))
    model.zero_grad()
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    for h in hooks:
        h.remove()
    params = dict(model.named_parameters())
    names = list(GRAD_NAMES)
    if "lm_head.weight" in params and params["lm_head.weight"] is not params["model.embed_tokens.weight"]:
        names.append("lm_head.weight")
    if "model.layers.0.self_attn.k_proj.bias" in params:
        names.append("model.layers.0.self_attn.k_proj.bias")
    return {
        "input_ids": FWD_IDS, "attention_mask": FWD_MASK,
        "logits_shape": list(out.logits.shape), "logits": flat(out.logits),
        "loss": out.loss.item(),
        "grads": {n: flat(params[n].grad) for n in names},
        "magnitudes": {k: flat(v) for k, v in mags.items()},
    }


def generate(model, eos):
    ids = torch.tensor(GEN_IDS)
    mask = torch.tensor(GEN_MASK)
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = model.config.pad_token_id
    with torch.no_grad():
        return model.generate(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=NEW_TOKENS)


def prefill_position_ids(model):
    seen = []

    def pre(_m, _args, kwargs):
        if not seen:
            pos = kwargs.get("position_ids")
            seen.append(None if pos is None else pos.tolist())
    h = model.model.register_forward_pre_hook(pre, with_kwargs=True)
    generate(model, None)
    h.remove()
    return seen[0] if seen else None


def save(model, path):
    try:
        model.save_pretrained(path, safe_serialization=True)
    except TypeError:
        model.save_pretrained(path)


def variant(name, seed, out_dir):
    model = build(name, seed)
    rec = {"config": VARIANTS[name], "forward": forward_record(model)}
    free = generate(model, None)
    if name == "gqa":
        eos = int(free[0, len(GEN_IDS[0]) + 2])
    else:
        eos = [int(free[1, len(GEN_IDS[0]) + 4]), int(free[0, len(GEN_IDS[0]) + 2])]
    rec["generate"] = {
        "input_ids": GEN_IDS, "attention_mask": GEN_MASK, "max_new_tokens": NEW_TOKENS,
        "pad_token_id": model.config.pad_token_id,
        "free_run": free.tolist(), "eos_token_id": eos,
        "prefill_position_ids": prefill_position_ids(model),
    }
    rec["generate"]["output"] = generate(model, eos).tolist()
    model.config.eos_token_id = eos
    model.generation_config.eos_token_id = eos
    path = os.path.join(out_dir, f"llama_{name}")
    save(model, path)
    # The saved directory must give back the same logits.
    again = LlamaForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    with torch.no_grad():
        a = again(input_ids=torch.tensor(FWD_IDS), attention_mask=torch.tensor(FWD_MASK)).logits
    diff = (a.reshape(-1) - torch.tensor(rec["forward"]["logits"])).abs().max().item()
    print(f"{name}: loss {rec['forward']['loss']:.6f}, reload max |dlogits| {diff:.2e}")
    print(f"{name}: free {rec['generate']['free_run']}")
    print(f"{name}: eos {eos} -> {rec['generate']['output']}")
    print(f"{name}: prefill position ids {rec['generate']['prefill_position_ids']}")
    return rec


def presets():
    result = {}
    for name, (d, ff, layers, heads) in PRESETS.items():
        cfg = LlamaConfig(vocab_size=32000, hidden_size=d, intermediate_size=ff, num_hidden_layers=layers,
                          num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=2048)
        with torch.device("meta"):
            model = LlamaForCausalLM(cfg)
        result[name] = {
            "shapes": {k: list(v.shape) for k, v in model.state_dict().items()},
            "config": json.loads(cfg.to_json_string(use_diff=False)),
        }
    return result


def check_saved(model_dir, fixture_json, name):
    """Loads a Migu.NET-saved directory with transformers and compares logits and generation."""
    rec = json.load(open(fixture_json))[name]
    model, info = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32, output_loading_info=True)
    model.eval()
    problems = {k: v for k, v in info.items() if v}
    print(f"check {name}: loading info problems: {problems}")
    with torch.no_grad():
        logits = model(input_ids=torch.tensor(FWD_IDS), attention_mask=torch.tensor(FWD_MASK)).logits
    diff = (logits.reshape(-1) - torch.tensor(rec["forward"]["logits"])).abs().max().item()
    gen = model.generate(input_ids=torch.tensor(GEN_IDS), attention_mask=torch.tensor(GEN_MASK),
                         do_sample=False, max_new_tokens=NEW_TOKENS).tolist()
    same = gen == rec["generate"]["output"]
    print(f"check {name}: config {type(model.config).__name__} rope {model.config.rope_parameters} "
          f"tie {model.config.tie_word_embeddings} eos {model.generation_config.eos_token_id}")
    print(f"check {name}: max |dlogits| {diff:.2e}, generation identical: {same} {gen}")
    return diff < 1e-4 and same and not problems


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--check-saved":
        sys.exit(0 if check_saved(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    fixtures = {"gqa": variant("gqa", 1234, out_dir), "tied_llama3": variant("tied_llama3", 4321, out_dir)}
    with open(os.path.join(out_dir, "llama_fixtures.json"), "w") as f:
        json.dump(fixtures, f)
    with open(os.path.join(out_dir, "llama_presets.json"), "w") as f:
        json.dump(presets(), f)
    import transformers
    print("torch", torch.__version__, "transformers", transformers.__version__)


if __name__ == "__main__":
    main()
