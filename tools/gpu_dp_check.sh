#!/usr/bin/env bash
# Data parallelism on a GPU machine that has PyTorch (libtorch + CUDA + NCCL from its wheels) but no .NET:
#   1. migu info and dist-check with one rank (the NCCL path at world size 1),
#   2. dist-check with two ranks (--nproc 2) when two GPUs are visible,
#   3. llama-1b-like fine-tuning with MIGU on one task, four runs: 1 GPU batch 8 (throughput reference),
#      1 GPU through --nproc 1 (NCCL, world size 1), 1 GPU batch 16 in 2 micro-batches, and 2 GPUs batch 16;
#      then tools/dp_figures.py: tokens/s, scaling efficiency, equivalence of 2 GPUs with 1 GPU.
# Results (JSON, loss.csv/metrics.json of each run, dp_figures.md) go to $OUT (or ./gpu-dp-out).
#
# usage: tools/gpu_dp_check.sh [BUNDLE.tar.xz]    (default out/migu.tar.xz; see docs/distributed.md for
#        building it: dotnet publish src/Migu.Cli -c Release -r linux-x64 --self-contained -p:MiguBundleLibTorch=false)
# MIGU_DP_MODEL=PRESET picks another model for the GPU runs (default llama-1b-like).
# MIGU_DP_SMOKE=1 runs the same steps on the CPU with llama-tiny and mpirun, to check the script without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:-out/migu.tar.xz}
RESULTS=${OUT:-$PWD/gpu-dp-out}
RUNS=${MIGU_DP_RUNS:-/tmp/migu-dp-runs}
SMOKE=${MIGU_DP_SMOKE:-0}
STEP_TIMEOUT=${MIGU_DP_STEP_TIMEOUT:-180}
BUDGET=${MIGU_DP_BUDGET:-540} # seconds for all steps: the device call allows 600
DEADLINE=$((SECONDS + BUDGET))
mkdir -p "$RESULTS" "$RUNS"
failures=0
step() { # step NAME COMMAND...: runs within its time limit and the budget, logs to $RESULTS/NAME.log, keeps going on failure
  local name=$1; shift
  local left=$((DEADLINE - SECONDS))
  if [ $left -lt 20 ]; then echo "== $name: skipped, the time budget is spent"; failures=$((failures + 1)); return 1; fi
  local limit=$((left < STEP_TIMEOUT ? left : STEP_TIMEOUT))
  echo "== $name (limit $limit s): $*"
  local start=$SECONDS
  timeout -k 15 "$limit" "$@" >"$RESULTS/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$RESULTS/$name.log"
  echo "== $name: exit $rc after $((SECONDS - start)) s"
  [ $rc -eq 0 ] || failures=$((failures + 1))
  return $rc
}

# Never NVLink multicast (NVLS): it can take a shared host's GPUs out of service.
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1

if [ "$SMOKE" = 1 ]; then
  M="dotnet src/Migu.Cli/bin/Debug/net10.0/migu.dll"
  DEVICE=cpu; MODEL=llama-tiny; GPUS=2; export OMP_NUM_THREADS=1
  TWO_RANKS="mpirun --allow-run-as-root --oversubscribe -np 2 $M"
else
  mkdir -p /tmp/migu-bundle && tar -xJf "$BUNDLE" -C /tmp/migu-bundle || { echo "cannot unpack $BUNDLE"; exit 2; }
  M=/tmp/migu-bundle/migu
  DEVICE=cuda; MODEL=${MIGU_DP_MODEL:-llama-1b-like}
  # libtorch from PyTorch's wheel; NCCL and the CUDA runtime from the nvidia-* wheels beside it.
  LIBS=$(python3 - <<'PY'
import glob, os, torch
site = os.path.dirname(os.path.dirname(torch.__file__))
dirs = [os.path.join(os.path.dirname(torch.__file__), "lib")]
for pattern in ("libnccl.so*", "libcudart.so*"):
    for hit in sorted(glob.glob(os.path.join(site, "nvidia", "**", pattern), recursive=True)):
        dirs.append(os.path.dirname(hit))
print(":".join(dict.fromkeys(dirs)))
PY
)
  export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  GPUS=$(python3 -c 'import torch; print(torch.cuda.device_count())')
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "nccl", ".".join(map(str, torch.cuda.nccl.version())))' | tee "$RESULTS/versions.txt"
  nvidia-smi -L | tee -a "$RESULTS/versions.txt"
  nvidia-smi topo -m >>"$RESULTS/versions.txt" 2>&1
  TWO_RANKS="$M"
  NPROC2="--nproc 2"
fi

STEP_TIMEOUT=60 step info $M info --device $DEVICE
STEP_TIMEOUT=90 step dist-check-1 $M dist-check --device $DEVICE --size-mb 256 --iterations 20 --json
if [ "$GPUS" -ge 2 ]; then
  STEP_TIMEOUT=90 step dist-check-2 $TWO_RANKS dist-check ${NPROC2:-} --device $DEVICE --size-mb 1024 --iterations 20 --json
else
  echo "== only $GPUS GPU(s): no 2-rank runs"
fi

# One task of the embedded demo stream (agnews), MIGU from the first step, ranked answers, one checkpoint.
COMMON="--model $MODEL --method ft --migu 0.7 --migu-first-task true --tasks agnews --max-train 512 --max-test 32
        --eval rank --eval-batch 32 --baseline false --lr 1e-5 --max-source-len 128 --max-target-len 8
        --keep-checkpoints last --seed 1 --device $DEVICE"
run() { # run NAME FLAGS...: a migu run into $RUNS/NAME; keeps loss.csv, metrics.json and run.log
  local name=$1; shift
  rm -rf "${RUNS:?}/$name"
  step "run-$name" "$@" $COMMON --out "$RUNS/$name"
  mkdir -p "$RESULTS/runs/$name"
  cp "$RUNS/$name"/{loss.csv,metrics.json,run.log} "$RESULTS/runs/$name/" 2>/dev/null
  rm -rf "$RUNS/$name/checkpoints" # gigabytes per run for the 1B model
}
# Most telling first, in case the budget runs out: the scaling pair, then equivalence, then world size 1.
run one-b8 $M run --batch 8
if [ "$GPUS" -ge 2 ]; then
  run nproc2-b16 $TWO_RANKS run ${NPROC2:-} --batch 16
fi
run one-b16ga2 $M run --batch 16 --grad-accum 2
run nproc1-b8 $M run --nproc 1 --batch 8

python3 tools/dp_figures.py "$RESULTS/runs" "$RESULTS"
echo "== $failures step(s) failed; results in $RESULTS"
exit $((failures > 0))
