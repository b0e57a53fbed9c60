#!/usr/bin/env python3
"""Turns tools/gpu_bench_interleaved.py's jsonl into docs/performance.md's tables (markdown on stdout).

One run = one block's median step; the warm round is left out. Per case and stack: the median of
the runs and their range; tokens/s from that median; MFU (full fine-tuning) as 6 x params x tokens/s
over 989 TFLOP/s (H100/H200 dense bf16); MIGU cost and the Migu.NET/PyTorch tokens/s ratio as the
median of per-round ratios (blocks of one round ran seconds apart, so drift cancels); memory held as
the device memory that grew while that stack built and ran up to its first block in the mode (the
other process is idle meanwhile, and caching allocators keep what they took), with the reference's
own torch peak allocated alongside. The lever table: Migu.NET alone on llama-1b ft, each lever's
runs against 'none' in the same rounds.

Usage: gpu_bench_summary.py BENCH.jsonl [--host HOST.txt]
"""
import argparse
import collections
import json
import statistics

PEAK_FLOPS = 989e12
MODE_NAME = {"off": "", "gradient": "+MIGU", "update": "+MIGU (update)"}


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line cut by a kill
    return rows


def fmt_range(values, digits=1):
    if not values:
        return "–"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.{digits}f} (n 1)"
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f}, n {len(values)})"


def pct(values):
    if not values:
        return "–"
    med = statistics.median(values)
    return f"{100 * med:+.1f}% ({100 * min(values):+.1f}…{100 * max(values):+.1f})"


class Stack:
    """One stack's builds and blocks in one session."""

    def __init__(self):
        self.ready = {}
        self.blocks = []  # (round, warm, mode, levers, median_ms, growth_mib, reply)
        self.build_growth = 0

    def runs(self, mode, levers="default"):
        """Timed block medians by round."""
        return {r: ms for r, warm, m, lv, ms, _, _ in self.blocks
                if not warm and m == mode and lv == levers and ms is not None}

    def held_gib(self, mode):
        """Device memory grown while this stack built and ran, up to its first block in `mode`."""
        if self.build_growth is None:
            return None
        total = self.build_growth
        for _, _, m, _, _, growth, _ in self.blocks:
            if growth is None:
                return None
            total += growth
            if m == mode:
                return total / 1024
        return None


def sessions_of(rows):
    sessions = collections.OrderedDict()
    for r in rows:
        s = r.get("session")
        if not s:
            continue
        stacks = sessions.setdefault(s, {})
        ev = r.get("event")
        growth = None
        if r.get("gpu_used_mib_before") is not None and r.get("gpu_used_mib_after") is not None:
            growth = r["gpu_used_mib_after"] - r["gpu_used_mib_before"]
        if ev == "build" and r.get("ready"):
            st = stacks.setdefault(r["stack"], Stack())
            st.ready = r
            st.build_growth = growth
        elif ev == "block" and "median_ms" in r:
            st = stacks.setdefault(r["stack"], Stack())
            levers = r.get("levers", "default") if r["stack"] == "migu.net" else "default"
            # Ours reports the levers it ran with; the request says whether they were the defaults.
            request_levers = r.get("request", "").split()
            if r["stack"] == "migu.net" and len(request_levers) == 5:
                levers = request_levers[2]
            st.blocks.append((r.get("round"), r.get("warm"), r.get("migu"), levers, r["median_ms"], growth, r))
    return sessions


