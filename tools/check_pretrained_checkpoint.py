#!/usr/bin/env python3
"""Loads checkpoints written by `migu pretrain` in transformers and checks them.

For each DIR (a `migu pretrain --out` directory, or a committed fixture under
tests/Migu.Continual.Tests/Fixtures/pretrained/FAMILY): AutoTokenizer and the model class named by
config.json's architectures must load; the special tokens the objective added (<mask>,
<extra_id_0>) must have the ids migu gave them; and when DIR holds reference.json (the fixtures,
written by PretrainedCheckpointFixtureTests with MIGU_WRITE_FIXTURES=1), transformers' ids of the
text and its logits must match what Migu.NET computed (max |diff| <= 1e-4 relative). Without
reference.json the model's loss on a sentence is printed (a smoke check of a real run).

    python3 tools/check_pretrained_checkpoint.py tests/Migu.Continual.Tests/Fixtures/pretrained/*
    python3 tools/check_pretrained_checkpoint.py runs/llama-general

Needs torch and transformers (tested with 5.x); CPU is enough.
"""
import json
import os
import sys

import torch
import transformers


def model_class(config):
    arch = (config.architectures or [""])[0]
    return {
        "RobertaForMaskedLM": transformers.AutoModelForMaskedLM,
        "T5ForConditionalGeneration": transformers.AutoModelForSeq2SeqLM,
        "LlamaForCausalLM": transformers.AutoModelForCausalLM,
    }[arch]


def framed(tokenizer, config, text):
    """The text as migu frames documents: RoBERTa and Llama <s> … </s>, T5 … </s>."""
    ids = tokenizer.encode(text, add_special_tokens=False)
    if config.model_type == "t5":
        return ids + [config.eos_token_id]
    eos = config.eos_token_id[0] if isinstance(config.eos_token_id, list) else config.eos_token_id
    return [config.bos_token_id] + ids + [eos]


def check(directory):
    config = transformers.AutoConfig.from_pretrained(directory)
    tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
    model = model_class(config).from_pretrained(directory, dtype=torch.float32).eval()
    path = os.path.join(directory, "reference.json")
    if not os.path.exists(path):
        ids = torch.tensor([framed(tokenizer, config, "The quick brown fox jumps over the lazy dog.")])
        with torch.no_grad():
            if config.model_type == "llama":
                loss = model(input_ids=ids, labels=ids).loss.item()
                print(f"{directory}: {config.architectures[0]} loads; causal loss on a sentence {loss:.3f}")
            else:
                print(f"{directory}: {config.architectures[0]} loads; logits {tuple(model(input_ids=ids, decoder_input_ids=ids[:, :1]).logits.shape) if config.model_type == 't5' else tuple(model(input_ids=ids).logits.shape)}")
        return True

    ref = json.load(open(path, encoding="utf-8"))
    ok = True
    ids = framed(tokenizer, config, ref["text"])
    if ids != ref["text_ids"]:
        print(f"{directory}: token ids differ\n  transformers {ids}\n  migu         {ref['text_ids']}")
        ok = False
    for token, key in (("<mask>", "mask_id"), ("<extra_id_0>", "sentinel_0_id")):
        if ref.get(key) is not None and tokenizer.convert_tokens_to_ids(token) != ref[key]:
            print(f"{directory}: {token} is {tokenizer.convert_tokens_to_ids(token)} in transformers, {ref[key]} in migu")
            ok = False
    inputs = {"input_ids": torch.tensor([ref["input_ids"]])}
    if ref.get("decoder_input_ids") is not None:
        inputs["decoder_input_ids"] = torch.tensor([ref["decoder_input_ids"]])
    with torch.no_grad():
        logits = model(**inputs).logits[0].float()
    for name, ours in (("logits_first_16", logits[:, :16].reshape(-1)), ("logsumexp", torch.logsumexp(logits, -1))):
        theirs = torch.tensor(ref[name], dtype=torch.float32)
        diff = ((ours - theirs).abs() / (1 + theirs.abs())).max().item()
        print(f"{directory}: {name} max relative |diff| {diff:.2e}")
        ok &= diff <= 1e-4
    return ok


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    results = [check(d) for d in sys.argv[1:]]
    print("all match" if all(results) else "MISMATCH")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
