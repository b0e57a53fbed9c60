#!/usr/bin/env python3
"""Golden fixtures for Migu.Models' tokenizers, made with Hugging Face transformers (CPU only).

Trains four tiny tokenizers on a small built-in corpus and saves each as transformers saves it:
  * t5/       sentencepiece unigram (pad 0, eos 1, unk 2, no bos) loaded as a T5 tokenizer;
  * llama2/   sentencepiece BPE with byte fallback (unk 0, bos 1, eos 2) as a Llama tokenizer;
  * llama3/   byte-level BPE tokenizer.json: Split(Llama-3 regex) + ByteLevel, BOS template;
  * gpt2json/ byte-level BPE tokenizer.json: ByteLevel alone (GPT-2 regex), merges written as
              "a b" strings, no post-processor;
  * roberta/  vocab.json + merges.txt (ByteLevelBPETokenizer) saved as a RoBERTa tokenizer.
The sentencepiece .model file is copied next to the saved files when save_pretrained leaves it
out, as Hub checkpoints carry it. Reference ids come from AutoTokenizer.from_pretrained(dir),
the tokenizer a user of transformers gets, for a set of hard strings, with and without special
tokens, plus tokens and decoded text (skipping specials and not).

Variants of the Llama 2 model check the options that change special tokens and the "▁" prefix:
llama2_bos (add_bos_token), llama2_legacy (legacy, add_bos_token, add_eos_token), llama2_hub (a
Hub-style tokenizer.json: normalizer Prepend + Replace, BOS template); roberta_prefix sets
add_prefix_space. 24 seeded random strings join the hard ones.

Usage: python3 tools/parity_tokenizers.py OUTDIR
"""
import io
import json
import os
import shutil
import sys
import traceback

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Hello there, world. How are you today?",
    "Continual learning keeps old skills while new tasks are learned.",
    "Magnitude-based gradient updating masks small output units.",
    "Numbers like 1234567, 3.14 and 2026 appear in text; so do dates: 08/15.",
    "Don't stop. I'm here, we'll go, they've seen it, you're right, it's fine.",
    "Café, naïve, résumé, façade, jalapeño, Ünïcödé, straße.",
    "日本語のテキストと中文文本。",
    "Tabs\tand\nnew lines\n\nare whitespace too.",
    "Punctuation: (parentheses), [brackets], {braces}, \"quotes\", 'single', !?;:-_/\\@#$%^&*+=<>|~`",
    "Language models predict the next token from the previous tokens.",
    "Tokenizers split text into pieces; pieces map to ids; ids map back to text.",
    "    indented code line with four spaces",
    "def f(x):\n    return x * 2  # double it",
]
CORPUS = CORPUS * 20

HARD = [
    "",
    " ",
    "Hello world",
    "Hello world!",
    "  leading and trailing  ",
    "multiple   spaces    here",
    "café naïve résumé",
    "Ünïcödé straße ﬁ ①",
    "日本語のテキスト",
    "中文文本",
    "emoji 😀🎉 test",
    "😀",
    "digits 1234567 and 3.14",
    "line1\nline2\n\nline3",
    "tab\tseparated\tvalues",
    "\n",
    " \n ",
    "punctuation!?.,;:'\"()[]{}",
    "don't I'm we'll they've you're it's",
    "DON'T SHOUT",
    "zebra xylophone quartz",
]



def fuzz_strings(count=24, seed=1234):
    """Random mixes of words, whitespace kinds, accents, combining marks, CJK, emoji and astral letters."""
    import random
    rng = random.Random(seed)
    parts = ["the", "Hello", "world", "learning", "tokens", "don't", "WE'LL", "x", "qu", " ", "  ", "   ", "\n", "\n\n",
             "\t", "\r\n", "\u00a0", "\u3000", "é", "e\u0301", "ß", "ﬁ", "Ü", "日本", "中文", "の", "😀", "🎉", "👍🏽",
             "𝐀𝐁", "𠀀", "12345", "3.14", "0", "...", "—", "«»", "$%", "(", ")", "'s", "!?", "_", "-", "#"]
    out = []
    for _ in range(count):
        out.append("".join(rng.choice(parts) for _ in range(rng.randint(3, 10))))
    return out


HARD = HARD + fuzz_strings()

# Per-family strings that contain special tokens in the text.
SPECIAL_TEXT = {
    "t5": ["hello <extra_id_0> world </s>", "<pad>x", "a</s>b"],
    "llama2": ["<s>hello</s>", "hi <s> there", "<unk>"],
    "llama3": ["<|begin_of_text|>hi", "a <|end_of_text|> b", "<|end_of_text|>"],
    "gpt2json": ["a <|endoftext|> b", "<|endoftext|>"],
    "roberta": ["a <mask> b", "<s>x</s>", "hello <mask>"],
}
SPECIAL_TEXT["llama2_bos"] = SPECIAL_TEXT["llama2"]
SPECIAL_TEXT["llama2_legacy"] = SPECIAL_TEXT["llama2"]
SPECIAL_TEXT["llama2_hub"] = SPECIAL_TEXT["llama2"] + ["  two leading spaces"]
SPECIAL_TEXT["roberta_prefix"] = SPECIAL_TEXT["roberta"]
LLAMA2_MODEL = {}


