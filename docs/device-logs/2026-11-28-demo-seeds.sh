#!/usr/bin/env bash
# The demo's defaults on one GPU in fp32, three seeds, scored by generation (the default) and by
# label ranking: does MIGU's effect on forgetting depend on how answers are scored?
set -u
mkdir -p /tmp/m && tar -xJf .device/migu.tar.xz -C /tmp/m
export LD_LIBRARY_PATH=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')
C="--dtype fp32 --device cuda"
for eval in generate rank; do
  for s in 42 1 2; do
    ( timeout 280 /tmp/m/migu demo --out /tmp/d-$eval-$s $C --eval $eval --seed $s > /tmp/d-$eval-$s.log 2>&1 ) &
  done
done
wait
python3 - <<'PY' | tee $OUT/demo_eval.txt
import json
for ev in ["generate", "rank"]:
    for s in [42, 1, 2]:
        for r in ["ft", "ft-migu"]:
            try:
                m = json.load(open(f"/tmp/d-{ev}-{s}/{r}/metrics.json"))
                print(ev, s, r, "ACC %.3f BWT %.3f FGT %.3f" % (m["acc"], m["bwt"], m["forgetting"]),
                      [[round(x, 2) for x in row] for row in m["accuracy_matrix"]])
            except Exception as e:
                print(ev, s, r, "no metrics", e)
PY
tail -5 /tmp/d-rank-42.log
