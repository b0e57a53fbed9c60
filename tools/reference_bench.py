#!/usr/bin/env python3
"""Runs the PyTorch MIGU reference (../shared/reference/pytorch_migu_reference.py) one case per
call and adds the peak device memory in use, sampled with torch.cuda.mem_get_info every 2 ms, so
it compares with `migu bench`'s NVML-sampled peak (both: peak used minus used after CUDA init).

Usage: python3 tools/reference_bench.py REFERENCE.py CASE [--steps N] [--warm N]
"""
import argparse
import importlib.util
import json
import threading
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("case")
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--warm", type=int, default=4)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("reference", a.reference)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)

    torch.zeros(1, device="cuda")  # CUDA context first, as migu bench does before its baseline
    free, total = torch.cuda.mem_get_info()
    baseline = total - free
    peak = [baseline]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            f, t = torch.cuda.mem_get_info()
            peak[0] = max(peak[0], t - f)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    src = 256 if a.case.startswith("t5") else 1024
    result = ref.run(a.case, a.steps, a.warm, 8, src, 16, 0.7)
    stop.set()
    sampler.join()
    result["peak_used_gib"] = round((peak[0] - baseline) / 2**30, 2)
    result["device"] = torch.cuda.get_device_name(0)
    result["torch"] = torch.__version__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
