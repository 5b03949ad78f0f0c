#!/usr/bin/env bash
# Time the batch jobs on a throwaway local ZenML store, side by side with raw baselines.
#  - feature engineering and training on a 5 M-row mixed table (parquet): 12 numbers with 1 %
#    gaps, 4 text categories of 10 to 1,000 levels, a boolean, a yes/no text column, a 3-class
#    target; against a plain scikit-learn script of the same pipeline (read, split, fit on the
#    same 1 M-row sample, score);
#  - batch inference of 1 M and 10 M new mixed rows (gaps, an unseen category) against the raw
#    streaming floor with the same fitted pipeline: pyarrow iter_batches -> predict ->
#    ParquetWriter (each its own process, timed with /usr/bin/time; wall and peak RSS);
#  - the 10 M rows again split across 2 shards run as 2 processes at once (an Indexed Job's 2
#    pods), against the one-process run.
# Usage: bash scripts/bench.sh   (from the repo root, after `make venv`; needs ~4 GB in $TMPDIR)
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=$PWD/.venv/bin/python
export ZENML_CONFIG_PATH=$work/store ZENML_ANALYTICS_OPT_IN=false
cd "$work"
cat > mixed.py <<'PY'
"""python mixed.py OUT ROWS [--new]: the mixed table (--new: no target, 1 % of cat0 a category
the model never saw), written in 1 M-row slices: 1 M-row row groups."""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

out, rows, new = sys.argv[1], int(sys.argv[2]), "--new" in sys.argv
rng = np.random.default_rng(1 if new else 0)
LEVELS = (10, 100, 500, 1000)
writer = None
for start in range(0, rows, 1_000_000):
    n = min(1_000_000, rows - start)
    numbers = rng.normal(size=(n, 12))
    numbers[rng.random((n, 12)) < 0.01] = np.nan
    columns = {f"x{i}": numbers[:, i] for i in range(12)}
    score = np.nan_to_num(numbers[:, 0]) + 0.5 * np.nan_to_num(numbers[:, 1])
    for j, levels in enumerate(LEVELS):
        codes = rng.integers(0, levels, n)
        values = np.array([f"c{j}_{k}" for k in range(levels)], dtype=object)[codes]
        if new and j == 0:
            values[rng.random(n) < 0.01] = "never_seen"
        columns[f"cat{j}"] = pa.array(values, type=pa.string())
        score += (codes % 3 == 0) * (0.8 if j == 0 else 0.2)
    flag = rng.random(n) < 0.3
    columns["flag"] = flag
    columns["member"] = pa.array(np.where(rng.random(n) < 0.5, "yes", "no"), type=pa.string())
    score += flag * 0.5
    if not new:
        labels = np.select([score < -0.2, score < 0.8], ["low", "mid"], "high")
        columns["label"] = pa.array(labels, type=pa.string())
    table = pa.table(columns)
    writer = writer or pq.ParquetWriter(out, table.schema)
    writer.write_table(table)
writer.close()
PY
"$py" mixed.py labelled.parquet 5000000
"$py" mixed.py features-1m.parquet 1000000 --new
"$py" mixed.py features-10m.parquet 10000000 --new
cat > plain_sklearn.py <<'PY'
"""The same pipeline in a plain scikit-learn script: the table read whole, split 80/20
(stratified), fitted on a 1 M-row sample, scored on the testing rows."""
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder

frame = pd.read_parquet(sys.argv[1])
frame["flag"] = frame["flag"].astype(float)
frame["member"] = frame["member"].map({"yes": 1.0, "no": 0.0})
train, test = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["label"])
del frame
train = train.sample(n=min(len(train), 1_000_000), random_state=42)
numbers = [f"x{i}" for i in range(12)] + ["flag", "member"]
categories = [f"cat{j}" for j in range(4)]
coded = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                       encoded_missing_value=np.nan, max_categories=255)
model = make_pipeline(
    ColumnTransformer([("n", "passthrough", numbers), ("c", coded, categories)]),
    HistGradientBoostingClassifier(
        categorical_features=list(range(len(numbers), len(numbers) + 4)),
        class_weight="balanced", random_state=42),
)
model.fit(train.drop(columns=["label"]), train["label"])
print("balanced accuracy", balanced_accuracy_score(test["label"], model.predict(test)))
PY
cat > raw_streaming.py <<'PY'
import pickle
import sys

