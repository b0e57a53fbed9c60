#!/usr/bin/env python3
"""A tiny uncased BERT (WordPiece) tokenizer for Migu.NET's tests, written as transformers saves one.

Three files, from one hand-picked vocabulary of 99 tokens (the vocab_size of tools/parity_bert.py's
tiny BERT, so the vocabulary also serves that model and its ONNX export, tools/make_bert_onnx.py):
  vocab.txt              one token a line, id = line number ([PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4);
  tokenizer_config.json  BertTokenizer's flags: lower-casing, accent stripping as lower-casing implies,
                         Chinese characters split, model_max_length 24 (the tiny model's positions);
  tokenizer.json         Hugging Face tokenizers' format: BertNormalizer, BertPreTokenizer, the
                         WordPiece model over the same vocabulary, the [CLS] A [SEP] (B [SEP])
                         template, the WordPiece decoder and the five special tokens as added tokens.
The loader fuzz test mutates each file; WordPieceOracleTests checks that Hugging Face's own tokenizers
read tokenizer.json to the same ids as ours. Standard library only.

Usage: python3 tools/make_wordpiece_fixture.py tests/Migu.Models.Tests/Fixtures/tokenizers/bert
"""
import json
import os
import sys

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCTUATION = list("!\"#,.?'-():;")
DIGITS = list("0123456789")
LETTERS = [chr(c) for c in range(ord("a"), ord("z") + 1)]
WORDS = ["the", "hello", "world", "un", "##aff", "##able", "##est", "##ing", "##ed", "日", "本",
         "##12", "##3", "to", "and", "of", "is", "in", "##ly", "##er"]
VOCAB = SPECIALS + PUNCTUATION + DIGITS + LETTERS + ["##" + c for c in LETTERS] + WORDS
MAX_LENGTH = 24


def dump(path, value):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def template(pieces):
    return [{"SpecialToken": {"id": p, "type_id": t}} if p.startswith("[") else {"Sequence": {"id": p, "type_id": t}} for p, t in pieces]


def main():
    assert len(VOCAB) == 99 and len(set(VOCAB)) == 99, len(VOCAB)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    ids = {token: i for i, token in enumerate(VOCAB)}
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.writelines(token + "\n" for token in VOCAB)
    dump(os.path.join(out, "tokenizer_config.json"), {
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": True,
        "strip_accents": None,
        "tokenize_chinese_chars": True,
        "model_max_length": MAX_LENGTH,
        "clean_up_tokenization_spaces": True,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]",
    })
    dump(os.path.join(out, "tokenizer.json"), {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": ids[s], "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for s in SPECIALS],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": template([("[CLS]", 0), ("A", 0), ("[SEP]", 0)]),
            "pair": template([("[CLS]", 0), ("A", 0), ("[SEP]", 0), ("B", 1), ("[SEP]", 1)]),
            "special_tokens": {s: {"id": s, "ids": [ids[s]], "tokens": [s]} for s in ["[CLS]", "[SEP]"]},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": ids},
    })
    print("wrote", out)


if __name__ == "__main__":
    main()
