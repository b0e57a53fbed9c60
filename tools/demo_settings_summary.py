#!/usr/bin/env python3
"""Summarises the demo-settings stage of tools/minilm_study.py: for each candidate setting, each task's
accuracy right after training it (mean ± sample std and min over seeds), ACC and BWT, and the training
tokens of one run (the demo's CPU cost grows with them; a smaller batch costs about the same per token).
Usage: demo_settings_summary.py RUNS_FOLDER_OR_JSONL... [--seeds 1,2,3]
Runs are read as tools/minilm_summary.py reads them (finished runs named setting-NAME-sSEED). Each
setting is summarised over its finished seeds (all of them, or those of --seeds); the seeds column
names them, so settings run on different seeds are not compared as if paired.
"""
import argparse
import statistics
from collections import defaultdict

from minilm_summary import load, pm


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+")
    p.add_argument("--seeds", help="comma-separated seeds to summarise (default: every finished one)")
    opts = p.parse_args()
    wanted = None if opts.seeds is None else {int(s) for s in opts.seeds.split(",")}
    table = defaultdict(dict)
    for source in opts.sources:
        for run in load(source):
            if run["stage"] == "setting" and (wanted is None or run["seed"] in wanted):
                table[run["config"]][run["seed"]] = run["m"]
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
        print(f"  {setting}: " + " ".join(f"s{s}={100 * by_seed[s]['accuracy_matrix'][amazon][amazon]:.0f}" for s in sorted(by_seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