def case_table(sessions):
    out = ["| case | Migu.NET ms (range, n) | tokens/s | MIGU cost | held GiB | PyTorch ms (range, n) | tokens/s | "
           "MIGU cost | held GiB (torch peak alloc.) | tokens/s ratio (range) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name, stacks in sessions.items():
        if name.startswith(("levers", "build")):
            continue
        ours, ref = stacks.get("migu.net", Stack()), stacks.get("pytorch", Stack())
        model = (ref.ready.get("case") or ours.ready.get("case") or name).rsplit("-", 1)[0].replace("-like", "")
        method = "lora" if "lora" in name else "ft"
        for mode in ("off", "gradient"):
            cells = [f"{model} {method}{MODE_NAME[mode]}"]
            for st in (ours, ref):
                runs = st.runs(mode)
                if not runs:
                    cells += ["–"] * 4
                    continue
                med = statistics.median(runs.values())
                tokens = st.ready.get("tokens_per_step")
                tps = f"{tokens / (med / 1000):,.0f}" if tokens else "–"
                if tokens and method == "ft" and st.ready.get("params") and st.ready.get("device", "cpu") != "cpu":
                    tps += f" ({100 * 6 * st.ready['params'] * tokens / (med / 1000) / PEAK_FLOPS:.1f}% MFU)"
                off = st.runs("off")
                cost = pct([ms / off[r] - 1 for r, ms in runs.items() if r in off]) if mode != "off" else ""
                held = st.held_gib(mode)
                held_text = "–" if held is None else f"{held:.1f}"
                if st is ref:
                    alloc = [b[6].get("max_allocated_gib") for b in st.blocks if b[2] == mode and b[6].get("max_allocated_gib") is not None]
                    if alloc:
                        held_text += f" ({max(alloc):.1f})"
                cells += [fmt_range(list(runs.values())), tps, cost, held_text]
            a, b = ours.runs(mode), ref.runs(mode)
            ratios = [b[r] / a[r] for r in a if r in b]
            cells.append("–" if not ratios else
                         f"**{statistics.median(ratios):.2f}×** ({min(ratios):.2f}–{max(ratios):.2f})")
            out.append("| " + " | ".join(cells) + " |")
    return out


def lever_table(sessions):
    out = []
    for name, stacks in sessions.items():
        if not name.startswith("levers") or "migu.net" not in stacks:
            continue
        st = stacks["migu.net"]
        out += [f"Levers, Migu.NET alone ({st.ready.get('case', name)}, MIGU T = 0.7):", "",
                "| MIGU mode | levers | step ms (range, n) | against none, same rounds |", "|---|---|---|---|"]
        seen = []  # in the warm round's order (timed rounds rotate it)
        for _, _, mode, levers, _, _, _ in st.blocks:
            if (mode, levers) not in seen:
                seen.append((mode, levers))
        for mode, levers in seen:
            runs, base = st.runs(mode, levers), st.runs(mode, "none")
            against = "" if levers == "none" else pct([ms / base[r] - 1 for r, ms in runs.items() if r in base])
            out.append(f"| {mode} | {levers} | {fmt_range(list(runs.values()), 2)} | {against} |")
        out.append("")
    return out


def build_table(rows):
    builds = [r for r in rows if r.get("event") == "build" and str(r.get("session", "")).startswith("build-")]
    if not builds:
        return []
    out = ["Build-time lever (direct-bf16), Migu.NET building the llama ft case and quitting:", "",
           "| levers at build | build s | device memory held after the build, GiB |", "|---|---|---|"]
    for r in builds:
        before, after = r.get("gpu_used_mib_before"), r.get("gpu_used_mib_after")
        held = "–" if before is None or after is None else f"{(after - before) / 1024:.2f}"
        out.append(f"| {r.get('build_levers', r['session'])} | {r.get('wall_s')} | {held} |")
    return out + [""]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--host")
    a = ap.parse_args()
    rows = load(a.jsonl)
    sessions = sessions_of(rows)
    lines = ["# Interleaved benchmark summary", ""]
    if a.host:
        with open(a.host) as f:
            lines += ["Host:", "", *("    " + l.rstrip() for l in f if l.strip()), ""]
    for r in rows:
        if r.get("event") == "build" and r.get("ready"):
            keys = ("torch", "cuda", "transformers", "peft", "torchsharp", "device", "dtype", "stand_in", "build_levers")
            lines.append(f"- {r['stack']} {r.get('case')}: " + ", ".join(f"{k} {r[k]}" for k in keys if k in r)
                         + f"; params {r.get('params'):,}, build {r.get('wall_s')} s")
    lines.append("")
    lines += case_table(sessions) + [""] + lever_table(sessions) + build_table(rows)
    problems = [r for r in rows if r.get("event") in ("skip", "stop", "abort") or "error" in r]
    if problems:
        lines += ["Not measured or cut short:", ""]
        lines += [f"- {r.get('session', '')} {r.get('stack', '')}: " + json.dumps(
            {k: v for k, v in r.items() if k in ("error", "skipped", "stopped", "after_rounds", "reason", "request")})
            for r in problems]
        lines.append("")
    end = [r for r in rows if r.get("event") == "end"]
    lines.append(f"Driver {'finished with ' + str(end[-1].get('left_s')) + ' s of budget left' if end else 'did not finish (killed?)'}; "
                 f"{len(rows)} lines read.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
