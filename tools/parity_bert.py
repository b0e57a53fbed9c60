#!/usr/bin/env python3
"""Golden fixtures for Migu.NET's BERT family, from an independent plain-PyTorch BERT (no transformers).

BERT's forward is written out here from the published architecture (Devlin et al. 2019, and
transformers' BertModel for names and details): word + absolute position + token-type embeddings,
LayerNorm; post-LN blocks (self-attention with padded keys masked out, dense, residual, LayerNorm;
dense, exact erf GELU, dense, residual, LayerNorm); pooler dense + tanh on the first token;
sequence classifier on the pooler output (or on the masked mean of the last hidden state, the
"classifier_pooling": "mean" of Migu.NET); MLM head dense + GELU + LayerNorm, decoder tied to the
word embedding plus a bias. A tiny random config (fp32, no dropout) is written as four checkpoint
directories (config.json + model.safetensors, written by the small writer below) and a JSON of
what this forward computes on a padded batch of two:
  * encoder/          BertModel keys (no "bert." prefix) with the pooler: last hidden state and
                      pooler output, with non-zero token type ids;
  * classifier/       BertForSequenceClassification (pooler): logits, loss, gradients;
  * classifier_mean/  the same encoder without pooler, mean pooling: logits, loss, gradients;
  * mlm/              BertForMaskedLM (stores cls.predictions.decoder.bias too, as transformers 4
                      did): logits, loss, gradients (the tied embedding's included);
and for each head the magnitudes MIGU records: per Linear, Σ |y| per output unit over tokens
whose attention mask is 1 (the pooler and classifier see one row per sequence, all counted); the
MLM's tied decoder is a Linear too (transformers lists cls.predictions.decoder as nn.Linear).

Usage: /usr/bin/python3 tools/parity_bert.py tests/Migu.Models.Tests/Fixtures/bert
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

TINY = dict(
    vocab_size=99,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    hidden_act="gelu",
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=24,
    type_vocab_size=2,
    initializer_range=0.02,
    layer_norm_eps=1e-12,
    pad_token_id=0,
    position_embedding_type="absolute",
)
LABELS = ["neg", "neu", "pos"]

# Row 0 is full length; row 1 has three pad tokens (id 0) after [SEP] (id 3).
INPUT_IDS = [[2, 45, 12, 77, 23, 9, 3], [2, 31, 64, 3, 0, 0, 0]]
ATTENTION_MASK = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]]
TOKEN_TYPE_IDS = [[0, 0, 0, 1, 1, 1, 1], [0, 0, 1, 1, 0, 0, 0]]
MLM_LABELS = [[-100, 45, -100, 5, -100, -100, -100], [-100, -100, 64, -100, -100, -100, -100]]
CLS_LABELS = [2, 0]


def random_weights(seed):
    """HF-named tensors, large enough that attention is far from uniform; LayerNorms away from (1, 0)."""
    g = torch.Generator().manual_seed(seed)
    c = TINY
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    w = {}

    def mat(name, rows, cols):
        w[name] = torch.randn(rows, cols, generator=g) * 0.2

    def vec(name, n, scale=0.1, base=0.0):
        w[name] = base + torch.randn(n, generator=g) * scale

    def norm(name):
        vec(name + ".weight", h, 0.2, 1.0)
        vec(name + ".bias", h)

    mat("embeddings.word_embeddings.weight", v, h)
    mat("embeddings.position_embeddings.weight", c["max_position_embeddings"], h)
    mat("embeddings.token_type_embeddings.weight", c["type_vocab_size"], h)
    norm("embeddings.LayerNorm")
    for layer in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        for name, rows, cols in [("attention.self.query", h, h), ("attention.self.key", h, h), ("attention.self.value", h, h),
                                 ("attention.output.dense", h, h), ("intermediate.dense", i, h), ("output.dense", h, i)]:
            mat(p + name + ".weight", rows, cols)
            vec(p + name + ".bias", rows)
        norm(p + "attention.output.LayerNorm")
        norm(p + "output.LayerNorm")
    mat("pooler.dense.weight", h, h)
    vec("pooler.dense.bias", h)
    mat("classifier.weight", len(LABELS), h)
    vec("classifier.bias", len(LABELS))
    mat("cls.predictions.transform.dense.weight", h, h)
    vec("cls.predictions.transform.dense.bias", h)
    norm("cls.predictions.transform.LayerNorm")
    vec("cls.predictions.bias", v)
    return w


class Recorder:
    """Σ |y| per output unit over the rows a Linear produced, padding rows left out."""

    def __init__(self, mask):
        self.flat = torch.tensor(mask, dtype=torch.float32).reshape(-1)
        self.mags = {}

    def linear(self, name, x, w, b, weight=None, bias=None):
        """x Wᵀ + b with the Linear's own tensors, or with a tied weight and bias (the MLM decoder)."""
        y = x @ (w[name + ".weight"] if weight is None else weight).t() + (w[name + ".bias"] if bias is None else bias)
        with torch.no_grad():
            rows = y.detach().reshape(-1, y.shape[-1])
            weight = self.flat.unsqueeze(1) if rows.shape[0] == self.flat.shape[0] else torch.ones(rows.shape[0], 1)
            self.mags[name] = self.mags.get(name, 0) + (rows.abs() * weight).sum(0)
        return y


