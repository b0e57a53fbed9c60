#!/usr/bin/env bash
# Profiles for issue 18's missed targets, one device call (after tools/gpu_bench_interleaved.sh):
#  1. Migu.NET's step split into forward, backward, MIGU and optimizer (`migu bench --breakdown`,
#     the device's default levers) for the cases whose targets were missed;
#  2. where Nsight Systems is installed, its kernel, API and memcpy summaries of one Migu.NET case
#     and the same reference case (what the GPU ran, how many launches, host synchronisations);
#  3. the PyTorch reference under torch.profiler (tools/reference_profile.py): top kernels, kernels a
#     step and how busy the GPU was.
# Usage (GPU machine, repository root): tools/gpu_profile.sh MIGU_DIR OUT_FILE [SECONDS]
# Everything goes to OUT_FILE (one text file: a device call brings back few files).
set -uo pipefail
cd "$(dirname "$0")/.."
MIGU_DIR=${1:?usage: tools/gpu_profile.sh MIGU_DIR OUT_FILE [SECONDS]}
DEST=${2:?give OUT_FILE}
BUDGET=${3:-240}
PY=${PYTHON:-python3}
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
export LD_LIBRARY_PATH=$("$PY" -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
exec > "$DEST" 2>&1
echo "# profiles, $(date -u +%FT%TZ), commit $(git rev-parse HEAD 2>/dev/null || echo unknown)"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "nsys: $(command -v nsys || echo absent)  ncu: $(command -v ncu || echo absent)"
for d in /usr/local/cuda*/bin /opt/nvidia/nsight-systems*/bin; do [ -d "$d" ] && ls "$d" | grep -E '^(nsys|ncu)$' | sed "s|^|$d/|"; done
echo
echo "## 1. Migu.NET phase breakdown (default levers on this device)"
timeout $(( $(left) / 2 )) "$MIGU_DIR/migu" bench --cases llama-1b-ft,llama-1b-ftmigu,llama-1b-lora,llama-1b-loramigu,t5-large-ft,t5-large-ftmigu \
  --breakdown --steps 8 --warmup 3
NSYS=$(command -v nsys || ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems*/bin/nsys 2>/dev/null | head -1)
if [ -n "$NSYS" ] && [ "$(left)" -gt 90 ]; then
  echo; echo "## 2. Nsight Systems summaries"
  mkdir -p /tmp/prof
  for who in ours reference; do
    if [ $who = ours ]; then cmd=("$MIGU_DIR/migu" bench --model llama-1b-like --migu 0.7 --steps 6 --warmup 3)
    else cmd=("$PY" tools/pytorch_migu_reference.py --cases llama-1b-ftmigu --steps 6 --warm 3); fi
    timeout 120 "$NSYS" profile -t cuda,nvtx -o /tmp/prof/$who --force-overwrite true "${cmd[@]}" > /dev/null
    "$NSYS" stats -r cuda_gpu_kern_sum,cuda_api_sum,cuda_gpu_mem_time_sum -f column /tmp/prof/$who.nsys-rep 2>/dev/null \
      | awk -v who=$who 'BEGIN{print "### " who " llama-1b ft+MIGU (whole process: build, 3 warm-up and 6 timed steps)"} /^ \*\* /{n=0} {if (n++ < 28) print}'
  done
fi
if [ "$(left)" -gt 30 ]; then
  echo; echo "## 3. The reference under torch.profiler"
  timeout $(( $(left) - 5 )) "$PY" tools/reference_profile.py --cases llama-1b-ft,llama-1b-ftmigu,t5-large-ft
fi
echo "# profile script ended after $(( $(date +%s) - START )) s"
