#!/usr/bin/env python3
"""Turns the run stores of tools/minilm_study.py into the markdown tables of docs/results-minilm.md
(stages demo, tune, report) and docs/results.md (stage grid). Standard library only.

    python3 tools/minilm_summary.py RUNS [demo|tune|report|grid ...]
    python3 tools/minilm_summary.py --stores RUNS_JSONL OUT_FOLDER [PREFIX]

RUNS is a folder with one folder per run (metrics.json, recipe.json), as study.tar.xz unpacks, or a
runs.jsonl (one {"run", "metrics", "recipe"} line a run, as docs/device-logs/2026-12-05-minilm has).
--stores writes the runs of a runs.jsonl whose names start with PREFIX back as run stores for
`migu report`, with each recipe's model path shortened to its folder name (the runs of different
device calls read one checkpoint from different temporary paths, which the report would otherwise
treat as different models).
Accuracies are percentages; "a ± s" is the mean and the sample standard deviation over seeds.
"""
import json
import os
import re
import statistics
import sys

# "setting" is the demo-settings stage (tools/demo_settings_summary.py prints its table).
NAME = re.compile(r"^(?P<stage>demo|tune|report|grid|setting)-(?P<config>.+)-s(?P<seed>\d+)$")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load(root):
    runs = []
    if os.path.isfile(root):
        for entry in read_jsonl(root):
            match = NAME.match(entry["run"])
            if match and entry["metrics"].get("finished"):
                runs.append({"name": entry["run"], "stage": match["stage"], "config": match["config"],
                             "seed": int(match["seed"]), "m": entry["metrics"]})
        return sorted(runs, key=lambda r: r["name"])
    for name in sorted(os.listdir(root)):
        match = NAME.match(name)
        path = os.path.join(root, name, "metrics.json")
        if not match or not os.path.exists(path):
            continue
        with open(path) as f:
            metrics = json.load(f)
        if metrics.get("finished"):
            runs.append({"name": name, "stage": match["stage"], "config": match["config"], "seed": int(match["seed"]),
                         "m": metrics})
    return runs


def pm(values, scale=100.0):
    values = [v * scale for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.1f}"
    return f"{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}"


def group(runs, stage):
    groups = {}
    for run in runs:
        if run["stage"] == stage:
            groups.setdefault(run["config"], []).append(run)
    return groups


def diagonal(m):
    """Each task right after training it; MTL trains all tasks in one phase, so its one row."""
    rows = m["accuracy_matrix"]
    return [row[i] for i, row in enumerate(rows)] if len(rows) == len(m["tasks"]) else rows[-1]


def mean_matrix(runs):
    matrices = [r["m"]["accuracy_matrix"] for r in runs]
    rows, cols = len(matrices[0]), len(matrices[0][0])
    return [[statistics.mean(mx[i][j] for mx in matrices) for j in range(cols)] for i in range(rows)]


def seeds(runs):
    return ",".join(str(s) for s in sorted(r["seed"] for r in runs))


def summary_table(groups, order=None):
    lines = ["| configuration | seeds | ACC | BWT | forgetting | macro-F1 | diagonal (each task right after training it) |",
             "|---|---|---|---|---|---|---|"]
    keys = order if order else sorted(groups)
    for key in keys:
        if key not in groups:
            continue
        runs = groups[key]
        tasks = runs[0]["m"]["tasks"]
        diag = [statistics.mean(diagonal(r["m"])[i] for r in runs) * 100 for i in range(len(tasks))]
        diag_text = ", ".join(f"{t} {d:.1f}" for t, d in zip(tasks, diag))
        lines.append(f"| {key} | {seeds(runs)} | {pm([r['m']['acc'] for r in runs])} | {pm([r['m']['bwt'] for r in runs])}"
                     f" | {pm([r['m']['forgetting'] for r in runs])} | {pm([r['m']['macro_f1'] for r in runs])} | {diag_text} |")
    return "\n".join(lines)


def matrices(groups, order=None):
    out = []
    for key in (order if order else sorted(groups)):
        if key not in groups:
            continue
        runs = groups[key]
        tasks = runs[0]["m"]["tasks"]
        out.append(f"**{key}** (mean over seeds {seeds(runs)}; rows: after training that task, columns: scored on)\n")
        out.append("| after \\ on | " + " | ".join(tasks) + " |")
        out.append("|---" * (len(tasks) + 1) + "|")
        for i, row in enumerate(mean_matrix(runs)):
            out.append(f"| {tasks[i]} | " + " | ".join(f"{v * 100:.1f}" for v in row) + " |")
        out.append("")
    return "\n".join(out)