def layer_norm(x, w, name):
    return F.layer_norm(x, (x.shape[-1],), w[name + ".weight"], w[name + ".bias"], TINY["layer_norm_eps"])


def encoder(w, rec, ids, mask, token_types):
    c = TINY
    b, t = ids.shape
    h, heads = c["hidden_size"], c["num_attention_heads"]
    d = h // heads
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][torch.arange(t)][None] \
        + w["embeddings.token_type_embeddings.weight"][token_types]
    x = layer_norm(x, w, "embeddings.LayerNorm")
    additive = torch.zeros(b, 1, 1, t).masked_fill(mask[:, None, None, :] == 0, float("-inf"))
    for layer in range(c["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        split = lambda y: y.view(b, t, heads, d).transpose(1, 2)  # noqa: E731
        q = split(rec.linear(p + "attention.self.query", x, w, None))
        k = split(rec.linear(p + "attention.self.key", x, w, None))
        v = split(rec.linear(p + "attention.self.value", x, w, None))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, dim=-1)
        ctx = (probs @ v).transpose(1, 2).reshape(b, t, h)
        x = layer_norm(x + rec.linear(p + "attention.output.dense", ctx, w, None), w, p + "attention.output.LayerNorm")
        f = F.gelu(rec.linear(p + "intermediate.dense", x, w, None))
        x = layer_norm(x + rec.linear(p + "output.dense", f, w, None), w, p + "output.LayerNorm")
    return x


def pool(w, rec, hidden):
    return torch.tanh(rec.linear("pooler.dense", hidden[:, 0], w, None))


def mean_pool(hidden, mask):
    m = mask.to(hidden.dtype).unsqueeze(-1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def leaf_weights(seed):
    return {k: v.clone().requires_grad_(True) for k, v in random_weights(seed).items()}


def flat(t):
    """Nine significant digits: enough for fp32, half the size of Python's repr."""
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


def grads(w, names, prefix):
    return {prefix + n if not n.startswith("cls.") and not n.startswith("classifier.") else n: flat(w[n].grad) for n in names}


def save(directory, tensors, config):
    """config.json and model.safetensors (8-byte header length, JSON header, little-endian fp32 data)."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(os.path.join(directory, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for blob in blobs:
            f.write(blob)


def config_for(architecture, **extra):
    c = dict(TINY, architectures=[architecture], model_type="bert")
    c.update(extra)
    return c


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    ids = torch.tensor(INPUT_IDS)
    mask = torch.tensor(ATTENTION_MASK)
    zeros = torch.zeros_like(ids)
    encoder_keys = [k for k in random_weights(1) if k.startswith(("embeddings.", "encoder."))]
    labels = {"id2label": {str(i): n for i, n in enumerate(LABELS)}, "label2id": {n: i for i, n in enumerate(LABELS)}, "num_labels": len(LABELS)}
    result = {"input_ids": INPUT_IDS, "attention_mask": ATTENTION_MASK, "token_type_ids": TOKEN_TYPE_IDS}

    # Bare encoder with pooler, non-zero token types.
    w = leaf_weights(1)
    rec = Recorder(ATTENTION_MASK)
    hidden = encoder(w, rec, ids, mask, torch.tensor(TOKEN_TYPE_IDS))
    result["encoder"] = {"last_hidden_state_shape": list(hidden.shape), "last_hidden_state": flat(hidden),
                         "pooler_output": flat(pool(w, rec, hidden)), "mean_pooled": flat(mean_pool(hidden, mask))}
    save(os.path.join(out, "encoder"), {k: w[k] for k in encoder_keys + ["pooler.dense.weight", "pooler.dense.bias"]}, config_for("BertModel"))

    grad_names = ["embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight",
                  "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.output.dense.bias", "encoder.layer.1.intermediate.dense.weight"]

    # Classifier on the pooler.
    w = leaf_weights(2)
    rec = Recorder(ATTENTION_MASK)
    logits = rec.linear("classifier", pool(w, rec, encoder(w, rec, ids, mask, zeros)), w, None)
    loss = F.cross_entropy(logits, torch.tensor(CLS_LABELS))
    loss.backward()
    result["classifier"] = {"labels": CLS_LABELS, "logits": flat(logits), "loss": loss.item(),
                            "grads": grads(w, grad_names + ["pooler.dense.weight", "classifier.weight", "classifier.bias"], "bert."),
                            "magnitudes": {("bert." + n if n.startswith(("encoder.", "pooler.")) else n): flat(m) for n, m in sorted(rec.mags.items())}}
    keys = encoder_keys + ["pooler.dense.weight", "pooler.dense.bias"]
    save(os.path.join(out, "classifier"), {**{"bert." + k: w[k] for k in keys}, "classifier.weight": w["classifier.weight"], "classifier.bias": w["classifier.bias"]},
         config_for("BertForSequenceClassification", classifier_dropout=None, **labels))

    # Classifier on the masked mean (no pooler).
    w = leaf_weights(3)
    rec = Recorder(ATTENTION_MASK)
    logits = rec.linear("classifier", mean_pool(encoder(w, rec, ids, mask, zeros), mask), w, None)
    loss = F.cross_entropy(logits, torch.tensor(CLS_LABELS))
    loss.backward()
    result["classifier_mean"] = {"labels": CLS_LABELS, "logits": flat(logits), "loss": loss.item(),
                                 "grads": grads(w, grad_names + ["classifier.weight"], "bert."),
                                 "magnitudes": {("bert." + n if n.startswith("encoder.") else n): flat(m) for n, m in sorted(rec.mags.items())}}
    save(os.path.join(out, "classifier_mean"), {**{"bert." + k: w[k] for k in encoder_keys}, "classifier.weight": w["classifier.weight"], "classifier.bias": w["classifier.bias"]},
         config_for("BertForSequenceClassification", classifier_pooling="mean", **labels))

    # Masked LM, decoder tied to the word embedding.
    w = leaf_weights(4)
    rec = Recorder(ATTENTION_MASK)
    hidden = encoder(w, rec, ids, mask, zeros)
    x = layer_norm(F.gelu(rec.linear("cls.predictions.transform.dense", hidden, w, None)), w, "cls.predictions.transform.LayerNorm")
    # transformers' decoder is an nn.Linear whose weight is the word embedding and whose bias is cls.predictions.bias.
    logits = rec.linear("cls.predictions.decoder", x, w, None, weight=w["embeddings.word_embeddings.weight"], bias=w["cls.predictions.bias"])
    loss = F.cross_entropy(logits.reshape(-1, TINY["vocab_size"]), torch.tensor(MLM_LABELS).reshape(-1), ignore_index=-100)
    loss.backward()
    result["mlm"] = {"labels": MLM_LABELS, "logits_shape": list(logits.shape), "logits": flat(logits), "loss": loss.item(),
                     "grads": grads(w, grad_names + ["embeddings.word_embeddings.weight", "cls.predictions.transform.dense.weight", "cls.predictions.bias",
                                                     "cls.predictions.transform.LayerNorm.bias"], "bert."),
                     "magnitudes": {("bert." + n if n.startswith("encoder.") else n): flat(m) for n, m in sorted(rec.mags.items())}}
    head = ["cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias", "cls.predictions.transform.LayerNorm.weight",
            "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"]
    save(os.path.join(out, "mlm"), {**{"bert." + k: w[k] for k in encoder_keys}, **{k: w[k] for k in head},
                                    "cls.predictions.decoder.bias": w["cls.predictions.bias"]}, config_for("BertForMaskedLM"))

    with open(os.path.join(out, "bert_parity.json"), "w") as f:
        json.dump(result, f)
    print("wrote", out)


if __name__ == "__main__":
    main()
