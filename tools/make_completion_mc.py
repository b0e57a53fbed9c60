#!/usr/bin/env python3
"""Builds a sentence-completion multiple-choice benchmark from a CL_Benchmark split.

Our own construction, in the shape of HellaSwag (context + endings): for a sentence "Title: T
Text: w1 … wn", the context is the title and the first half of the text, the right choice the
second half, and three wrong choices are second halves of other sentences of the split whose
length (in words) is within half and twice that of the right one. Deterministic for a seed.
Writes JSON Lines of {"context", "choices", "answer"}, the format `migu` reads.

    python3 tools/make_completion_mc.py ../shared/data/cl_benchmark/TC/dbpedia/test.json \
        recipes/data/dbpedia-completion-mc.jsonl --items 200 --seed 1234

Only the standard library; runs anywhere.
"""
import argparse
import json
import random


def halves(sentence):
    """(prefix, first half of the text, second half) or None when the text is too short."""
    at = sentence.find("Text:")
    head, text = (sentence[: at + len("Text:")], sentence[at + len("Text:"):]) if at >= 0 else ("", sentence)
    words = text.split()
    if not 12 <= len(words) <= 60:
        return None
    k = len(words) // 2
    return head, " ".join(words[:k]), " ".join(words[k:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("split", help="a CL_Benchmark split file (JSON array of {sentence, label})")
    parser.add_argument("out", help="the JSON Lines file to write")
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    rows = json.load(open(args.split, encoding="utf-8"))
    usable = [h for h in (halves(r["sentence"]) for r in rows) if h is not None]
    rng = random.Random(args.seed)
    rng.shuffle(usable)
    items = []
    for i, (head, first, second) in enumerate(usable):
        if len(items) == args.items:
            break
        n = len(second.split())
        pool = [u[2] for j, u in enumerate(usable) if j != i and n / 2 <= len(u[2].split()) <= n * 2 and u[2] != second]
        if len(pool) < 3:
            continue
        choices = rng.sample(pool, 3) + [second]
        rng.shuffle(choices)
        context = f"{head} {first}" if head else first
        items.append({"context": context, "choices": choices, "answer": choices.index(second)})

    with open(args.out, "w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(items)} questions from {args.split} -> {args.out}")


if __name__ == "__main__":
    main()
