#!/usr/bin/env bash
# Issue 6 on the GPU machine: transformers check of the committed pretrain fixtures, migu pretrain
# on CUDA for the three families (each checkpoint loaded by transformers), the DAS recipe and the
# decoder-forgetting recipe on CUDA with and without MIGU.
set -u
R=$OUT/res; mkdir -p $R
exec > >(tee $R/console.log) 2>&1
date -u; nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c 'import torch,transformers;print("torch",torch.__version__,"transformers",transformers.__version__)'
mkdir -p /tmp/m && tar -xJf .device/migu.tar.xz -C /tmp/m
export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
M=/tmp/m/migu; D=.device/cl_benchmark
echo "== 1. fixtures in transformers"
python3 tools/check_pretrained_checkpoint.py tests/Migu.Continual.Tests/Fixtures/pretrained/*
echo "== 2. migu pretrain on cuda"
for m in llama-mini t5-mini roberta-mini; do
  /usr/bin/time -f "$m pretrain wall %e s" $M pretrain --model $m --corpus $D/TC/dbpedia --steps 300 --device cuda --out /tmp/p-$m 2>&1 | grep -v "step [0-9]*/" | tail -6
  python3 tools/check_pretrained_checkpoint.py /tmp/p-$m
  cp /tmp/p-$m/pretraining.json $R/pretrain-$m.json
done
echo "== 3. DAS recipe on cuda"
for v in migu off; do
  extra=""; [ $v = off ] && extra="--migu off"
  /usr/bin/time -f "das $v wall %e s" $M run recipes/das-roberta-mini.json --data $D --device cuda $extra --out /tmp/das-$v 2>&1 | grep -v "step [0-9]*/\|evaluat" | tail -25
  mkdir -p $R/das-$v && cp /tmp/das-$v/{metrics.json,pretraining.json,run.log,recipe.json} $R/das-$v/
done
echo "== 4. decoder forgetting on cuda (base: /tmp/p-llama-mini)"
sed 's#\.\./shared/data/cl_benchmark#.device/cl_benchmark#' recipes/llama-forgetting-mini.json > /tmp/forget.json
for v in migu off; do
  extra=""; [ $v = off ] && extra="--migu off"
  /usr/bin/time -f "forgetting $v wall %e s" $M run /tmp/forget.json --model /tmp/p-llama-mini --device cuda $extra --out /tmp/fg-$v 2>&1 | grep -v "step [0-9]*/\|evaluat" | tail -12
  mkdir -p $R/fg-$v && cp /tmp/fg-$v/{metrics.json,forgetting.json,run.log,recipe.json} $R/fg-$v/
done
tar -czf $OUT/results.tgz -C $OUT res && cp $R/console.log $OUT/console.log
echo done