def record(tok, strings):
    rows = []
    for s in strings:
        with_sp = tok(s, add_special_tokens=True)["input_ids"]
        without = tok(s, add_special_tokens=False)["input_ids"]
        rows.append({
            "text": s,
            "ids": list(with_sp),
            "ids_no_special": list(without),
            "tokens": tok.convert_ids_to_tokens(with_sp),
            "decoded_skip": tok.decode(with_sp, skip_special_tokens=True),
            "decoded_keep": tok.decode(with_sp, skip_special_tokens=False),
        })
    return rows


def summary(tok):
    return {
        "class": type(tok).__name__,
        "len": len(tok),
        "vocab_size": tok.vocab_size,
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
        "unk_token_id": tok.unk_token_id,
        "all_special_ids": list(tok.all_special_ids),
    }


def finish(name, out_dir, golden, extra_files=()):
    from transformers import AutoTokenizer
    for path in extra_files:
        target = os.path.join(out_dir, os.path.basename(path))
        if not os.path.exists(target):
            shutil.copyfile(path, target)
    tok = AutoTokenizer.from_pretrained(out_dir)
    golden[name] = {
        "files": sorted(os.listdir(out_dir)),
        "tokenizer": summary(tok),
        "cases": record(tok, HARD + SPECIAL_TEXT[name]),
    }


def spm_train(path_prefix, **kw):
    import sentencepiece as spm
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=buf, **kw)
    with open(path_prefix + ".model", "wb") as f:
        f.write(buf.getvalue())
    return path_prefix + ".model"


def build_t5(root, golden):
    from transformers import T5Tokenizer
    work = os.path.join(root, "_work", "t5")
    os.makedirs(work, exist_ok=True)
    model = spm_train(os.path.join(work, "spm"), model_type="unigram", vocab_size=400,
                      pad_id=0, eos_id=1, unk_id=2, bos_id=-1, character_coverage=0.9999,
                      hard_vocab_limit=False)
    src = os.path.join(work, "src")
    os.makedirs(src, exist_ok=True)
    shutil.copyfile(model, os.path.join(src, "spiece.model"))
    tok = None
    errors = []
    for make in (lambda: T5Tokenizer(vocab_file=model, extra_ids=100),
                 lambda: T5Tokenizer.from_pretrained(src)):
        try:
            t = make()
            if len(t) > 300:
                tok = t
                break
            errors.append(f"too small: {len(t)}")
        except Exception as e:  # noqa: BLE001  (try the next way of building it)
            errors.append(repr(e))
    if tok is None:
        raise RuntimeError("T5Tokenizer: " + "; ".join(errors))
    out = os.path.join(root, "t5")
    tok.save_pretrained(out)
    finish("t5", out, golden, [os.path.join(src, "spiece.model")])
    golden["t5"]["build_notes"] = errors


def build_llama2(root, golden):
    from transformers import LlamaTokenizer
    work = os.path.join(root, "_work", "llama2")
    os.makedirs(work, exist_ok=True)
    model = spm_train(os.path.join(work, "spm"), model_type="bpe", vocab_size=600, byte_fallback=True,
                      unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=0.9999,
                      normalization_rule_name="identity", remove_extra_whitespaces=False,
                      add_dummy_prefix=True, split_digits=True, allow_whitespace_only_pieces=True,
                      hard_vocab_limit=False)
    src = os.path.join(work, "src")
    os.makedirs(src, exist_ok=True)
    shutil.copyfile(model, os.path.join(src, "tokenizer.model"))
    tok = None
    errors = []
    for make in (lambda: LlamaTokenizer(vocab_file=model),
                 lambda: LlamaTokenizer.from_pretrained(src)):
        try:
            t = make()
            if len(t) > 300:
                tok = t
                break
            errors.append(f"too small: {len(t)}")
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
    if tok is None:
        raise RuntimeError("LlamaTokenizer: " + "; ".join(errors))
    out = os.path.join(root, "llama2")
    tok.save_pretrained(out)
    finish("llama2", out, golden, [os.path.join(src, "tokenizer.model")])
    golden["llama2"]["build_notes"] = errors
    LLAMA2_MODEL["src"] = src


def build_llama2_variant(name, root, golden, **kwargs):
    """The same model with LlamaTokenizer options set, as a user or a Hub config would."""
    from transformers import LlamaTokenizer
    src = LLAMA2_MODEL["src"]
    tok = LlamaTokenizer.from_pretrained(src, **kwargs)
    out = os.path.join(root, name)
    tok.save_pretrained(out)
    finish(name, out, golden, [os.path.join(src, "tokenizer.model")])
    golden[name]["options"] = {k: v for k, v in kwargs.items()}


