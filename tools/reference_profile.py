#!/usr/bin/env python3
"""Profiles the PyTorch MIGU reference's training step (tools/pytorch_migu_reference.py) with
torch.profiler: the top CUDA kernels and operators by GPU time, the kernels launched per step, and
how much of the step's wall time the GPU was busy (a launch- or host-bound step leaves it idle).
For issue 18's missed targets: what bounds each case. Usage (GPU machine):
  reference_profile.py --cases llama-1b-ft,llama-1b-ftmigu,t5-large-ft [--steps 5] [--top 25]
"""
import argparse
import json
import os
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_migu_reference import Migu, build  # noqa: E402


def profile_case(case, steps, warm, batch, seq, src, tgt, threshold, top):
    torch.manual_seed(0)
    model, kind, lora, migu = build(case)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, fused=True)
    masker = Migu(model, threshold, lora) if migu else None
    g = torch.Generator(device="cuda").manual_seed(1)

    def batch_fn():
        length = src if kind == "t5" else seq
        x = torch.randint(2, 32000, (batch, length), device="cuda", generator=g)
        y = torch.randint(2, 32000, (batch, tgt), device="cuda", generator=g) if kind == "t5" else x
        return dict(input_ids=x, attention_mask=torch.ones_like(x), labels=y)

    def step():
        inputs = batch_fn()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(**inputs).loss
        loss.backward()
        if masker:
            masker.apply()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(warm):
        step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        wall = time.perf_counter() - t0
    events = prof.key_averages()
    # The profiler also lists pseudo-events on the device timeline ("Command Buffer Full": the host
    # waiting on a full launch queue), which are not kernels and would count twice.
    kernels = [e for e in prof.events()
               if e.device_type == torch.autograd.DeviceType.CUDA and e.name != "Command Buffer Full"]
    busy_us = sum(k.device_time for k in kernels) if kernels and hasattr(kernels[0], "device_time") else sum(k.cuda_time for k in kernels)
    print(f"## reference {case}: {steps} profiled steps, {1e3 * wall / steps:.1f} ms a step (profiler on), "
          f"{len(kernels) / steps:.0f} kernels a step, GPU kernel time {busy_us / 1e3 / steps:.1f} ms a step "
          f"= {100 * busy_us / 1e6 / wall:.0f} % of the wall time")
    sort = "self_device_time_total" if hasattr(events[0], "self_device_time_total") else "self_cuda_time_total"
    print(events.table(sort_by=sort, row_limit=top, max_name_column_width=70))
    print(json.dumps({"case": case, "step_ms_profiled": round(1e3 * wall / steps, 2), "kernels_per_step": round(len(kernels) / steps),
                      "gpu_busy_ms_per_step": round(busy_us / 1e3 / steps, 2), "gpu_busy_pct": round(100 * busy_us / 1e6 / wall, 1)}), flush=True)
    del model, opt, masker
    torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default="llama-1b-ft,llama-1b-ftmigu,t5-large-ft")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warm", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--src", type=int, default=256)
    p.add_argument("--tgt", type=int, default=16)
    p.add_argument("--threshold", type=float, default=0.7)
    p.add_argument("--top", type=int, default=25)
    a = p.parse_args()
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    for case in a.cases.split(","):
        profile_case(case, a.steps, a.warm, a.batch, a.seq, a.src, a.tgt, a.threshold, a.top)


if __name__ == "__main__":
    main()
