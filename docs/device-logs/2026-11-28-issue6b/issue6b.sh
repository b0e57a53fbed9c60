#!/usr/bin/env bash
# Issue 6, second GPU call: the T5 config fix in transformers (fixture and a fresh migu pretrain),
# the DAS recipe with longer pre-training and end-task fine-tuning, and the decoder-forgetting
# recipe over three seeds, each with and without MIGU.
set -u
R=$OUT/res; mkdir -p $R
exec > >(tee $R/console.log) 2>&1
date -u; nvidia-smi --query-gpu=name --format=csv,noheader
mkdir -p /tmp/m && tar -xJf .device/migu.tar.xz -C /tmp/m
export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
export HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error
M=/tmp/m/migu; D=.device/cl_benchmark
echo "== 1. fixtures in transformers"
python3 tools/check_pretrained_checkpoint.py tests/Migu.Continual.Tests/Fixtures/pretrained/*
for m in t5-mini llama-mini; do
  $M pretrain --model $m --corpus $D/TC/dbpedia --steps 300 --device cuda --out /tmp/p-$m 2>&1 | grep "held-out\|checkpoint:"
done
python3 tools/check_pretrained_checkpoint.py /tmp/p-t5-mini /tmp/p-llama-mini
echo "== 2. DAS (.device/das-tuned.json) on cuda"
for s in 42 1024; do for v in migu off; do
  extra=""; [ $v = off ] && extra="--migu off"
  /usr/bin/time -f "das $v seed $s wall %e s" $M run .device/das-tuned.json --data $D --device cuda --seed $s $extra --out /tmp/das-$v-$s 2>&1 | grep -a "wall\|│ ft\|ACC" | tail -3
  mkdir -p $R/das-$v-$s && cp /tmp/das-$v-$s/{metrics.json,pretraining.json} $R/das-$v-$s/
done; done
echo "== 3. decoder forgetting on cuda"
sed 's#\.\./shared/data/cl_benchmark#.device/cl_benchmark#' recipes/llama-forgetting-mini.json > /tmp/forget.json
for s in 42 1024 2048; do for v in migu off; do
  extra=""; [ $v = off ] && extra="--migu off"
  /usr/bin/time -f "forgetting $v seed $s wall %e s" $M run /tmp/forget.json --model /tmp/p-llama-mini --device cuda --seed $s $extra --out /tmp/fg-$v-$s 2>&1 | grep -a "wall\|│ lora" | tail -2
  mkdir -p $R/fg-$v-$s && cp /tmp/fg-$v-$s/{metrics.json,forgetting.json} $R/fg-$v-$s/
done; done
tar -czf $OUT/results.tgz -C $OUT res && cp $R/console.log $OUT/console.log
echo done
