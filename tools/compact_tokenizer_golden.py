#!/usr/bin/env python3
"""Reference ids for the embedded compact-2k tokenizer, from Hugging Face's tokenizers.

Loads src/Migu.Models/Tokenizers/Embedded/compact-2k/tokenizer.json with transformers'
PreTrainedTokenizerFast (the Rust `tokenizers` library underneath) and writes, for hard strings
(unicode, emoji, digits, spaces, newlines, the prompt format), the ids it produces and its decode
of them. Migu.Models.Tests compares our loader's ids and text with these.

Usage: python3 tools/compact_tokenizer_golden.py TOKENIZER_DIR OUT.json
"""
import json
import os
import sys

from transformers import PreTrainedTokenizerFast

TEXTS = [
    "Wall St. Bears Claw Back Into the Black (Reuters) Reuters - Short-sellers are seeing green again.",
    "Task:TC\nDataset:agnews\nWhat is the topic?\nOption: World, Sports, Business, Sci/Tech \nsome news\nAnswer:",
    " leading space and  double  spaces ",
    "Über naïve café — 東京 🙂 emoji 👩‍👩‍👧 and ✓",
    "numbers 1234567 3.14159 and 2026-11-28",
    "tabs\tand\r\nwindows lines\n\n\nmany newlines",
    "I'll say it's they're we've you'd CAPS",
    "",
    "a",
]


def main(tokenizer_dir, out):
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(tokenizer_dir, "tokenizer.json"))
    cases = []
    for text in TEXTS:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        cases.append({"text": text, "ids": ids, "decoded": tok.decode(ids)})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"vocab_size": len(tok), "cases": cases}, f, ensure_ascii=False, indent=1)
    print(f"{len(cases)} cases, vocab {len(tok)} -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
