#!/usr/bin/env bash
# One device call: Migu.NET against the PyTorch MIGU reference on one GPU, interleaved (see
# tools/gpu_bench_interleaved.py), with the host's facts, the raw jsonl and the summary in OUT.
# Usage (on the GPU machine, from the repository root; needs python3 with torch, transformers, peft):
#   tools/gpu_bench_interleaved.sh BUNDLE [OUT] [driver options...]
# BUNDLE: tools/make_gpu_bundle.sh's migu.tar.xz, or the folder it was unpacked into.
# PYTHON: the interpreter with torch (default python3). OUT: default $OUT. Files written: host.txt, bench.jsonl, servers.log, summary.md.
# Time: the driver starts no round or session that would end after MIGU_BENCH_BUDGET_S (default
# 420 s) and is killed at MIGU_BENCH_KILL_S (default 450 s); with unpacking and the host's facts
# (~15 s) the whole script ends within 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:?usage: tools/gpu_bench_interleaved.sh BUNDLE [OUT] [driver options...]}
DEST=${2:-${OUT:?give OUT}}
shift $(( $# >= 2 ? 2 : 1 ))
mkdir -p "$DEST"
if [ -d "$BUNDLE" ]; then
  MIGU_DIR=$BUNDLE
else
  MIGU_DIR=$(mktemp -d /tmp/migu-bench.XXXXXX)
  tar -xJf "$BUNDLE" -C "$MIGU_DIR" || { echo "cannot unpack $BUNDLE" | tee "$DEST/host.txt"; exit 1; }
fi
PY=${PYTHON:-python3}
# The GPU bundle has no libtorch of its own: it runs on PyTorch's. A build that brings its own
# (a Debug build folder, for the CPU check) keeps it. MIGU_TORCH_LIB names another libtorch folder.
if ! find "$MIGU_DIR" -maxdepth 4 -name 'libtorch.so' | grep -q .; then
  TORCH_LIB=${MIGU_TORCH_LIB:-$("$PY" -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')}
  export LD_LIBRARY_PATH=$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit --format=csv
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")'
  "$PY" -c 'import transformers, peft; print("transformers", transformers.__version__, "peft", peft.__version__)' 2>&1 | tail -1
  echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
  free -g | head -2
  uname -sr
  timeout 30 "$MIGU_DIR/migu" info --device "${MIGU_BENCH_DEVICE:-cuda}" 2>&1 | head -20
} > "$DEST/host.txt" 2>&1
cat "$DEST/host.txt"
timeout -k 5 "${MIGU_BENCH_KILL_S:-450}" "$PY" tools/gpu_bench_interleaved.py run --migu "$MIGU_DIR/migu" \
  --out "$DEST/bench.jsonl" --log "$DEST/servers.log" --budget-s "${MIGU_BENCH_BUDGET_S:-420}" \
  --device "${MIGU_BENCH_DEVICE:-cuda}" "$@"
echo "driver exit $?" >> "$DEST/servers.log"
"$PY" tools/gpu_bench_summary.py "$DEST/bench.jsonl" --host "$DEST/host.txt" > "$DEST/summary.md"
cat "$DEST/summary.md"
