#!/usr/bin/env python3
"""Figures of the data-parallel GPU check (tools/gpu_dp_check.sh): throughput, scaling efficiency and
equivalence of the training runs it made, as a Markdown block for docs/performance.md and a JSON summary.

usage: dp_figures.py RUNS_DIR OUT_DIR
RUNS_DIR holds one directory per run (loss.csv and metrics.json of the migu run store):
  one-b8      1 GPU, no launcher, batch 8            (throughput reference)
  nproc1-b8   1 GPU through the NCCL path (--nproc 1) (overhead of the data-parallel path)
  one-b16ga2  1 GPU, batch 16 in 2 micro-batches     (what 2 GPUs must reproduce)
  nproc2-b16  2 GPUs (--nproc 2), batch 16, 8 per GPU
Standard library only: the GPU machine has no .NET and needs nothing installed."""
import csv
import json
import os
import sys

WARMUP_STEPS = 5  # CUDA start-up, allocator growth and cuBLAS heuristics; not steady state


def read_run(path):
    with open(os.path.join(path, "loss.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(path, "metrics.json")) as f:
        metrics = json.load(f)
    return rows, metrics


def tokens_per_second(rows):
    """Tokens of the steps after the warm-up over the wall time between them (the seconds column is the
    run's clock when each step was logged)."""
    if len(rows) <= WARMUP_STEPS + 1:
        return None
    start = rows[WARMUP_STEPS]
    later = rows[WARMUP_STEPS + 1:]
    seconds = float(later[-1]["seconds"]) - float(start["seconds"])
    return sum(int(r["tokens"]) for r in later) / seconds if seconds > 0 else None


def max_relative_difference(a, b):
    losses_a = [float(r["loss"]) for r in a]
    losses_b = [float(r["loss"]) for r in b]
    if len(losses_a) != len(losses_b):
        return None
    return max(abs(x - y) / max(abs(x), 1e-12) for x, y in zip(losses_a, losses_b))


def main():
    runs_dir, out_dir = sys.argv[1], sys.argv[2]
    runs = {}
    for name in ["one-b8", "nproc1-b8", "one-b16ga2", "nproc2-b16"]:
        path = os.path.join(runs_dir, name)
        if os.path.exists(os.path.join(path, "metrics.json")):
            runs[name] = read_run(path)
    summary = {"warmup_steps": WARMUP_STEPS, "runs": {}}
    for name, (rows, metrics) in runs.items():
        summary["runs"][name] = {
            "steps": len(rows),
            "tokens_per_second": tokens_per_second(rows),
            "final_loss": float(rows[-1]["loss"]) if rows else None,
            "accuracy": metrics.get("accuracy_matrix"),
        }
    tps = {n: r["tokens_per_second"] for n, r in summary["runs"].items()}
    if tps.get("one-b8") and tps.get("nproc2-b16"):
        summary["scaling_efficiency_2gpu"] = tps["nproc2-b16"] / (2 * tps["one-b8"])
    if tps.get("one-b8") and tps.get("nproc1-b8"):
        summary["nccl_path_world1_relative_throughput"] = tps["nproc1-b8"] / tps["one-b8"]
    if "one-b16ga2" in runs and "nproc2-b16" in runs:
        summary["equivalence_2gpu_vs_1gpu_max_rel_loss_diff"] = max_relative_difference(runs["one-b16ga2"][0], runs["nproc2-b16"][0])
        summary["equivalence_2gpu_vs_1gpu_same_accuracy"] = runs["one-b16ga2"][1].get("accuracy_matrix") == runs["nproc2-b16"][1].get("accuracy_matrix")
    if "one-b8" in runs and "nproc1-b8" in runs:
        summary["equivalence_world1_max_rel_loss_diff"] = max_relative_difference(runs["one-b8"][0], runs["nproc1-b8"][0])

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "dp_summary.json"), "w") as f:
        json.dump(summary, f, indent=2)

    def fmt(value, spec):
        return format(value, spec) if isinstance(value, (int, float)) else "n/a"

    lines = [
        "| run | GPUs | launch | batch per step (per GPU × micro-batches) | steps | tokens/s after %d warm-up steps | final loss |" % WARMUP_STEPS,
        "|---|---|---|---|---|---|---|",
    ]
    shape = {
        "one-b8": ("1", "plain", "8 (8 × 1)"),
        "nproc1-b8": ("1", "--nproc 1 (NCCL)", "8 (8 × 1)"),
        "one-b16ga2": ("1", "plain", "16 (8 × 2)"),
        "nproc2-b16": ("2", "--nproc 2 (NCCL)", "16 (8 × 1 each)"),
    }
    for name, info in summary["runs"].items():
        gpus, launch, batch = shape[name]
        lines.append(f"| {name} | {gpus} | {launch} | {batch} | {info['steps']} | {fmt(info['tokens_per_second'], ',.0f')} | {fmt(info['final_loss'], '.5f')} |")
    lines.append("")
    lines.append(f"- scaling efficiency, 2 GPUs: {fmt(summary.get('scaling_efficiency_2gpu'), '.3f')} "
                 "(tokens/s of nproc2-b16 ÷ (2 × tokens/s of one-b8))")
    lines.append(f"- NCCL path with one rank: {fmt(summary.get('nccl_path_world1_relative_throughput'), '.3f')} × the plain run's tokens/s; "
                 f"largest relative loss difference {fmt(summary.get('equivalence_world1_max_rel_loss_diff'), '.2e')}")
    lines.append(f"- 2 GPUs vs 1 GPU with the same micro-batches: largest relative loss difference over "
                 f"{summary['runs'].get('nproc2-b16', {}).get('steps', 'n/a')} steps "
                 f"{fmt(summary.get('equivalence_2gpu_vs_1gpu_max_rel_loss_diff'), '.2e')}; "
                 f"same accuracy matrix: {summary.get('equivalence_2gpu_vs_1gpu_same_accuracy', 'n/a')}")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "dp_figures.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
