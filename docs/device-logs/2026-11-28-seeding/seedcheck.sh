#!/usr/bin/env bash
# Same command twice on CUDA after seeding the CUDA generators too: do the runs start from the same
# weights and follow the same losses?
set -u
R=$OUT; exec > >(tee $R/console.log) 2>&1
mkdir -p /tmp/m && tar -xJf .device/migu.tar.xz -C /tmp/m
export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
M=/tmp/m/migu; D=.device/cl_benchmark
for m in llama-mini t5-mini roberta-mini; do for k in 1 2; do
  $M pretrain --model $m --corpus $D/TC/dbpedia --steps 30 --device cuda --out /tmp/p-$m-$k 2>&1 | grep "held-out"
done; done
for k in 1 2; do
  $M run --tasks agnews,yelp --model llama-mini --method ft --migu 0.7 --epochs 1 --max-train 128 --max-test 32 --device cuda --out /tmp/r-$k 2>&1 | grep -a "│ ft"
done
python3 - <<'PY'
import csv
def col(path, name):
    rows = list(csv.DictReader(open(path)))
    return [float(r[name]) for r in rows]
for base in ["/tmp/p-llama-mini", "/tmp/p-t5-mini", "/tmp/p-roberta-mini", "/tmp/r"]:
    a, b = col(base + "-1/loss.csv", "loss"), col(base + "-2/loss.csv", "loss")
    d = max(abs(x - y) / max(abs(x), 1e-9) for x, y in zip(a, b))
    print(f"{base}: {len(a)} steps, first loss {a[0]:.6f} / {b[0]:.6f}, identical steps {sum(x == y for x, y in zip(a, b))}, max relative diff {d:.2e}")
PY
