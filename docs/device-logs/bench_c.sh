# Device call C: Migu.NET bench vs the PyTorch reference, one process per case, same machine.
set -u
mkdir -p /tmp/m && tar -xJf .device/migu.tar.xz -C /tmp/m
export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee $OUT/machine.txt
python3 -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)' >> $OUT/machine.txt
CASES="llama-1b-ft llama-1b-ftmigu llama-1b-lora llama-1b-loramigu t5-large-ft t5-large-ftmigu t5-large-lora t5-large-loramigu"
timeout 100 /tmp/m/migu bench --cases llama-1b-ft --steps 12 --warmup 3 >> $OUT/ours.log 2>&1
grep -q '^{"case"' $OUT/ours.log || { cat $OUT/ours.log; exit 1; }
for c in llama-1b-ftmigu llama-1b-lora llama-1b-loramigu t5-large-ft t5-large-ftmigu t5-large-lora t5-large-loramigu; do
  timeout 100 /tmp/m/migu bench --cases $c --steps 12 --warmup 3 >> $OUT/ours.log 2>&1
done
timeout 100 /tmp/m/migu bench --cases llama-1b-ftmigu --steps 8 --warmup 3 --migu-mode update 2>&1 | grep '^{"case"' | sed 's/"case":"\([^"]*\)"/"case":"\1-update"/' >> $OUT/ours.log
for c in llama-1b-ftmigu t5-large-ftmigu t5-large-loramigu; do
  timeout 100 /tmp/m/migu bench --cases $c --steps 8 --warmup 3 --breakdown 2>&1 | grep '^{"case"' | sed 's/"case":"\([^"]*\)"/"case":"\1-breakdown"/' >> $OUT/ours.log
done
grep '^{' $OUT/ours.log > $OUT/ours.jsonl
for c in $CASES; do timeout 100 python3 tools/reference_bench.py .device/pytorch_migu_reference.py $c --steps 12 --warm 3 2>>$OUT/reference.err | tail -1 >> $OUT/reference.jsonl; done
cat $OUT/ours.jsonl $OUT/reference.jsonl