def build_llama2_hub(root, golden):
    """A Hub-style Llama 2 tokenizer.json (normalizer Prepend + Replace, no pre-tokenizer, BOS template)."""
    src_dir = os.path.join(root, "llama2")
    out = os.path.join(root, "llama2_hub")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(src_dir, "tokenizer.json"), encoding="utf-8") as f:
        spec = json.load(f)
    spec["normalizer"] = {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"},
        {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
    spec["pre_tokenizer"] = None
    spec["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
              "unk_token": "<unk>", "pad_token": None, "legacy": False, "clean_up_tokenization_spaces": False,
              "tokenizer_class": "LlamaTokenizer", "model_max_length": 4096}
    with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    shutil.copyfile(os.path.join(src_dir, "tokenizer.model"), os.path.join(out, "tokenizer.model"))
    finish("llama2_hub", out, golden)


LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")


def build_llama3(root, golden):
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = ["<|begin_of_text|>", "<|end_of_text|>"]
    trainer = trainers.BpeTrainer(vocab_size=700, min_frequency=1, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    bos = tok.token_to_id(specials[0])
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=specials[0], eos_token=specials[1],
                                   clean_up_tokenization_spaces=False)
    out = os.path.join(root, "llama3")
    fast.save_pretrained(out)
    finish("llama3", out, golden)


def build_gpt2json(root, golden):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=500, min_frequency=1, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS, trainer)
    out = os.path.join(root, "gpt2json")
    os.makedirs(out, exist_ok=True)
    spec = json.loads(tok.to_str())
    # The older "a b" merge form, which GPT-2-era files on the Hub still use.
    spec["model"]["merges"] = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    path = os.path.join(out, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)
    fast = PreTrainedTokenizerFast(tokenizer_file=path, eos_token="<|endoftext|>", bos_token="<|endoftext|>",
                                   clean_up_tokenization_spaces=False)
    fast.save_pretrained(out)
    with open(path, "w", encoding="utf-8") as f:  # keep the string-merge form on disk
        json.dump(spec, f, ensure_ascii=False)
    finish("gpt2json", out, golden)


def build_roberta(root, golden):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer
    raw = os.path.join(root, "_work", "roberta_raw")
    os.makedirs(raw, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(CORPUS, vocab_size=600, min_frequency=1,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(raw)
    tok = RobertaTokenizer.from_pretrained(raw)
    out = os.path.join(root, "roberta")
    tok.save_pretrained(out)
    for name in ("vocab.json", "merges.txt"):
        if not os.path.exists(os.path.join(out, name)):
            shutil.copyfile(os.path.join(raw, name), os.path.join(out, name))
    finish("roberta", out, golden)
    # The same from vocab.json + merges.txt alone, the RoBERTa loader's path.
    golden["roberta"]["cases_from_vocab_merges"] = record(tok, HARD + SPECIAL_TEXT["roberta"])
    LLAMA2_MODEL["roberta_raw"] = raw


def build_roberta_prefix(root, golden):
    from transformers import RobertaTokenizer
    tok = RobertaTokenizer.from_pretrained(LLAMA2_MODEL["roberta_raw"], add_prefix_space=True)
    out = os.path.join(root, "roberta_prefix")
    tok.save_pretrained(out)
    for name in ("vocab.json", "merges.txt"):
        if not os.path.exists(os.path.join(out, name)):
            shutil.copyfile(os.path.join(LLAMA2_MODEL["roberta_raw"], name), os.path.join(out, name))
    finish("roberta_prefix", out, golden)
    golden["roberta_prefix"]["cases_from_vocab_merges"] = record(tok, HARD + SPECIAL_TEXT["roberta_prefix"])


def main():
    root = sys.argv[1]
    os.makedirs(root, exist_ok=True)
    import tokenizers
    import transformers
    golden = {"versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__}}
    failures = {}
    for name, build in (("t5", build_t5), ("llama2", build_llama2), ("llama3", build_llama3),
                        ("gpt2json", build_gpt2json), ("roberta", build_roberta),
                        ("llama2_bos", lambda r, g: build_llama2_variant("llama2_bos", r, g, add_bos_token=True)),
                        ("llama2_legacy", lambda r, g: build_llama2_variant(
                            "llama2_legacy", r, g, legacy=True, add_bos_token=True, add_eos_token=True)),
                        ("llama2_hub", build_llama2_hub),
                        ("roberta_prefix", build_roberta_prefix)):
        try:
            build(root, golden)
            print(name, "ok", golden[name]["files"], golden[name]["tokenizer"])
        except Exception:  # noqa: BLE001  (record and go on: one family's failure must not hide the others)
            failures[name] = traceback.format_exc()
            print(name, "FAILED\n", failures[name])
    golden["failures"] = failures
    shutil.rmtree(os.path.join(root, "_work"), ignore_errors=True)
    with open(os.path.join(root, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
    for name in golden:
        if name not in ("versions", "failures"):
            print(name, golden[name]["files"], golden[name]["tokenizer"])


if __name__ == "__main__":
    main()