GRID_METHODS = ["ft", "lora", "replay", "replay-lora", "inclora", "olora", "ewc", "mtl"]


def grid_runs(runs):
    """The grid stage's runs, each with its name parsed: order, method and MIGU setting."""
    for run in runs:
        if run["stage"] == "grid":
            yield run, re.match(r"o(?P<order>\d)-(?P<method>[a-z-]+?)-(?P<migu>off|T.+)$", run["config"])


def grid_table(runs):
    """Paper's Table 2 shape: ACC ± std per method and MIGU setting, per order and averaged over orders."""
    cells = {}
    for run, match in grid_runs(runs):
        cells.setdefault((match["method"], match["migu"]), {}).setdefault(int(match["order"]), []).append(run)
    lines = ["| method | MIGU | order 1 | order 2 | order 3 | average ACC | average BWT | average forgetting | runs |",
             "|---|---|---|---|---|---|---|---|---|"]
    for method in GRID_METHODS:
        for (m, migu), by_order in sorted(cells.items(), key=lambda kv: (kv[0][1] != "off", kv[0][1])):
            if m != method:
                continue
            every = [r for runs_ in by_order.values() for r in runs_]
            per_order = [pm([r["m"]["acc"] for r in by_order.get(o, [])]) for o in (1, 2, 3)]
            # The average over orders of each seed's ACC: one figure per seed, so the spread is across seeds.
            by_seed = {}
            for r in every:
                by_seed.setdefault(r["seed"], []).append(r)
            complete = [rs for rs in by_seed.values() if len(rs) == len(by_order)]
            avg = lambda key: pm([statistics.mean(r["m"][key] for r in rs) if all(r["m"][key] is not None for r in rs) else None
                                  for rs in complete])
            lines.append(f"| {method} | {migu} | " + " | ".join(per_order) +
                         f" | {avg('acc')} | {avg('bwt')} | {avg('forgetting')} | {len(every)} |")
    return "\n".join(lines)


def grid_effect_table(runs):
    """MIGU's effect as paired differences: per seed, the order-averaged ACC (BWT) with MIGU minus without."""
    per = {}
    for run, match in grid_runs(runs):
        per.setdefault((match["method"], match["migu"], run["seed"]), []).append(run["m"])
    lines = ["| method | MIGU | Δ ACC (points) | Δ BWT (points) | seeds where ACC rose |",
             "|---|---|---|---|---|"]
    for method in GRID_METHODS:
        settings = sorted({k[1] for k in per if k[0] == method and k[1] != "off"})
        for migu in settings:
            d_acc, d_bwt = [], []
            for seed in sorted({k[2] for k in per if k[0] == method}):
                off, on = per.get((method, "off", seed)), per.get((method, migu, seed))
                if not off or not on or len(off) != 3 or len(on) != 3:
                    continue
                d_acc.append(statistics.mean(m["acc"] for m in on) - statistics.mean(m["acc"] for m in off))
                d_bwt.append(statistics.mean(m["bwt"] for m in on) - statistics.mean(m["bwt"] for m in off))
            rose = sum(1 for d in d_acc if d > 0)
            lines.append(f"| {method} | {migu} | {pm(d_acc)} | {pm(d_bwt)} | {rose} of {len(d_acc)} |")
    return "\n".join(lines)


def write_stores(jsonl, out, prefix=""):
    for entry in read_jsonl(jsonl):
        if not entry["run"].startswith(prefix):
            continue
        folder = os.path.join(out, entry["run"])
        os.makedirs(folder, exist_ok=True)
        recipe = dict(entry["recipe"])
        recipe["model"] = os.path.basename(str(recipe["model"]).rstrip("/"))
        for name, value in (("metrics.json", entry["metrics"]), ("recipe.json", recipe)):
            with open(os.path.join(folder, name), "w") as f:
                json.dump(value, f, indent=2)


def main():
    if sys.argv[1] == "--stores":
        write_stores(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
        return
    root = sys.argv[1]
    stages = sys.argv[2:] or ["demo", "tune", "report", "grid"]
    runs = load(root)
    for stage in stages:
        print(f"## stage {stage}\n")
        if stage == "grid":
            print(grid_table(runs))
            print()
            print(grid_effect_table(runs))
        else:
            groups = group(runs, stage)
            print(summary_table(groups))
            print()
            if stage in ("report", "demo"):
                print(matrices(groups))
        print()


if __name__ == "__main__":
    main()
