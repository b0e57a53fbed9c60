#!/usr/bin/env python3
"""Golden fixtures for Migu.NET's RoBERTa (masked LM and sequence classifier) from transformers.

Builds two tiny random RoBERTa models on the CPU (fp32, eval mode so dropout is off), with
non-default LayerNorm weights and biases and non-zero Linear biases so every parameter matters,
saves each with save_pretrained (safetensors) and records for a padded batch of two (pad id 1):
  * logits at every position (padding included) and the loss;
  * gradients of a few named parameters after backward;
  * per-Linear magnitudes: sum over tokens with attention_mask 1 of |y| per output unit (fp32),
    from forward hooks on every nn.Linear, keyed by module name (the classifier head sees one
    <s> row per sequence, all counted);
  * the keys save_pretrained wrote.
Also writes roberta_base_shapes.json: names and shapes of roberta-base's parameters and
persistent buffers, from RobertaForMaskedLM built on the meta device.

Usage: python3 tools/parity_roberta.py OUTDIR
       python3 tools/parity_roberta.py --check DIR
The second form loads checkpoints that Migu.NET saved (each subfolder of DIR: config.json,
model.safetensors and logits.json with the C# logits of the fixture batch) with transformers'
from_pretrained, reports missing/unexpected keys and compares the logits.
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import RobertaConfig, RobertaForMaskedLM, RobertaForSequenceClassification

# Equal to RobertaPresets "roberta-tiny" on the C# side.
TINY = dict(
    vocab_size=96,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=40,
    type_vocab_size=1,
    initializer_range=0.02,
    layer_norm_eps=1e-5,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
)

# Published roberta-base config (FacebookAI/roberta-base config.json).
BASE = dict(
    vocab_size=50265,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=514,
    type_vocab_size=1,
    initializer_range=0.02,
    layer_norm_eps=1e-5,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
)

# Row 0 is full length; row 1 has three pad tokens (id 1) after </s>.
INPUT_IDS = [[0, 45, 12, 77, 23, 9, 2], [0, 31, 64, 2, 1, 1, 1]]
ATTENTION_MASK = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]]
MLM_LABELS = [[-100, 45, -100, 5, -100, -100, -100], [-100, -100, 64, -100, -100, -100, -100]]
CLS_LABELS = [2, 0]


def randomize(model):
    """Weights large enough that attention is far from uniform; LayerNorms away from (1, 0)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name:
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.2 * torch.randn_like(p))
                else:
                    p.copy_(0.1 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, 0.2)


def run(model, labels, grad_names):
    model.eval()
    ids = torch.tensor(INPUT_IDS)
    mask = torch.tensor(ATTENTION_MASK)
    flat = mask.reshape(-1).float()
    mags, hooks = {}, []
    for name, lin in model.named_modules():
        if isinstance(lin, torch.nn.Linear):
            def hook(_m, _inp, out, name=name):
                with torch.no_grad():
                    y = out.detach().reshape(-1, out.shape[-1]).float()
                    # Per-token layers exclude padding; the classifier head sees one row per sequence.
                    w = flat.unsqueeze(1) if y.shape[0] == flat.shape[0] else torch.ones(y.shape[0], 1)
                    mags[name] = mags.get(name, 0) + (y.abs() * w).sum(0)
            hooks.append(lin.register_forward_hook(hook))
    out = model(input_ids=ids, attention_mask=mask, labels=torch.tensor(labels))
    out.loss.backward()
    for h in hooks:
        h.remove()
    params = dict(model.named_parameters(remove_duplicate=False))
    return {
        "logits_shape": list(out.logits.shape),
        "logits": out.logits.detach().reshape(-1).tolist(),
        "loss": out.loss.item(),
        "grads": {n: (params[n].grad.reshape(-1).tolist() if params[n].grad is not None else None) for n in grad_names},
        "magnitudes": {n: m.tolist() for n, m in sorted(mags.items())},
    }


def save(model, directory):
    model.save_pretrained(directory, safe_serialization=True)
    keys = load_file(os.path.join(directory, "model.safetensors"))
    return {k: list(v.shape) for k, v in sorted(keys.items())}