import pyarrow as pa
import pyarrow.parquet as pq

model = pickle.load(open(sys.argv[1], "rb"))
writer = None
for batch in pq.ParquetFile(sys.argv[2]).iter_batches(batch_size=131_072):
    table = pa.table({"prediction": model.predict(batch.to_pandas())})
    writer = writer or pq.ParquetWriter(sys.argv[3], table.schema)
    writer.write_table(table)
writer.close()
PY
# /usr/bin/time's record of one process -> "wall-s peak-MB cpu-s" (cpu = user + system).
TIME_FORMAT="%e %M %U %S"
measured() { awk '{ printf "%s %d %.1f\n", $1, $2 / 1024, $3 + $4 }' "$1"; }
timed() { /usr/bin/time -f "$TIME_FORMAT" -o "$work/time" "$py" "$@" > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
  measured "$work/time"; }
show() { printf '  %-58s %7s s %7s MB %7s s CPU\n' "$1" "$2" "$3" "${4:--}"; }

echo "feature engineering (5 M mixed rows -> 4 M + 1 M), training (histogram gradient boosting, 1 M-row sample):"
read -r fw fm fc < <(timed -m jobs.feature_engineering --dataset bench --source labelled.parquet --target-column label --downstream "")
show "python -m jobs.feature_engineering" "$fw" "$fm" "$fc"
read -r tw tm tc < <(timed -m jobs.training --dataset bench --threshold 0.5 --downstream "")
grep -q "production" "$work/out" || { cat "$work/out"; exit 1; }
show "python -m jobs.training" "$tw" "$tm" "$tc"
read -r pw pm pc < <(timed plain_sklearn.py labelled.parquet)
show "plain scikit-learn script, same pipeline (read, split, fit, score)" "$pw" "$pm" "$pc"
awk -v f="$fw" -v t="$tw" -v p="$pw" -v fm="$fm" -v tm="$tm" 'BEGIN {
  printf "  the two jobs take %.2fx the plain script'"'"'s wall time; peak RSS %d and %d MB (target <= 1400 each)\n", (f + t) / p, fm, tm }'
cat > export_model.py <<'PY'
import pickle

from zenml.client import Client

pickle.dump(Client().get_artifact_version("trained_model").load(), open("model.pkl", "wb"))
PY
"$py" export_model.py

echo
echo "batch inference of new mixed rows (gaps, an unseen category), same fitted pipeline (wall, peak RSS):"
for size in 1m 10m; do
  read -r rw rm rc < <(timed raw_streaming.py model.pkl "features-$size.parquet" "raw-$size.parquet")
  show "raw streaming floor, $size rows" "$rw" "$rm" "$rc"
  read -r jw jm jc < <(timed -m jobs.batch_inference --dataset bench --input "features-$size.parquet" --partition "$size")
  grep -q "predicted" "$work/out" || { cat "$work/out"; exit 1; }
  show "python -m jobs.batch_inference, $size rows" "$jw" "$jm" "$jc"
  eval "raw_$size=$rw job_$size=$jw mem_$size=$jm cpu_$size=$jc"
done
echo
# Per row: what the 9 M rows between the two runs cost (start-up cancels out); in all: 10 M rows.
awk -v r1="$raw_1m" -v r="$raw_10m" -v j1="$job_1m" -v j="$job_10m" -v m1="$mem_1m" -v m10="$mem_10m" 'BEGIN {
  printf "  per row (1 M -> 10 M): batch inference costs %.2fx the raw streaming floor (target <= 1.1x)\n", (j - j1) / (r - r1)
  printf "  10 M rows in all: %.2fx the raw streaming floor (target <= 2.2x)\n", j / r
  printf "  peak RSS: %d MB at 10 M rows (target <= 1024), %.2fx the 1 M-row figure\n", m10, m10 / m1 }'

