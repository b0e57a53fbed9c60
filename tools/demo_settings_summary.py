#!/usr/bin/env python3
"""Summarises the demo-settings stage of tools/minilm_study.py: for each candidate setting, each task's
accuracy right after training it (mean ± sample std and min over seeds), ACC and BWT, and the training
tokens of one run (the demo's CPU cost grows with them; a smaller batch costs about the same per token).
Usage: demo_settings_summary.py RUNS_FOLDER_OR_JSONL... [--seeds 1,2,3] [--embedded DEMO_DATA_ROOT]
Runs are read as tools/minilm_summary.py reads them (finished runs named setting-NAME-sSEED). Each
setting is summarised over its finished seeds (all of them, or those of --seeds); the seeds column
names them, so settings run on different seeds are not compared as if paired.
--embedded: for runs scored on a larger amazon test split than the demo's (data from
`make_demo_data.py --test amazon=N`, a superset of the embedded one), also amazon right after training
it on just the examples of DEMO_DATA_ROOT's amazon test split (src/Migu.Continual/Data/Demo), read from
the run folders' predictions: how far the demo's own 100 examples stray from the larger measurement.
"""
import argparse
import json
import os
import statistics
from collections import defaultdict

from minilm_summary import load, pm


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+")
    p.add_argument("--seeds", help="comma-separated seeds to summarise (default: every finished one)")
    p.add_argument("--embedded", help="the embedded demo data root: amazon on its test examples too (run folders only)")
    opts = p.parse_args()
    wanted = None if opts.seeds is None else {int(s) for s in opts.seeds.split(",")}
    table = defaultdict(dict)
    folders = defaultdict(dict)
    for source in opts.sources:
        for run in load(source):
            if run["stage"] == "setting" and (wanted is None or run["seed"] in wanted):
                table[run["config"]][run["seed"]] = run["m"]
                folders[run["config"]][run["seed"]] = os.path.join(source, run["name"]) if os.path.isdir(source) else None
    if not table:
        print("no finished setting-* runs")
        return 1
    tasks = next(iter(next(iter(table.values())).values()))["tasks"]
    print("| setting | seeds | " + " | ".join(f"{t} right after (min)" for t in tasks) + " | ACC | BWT | train tokens |")
    print("|---|---|" + "---|" * len(tasks) + "---|---|---|")
    for setting, by_seed in sorted(table.items()):
        rows = [by_seed[s] for s in sorted(by_seed)]
        cells = []
        for i, _ in enumerate(tasks):
            diagonal = [m["accuracy_matrix"][i][i] for m in rows]
            cells.append(f"{pm(diagonal)} ({100 * min(diagonal):.0f})")
        tokens = statistics.mean(sum(t["train_tokens"] for t in m["timings"]) for m in rows)
        print(f"| {setting} | {','.join(map(str, sorted(by_seed)))} | " + " | ".join(cells) +
              f" | {pm([m['acc'] for m in rows])} | {pm([m['bwt'] for m in rows])} | {tokens:.0f} |")
    print("\nper seed, amazon right after training it:")
    amazon = tasks.index("amazon") if "amazon" in tasks else 1
    for setting, by_seed in sorted(table.items()):
        print(f"  {setting}: " + " ".join(f"s{s}={100 * by_seed[s]['accuracy_matrix'][amazon][amazon]:.1f}" for s in sorted(by_seed)))
    if opts.embedded:
        print_embedded(table, folders, amazon, opts.embedded)
    return 0


def print_embedded(table, folders, amazon, root):
    """Amazon right after training it on all its scored examples and on the embedded test's examples only."""
    with open(os.path.join(root, "SC", "amazon", "test.json"), encoding="utf-8") as f:
        embedded = {(e["sentence"], e["label"]) for e in json.load(f)}
    print(f"\namazon right after training it: all scored examples | the embedded test's {len(embedded)} only")
    print("| setting | seed | all | embedded |\n|---|---|---|---|")
    for setting, by_seed in sorted(table.items()):
        for seed in sorted(by_seed):
            folder = folders[setting].get(seed)
            path = folder and os.path.join(folder, "predictions", f"after-{amazon + 1:02d}-amazon.jsonl")
            if not path or not os.path.exists(path):
                continue
            rows = [json.loads(line) for line in open(path, encoding="utf-8")]
            rows = sorted((r for r in rows if r["task"] == "amazon"), key=lambda r: r["index"])
            with open(os.path.join(os.path.dirname(os.path.dirname(path)), "recipe.json")) as f:
                data_root = json.load(f).get("data")
            if not data_root:
                continue
            with open(os.path.join(data_root, "SC", "amazon", "test.json"), encoding="utf-8") as f:
                scored = [(e["sentence"], e["label"]) for e in json.load(f)]
            if len(scored) != len(rows):
                continue
            hits = [r["prediction"] == r["gold"] for r in rows]
            own = [h for h, e in zip(hits, scored) if e in embedded]
            if len(own) != len(embedded):
                raise SystemExit(f"{path}: the scored split holds {len(own)} of the embedded test's {len(embedded)} examples")
            print(f"| {setting} | {seed} | {100 * sum(hits) / len(hits):.1f} | {100 * sum(own) / len(own):.0f} |")


if __name__ == "__main__":
    raise SystemExit(main())
