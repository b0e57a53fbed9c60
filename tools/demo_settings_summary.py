#!/usr/bin/env python3
"""Summarises the demo-settings stage of tools/minilm_study.py: for each candidate setting, each task's
accuracy right after training it (mean, sample std, min over seeds), ACC and BWT, and the training
tokens of one run (the demo's CPU cost grows with them; a smaller batch costs a little more per token).
Usage: demo_settings_summary.py RUNS_FOLDER_OR_TAR_XZ_OR_JSONL... [--seeds 1,2,3]
Each setting is summarised over its finished seeds (all of them, or those of --seeds); the seeds
column names them, so settings run on different seeds are not compared as if paired.
"""
import argparse
import json
import os
import re
import statistics
import tarfile
from collections import defaultdict

NAME = re.compile(r"^setting-(?P<setting>.+)-s(?P<seed>\d+)$")


def runs(source):
    """(setting, seed, metrics) of every run in a runs folder, a packed .tar.xz or a runs.jsonl
    (one {"run", "metrics", "recipe"} object a line, as committed under docs/device-logs)."""
    if source.endswith(".jsonl"):
        with open(source) as f:
            for line in f:
                entry = json.loads(line)
                match = NAME.match(entry["run"])
                if match:
                    yield match["setting"], int(match["seed"]), entry["metrics"]
    elif os.path.isdir(source):
        for name in sorted(os.listdir(source)):
            path = os.path.join(source, name, "metrics.json")
            match = NAME.match(name)
            if match and os.path.exists(path):
                with open(path) as f:
                    yield match["setting"], int(match["seed"]), json.load(f)
    else:
        with tarfile.open(source) as tar:
            for member in tar.getmembers():
                folder, _, file = member.name.partition("/")
                match = NAME.match(folder)
                if match and file == "metrics.json":
                    yield match["setting"], int(match["seed"]), json.load(tar.extractfile(member))


def spread(values):
    mean = statistics.mean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * mean:.1f} ± {100 * std:.1f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sources", nargs="+")
    p.add_argument("--seeds", help="comma-separated seeds to summarise (default: every finished one)")
    opts = p.parse_args()
    wanted = None if opts.seeds is None else {int(s) for s in opts.seeds.split(",")}
    table = defaultdict(dict)
    tasks = None
    for source in opts.sources:
        for setting, seed, metrics in runs(source):
            if metrics.get("finished") is True and (wanted is None or seed in wanted):
                table[setting][seed] = metrics
                tasks = metrics["tasks"]
    if not table:
        print("no finished setting-* runs")
        return 1
    print("| setting | seeds | " + " | ".join(f"{t} right after (min)" for t in tasks) + " | ACC | BWT | train tokens |")
    print("|---|---|" + "---|" * len(tasks) + "---|---|---|")
    for setting, by_seed in sorted(table.items()):
        seeds = sorted(by_seed)
        rows = [by_seed[s] for s in seeds]
        cells = []
        for i, _ in enumerate(tasks):
            diagonal = [m["accuracy_matrix"][i][i] for m in rows]
            cells.append(f"{spread(diagonal)} ({100 * min(diagonal):.0f})")
        tokens = statistics.mean(sum(t["train_tokens"] for t in m["timings"]) for m in rows)
        print(f"| {setting} | {','.join(map(str, seeds))} | " + " | ".join(cells) +
              f" | {spread([m['acc'] for m in rows])} | {spread([m['bwt'] for m in rows])} | {tokens:.0f} |")
    print("\nper seed, amazon right after training it:")
    amazon = tasks.index("amazon") if "amazon" in tasks else 1
    for setting, by_seed in sorted(table.items()):
        print(f"  {setting}: " + " ".join(f"s{s}={100 * by_seed[s]['accuracy_matrix'][amazon][amazon]:.0f}" for s in sorted(by_seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