# Two shards as two processes at once (an Indexed Job's 2 pods), against one process; twice:
# free to use both cores (the single process already does: pyarrow decodes and the BLAS
# multiplies on a thread pool), and pinned one core per process (taskset), as pods limited to
# one CPU each (k8s/base/job-defaults.yaml) run.
sharded() {  # $1: label, $2: partition, $3/$4: command prefix of shard 0/1
  local start end pids=() i sw sm sc
  start=$(date +%s.%N)
  for i in 0 1; do
    local pin=$3; ((i == 1)) && pin=$4
    /usr/bin/time -f "$TIME_FORMAT" -o "$work/time-shard-$i" $pin "$py" -m jobs.batch_inference --dataset bench \
      --input features-10m.parquet --partition "$2" --shards 2 --shard "$i" > "$work/out-shard-$i" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || { cat "$work"/out-shard-*; exit 1; }; done
  end=$(date +%s.%N)
  grep -q "committed 10000000 rows of 2 shards" "$work"/out-shard-* || { cat "$work"/out-shard-*; exit 1; }
  shards_cpu=0
  for i in 0 1; do
    read -r sw sm sc < <(measured "$work/time-shard-$i")
    show "$1: shard $i of 2" "$sw" "$sm" "$sc"
    eval "shard_mem_$i=$sm"
    shards_cpu=$(awk -v a="$shards_cpu" -v b="$sc" 'BEGIN { print a + b }')
  done
  both=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
  show "$1: both shards, first start to last end" "$both" "-" "$shards_cpu"
}
ratio() {  # $1: label, $2: shards' wall, $3: one process's wall, $4: one process's RSS, $5: shards' CPU, $6/$7: the shards' RSS
  awk -v l="$1" -v b="$2" -v j="$3" -v m0="$6" -v m1="$7" -v m="$4" -v c="$5" 'BEGIN {
    printf "  %s: 2 shards take %.2fx the wall time of one process (target <= 0.6x); peak RSS per shard %d and %d MB, one process %d MB (single-pod bound 1536 MB)\n", l, b / j, m0, m1, m
    printf "    their %.1f s of CPU on 2 cores cannot end before %.1f s = %.2fx one process\n", c, c / 2, c / 2 / j }'
}

echo
echo "10 M rows split across 2 shards, 2 processes at once (an Indexed Job's 2 pods) vs one process:"
sharded "unpinned" 10m-sharded "" ""
free_both=$both free_cpu=$shards_cpu free_mem_0=$shard_mem_0 free_mem_1=$shard_mem_1
/usr/bin/time -f "$TIME_FORMAT" -o "$work/time" taskset -c 0 "$py" -m jobs.batch_inference --dataset bench \
  --input features-10m.parquet --partition 10m-one-core > "$work/out" 2>&1 || { cat "$work/out"; exit 1; }
read -r pw pm pc < <(measured "$work/time")
show "one core: one process (taskset -c 0)" "$pw" "$pm" "$pc"
sharded "one core each" 10m-sharded-one-core "taskset -c 0" "taskset -c 1"
echo
show "unpinned: one process (the 10 M-row run above)" "$job_10m" "$mem_10m" "$cpu_10m"
# What every process pays before its first row: the imports alone.
read -r iw im ic < <(timed -c "from zenml.client import Client; import sklearn.linear_model, pandas, pyarrow.parquet")
show "imports alone (zenml client, sklearn, pandas, pyarrow)" "$iw" "$im" "$ic"
echo
ratio "unpinned" "$free_both" "$job_10m" "$mem_10m" "$free_cpu" "$free_mem_0" "$free_mem_1"
ratio "one core each" "$both" "$pw" "$pm" "$shards_cpu" "$shard_mem_0" "$shard_mem_1"