def reload_matches(cls, directory, logits):
    try:
        again = cls.from_pretrained(directory).eval()
        with torch.no_grad():
            y = again(input_ids=torch.tensor(INPUT_IDS), attention_mask=torch.tensor(ATTENTION_MASK)).logits
        return bool(torch.allclose(y.reshape(-1), torch.tensor(logits), atol=1e-6))
    except Exception as e:  # report, keep the other fixtures
        print("reload failed:", directory, e)
        return False


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    common = {"input_ids": INPUT_IDS, "attention_mask": ATTENTION_MASK}

    torch.manual_seed(1234)
    mlm = RobertaForMaskedLM(RobertaConfig(**TINY))
    randomize(mlm)
    mlm_grads = [
        "roberta.embeddings.word_embeddings.weight",
        "roberta.embeddings.position_embeddings.weight",
        "roberta.embeddings.LayerNorm.weight",
        "roberta.encoder.layer.0.attention.self.query.weight",
        "roberta.encoder.layer.1.output.dense.bias",
        "lm_head.dense.weight",
        "lm_head.layer_norm.weight",
        "lm_head.bias",
    ]
    mlm_record = run(mlm, MLM_LABELS, mlm_grads)
    mlm_dir = os.path.join(out, "mlm")
    mlm_record["saved_keys"] = save(mlm, mlm_dir)
    mlm_record["reload_ok"] = reload_matches(RobertaForMaskedLM, mlm_dir, mlm_record["logits"])
    mlm_record.update(common, labels=MLM_LABELS)

    torch.manual_seed(4321)
    cls_cfg = RobertaConfig(**TINY, num_labels=3, id2label={0: "negative", 1: "neutral", 2: "positive"},
                            label2id={"negative": 0, "neutral": 1, "positive": 2},
                            architectures=["RobertaForSequenceClassification"])
    cls = RobertaForSequenceClassification(cls_cfg)
    randomize(cls)
    cls_grads = [
        "roberta.embeddings.LayerNorm.weight",
        "roberta.encoder.layer.0.attention.self.query.weight",
        "roberta.encoder.layer.1.attention.output.LayerNorm.bias",
        "classifier.dense.weight",
        "classifier.out_proj.weight",
        "classifier.out_proj.bias",
    ]
    cls_record = run(cls, CLS_LABELS, cls_grads)
    cls_dir = os.path.join(out, "classifier")
    cls_record["saved_keys"] = save(cls, cls_dir)
    cls_record["reload_ok"] = reload_matches(RobertaForSequenceClassification, cls_dir, cls_record["logits"])
    cls_record.update(common, labels=CLS_LABELS)

    with open(os.path.join(out, "roberta_parity.json"), "w") as f:
        json.dump({"mlm": mlm_record, "classifier": cls_record}, f)

    with torch.device("meta"):
        base = RobertaForMaskedLM(RobertaConfig(**BASE))
    params = {n: list(p.shape) for n, p in base.named_parameters()}
    state = {n: list(t.shape) for n, t in base.state_dict().items()}
    with open(os.path.join(out, "roberta_base_shapes.json"), "w") as f:
        json.dump({"parameters": params, "state_dict": state}, f, indent=0)

    print("mlm loss", mlm_record["loss"], "reload", mlm_record["reload_ok"])
    print("classifier loss", cls_record["loss"], "reload", cls_record["reload_ok"])
    print("mlm saved keys:", [k for k in mlm_record["saved_keys"] if not k.startswith("roberta.encoder")])
    print("cls saved keys:", [k for k in cls_record["saved_keys"] if not k.startswith("roberta.encoder")])
    print("base params not in state_dict:", sorted(set(params) - set(state)))
    print("base state_dict not in params:", sorted(set(state) - set(params)))
    for d in (mlm_dir, cls_dir):
        print(d, sorted(os.listdir(d)))
        print(open(os.path.join(d, "config.json")).read())


def check(root):
    """Loads Migu.NET-saved checkpoints in transformers and compares their logits with the C# ones."""
    classes = {"RobertaForMaskedLM": RobertaForMaskedLM, "RobertaForSequenceClassification": RobertaForSequenceClassification}
    ok = True
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isfile(os.path.join(d, "config.json")):
            continue
        arch = json.load(open(os.path.join(d, "config.json")))["architectures"][0]
        model, info = classes[arch].from_pretrained(d, output_loading_info=True)
        model.eval()
        with torch.no_grad():
            y = model(input_ids=torch.tensor(INPUT_IDS), attention_mask=torch.tensor(ATTENTION_MASK)).logits
        expected = torch.tensor(json.load(open(os.path.join(d, "logits.json"))))
        diff = (y.reshape(-1) - expected).abs().max().item()
        clean = not any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys"))
        good = clean and diff <= 1e-5 + 1e-4 * expected.abs().max().item()
        ok &= good
        print(name, arch, "config:", model.config.num_labels, model.config.id2label, getattr(model.config, "classifier_dropout", None),
              "loading info:", {k: v for k, v in info.items() if v}, "max |diff|:", diff, "OK" if good else "FAIL")
    print("ALL OK" if ok else "SOME FAILED")


if __name__ == "__main__":
    if sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        main()
