#!/usr/bin/env bash
# Time the batch jobs on a 1 M x 20 float table (parquet) on a throwaway local ZenML store.
# Usage: bash scripts/bench.sh   (from the repo root, after `make venv`)
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=$PWD/.venv/bin/python
export ZENML_CONFIG_PATH=$work/store ZENML_ANALYTICS_OPT_IN=false
cd "$work"
"$py" - <<'PY'
import numpy as np
import pandas as pd

rng = np.random.default_rng(0)
df = pd.DataFrame(rng.normal(size=(1_000_000, 20)), columns=[f"f{i}" for i in range(20)])
df.to_parquet("features.parquet")
df["label"] = np.where(df.f0 + df.f1 > 0, "a", "b")
df.to_parquet("labelled.parquet")
PY
run() { /usr/bin/time -f "  %e s wall, %M KB max RSS" "$py" -m "$@" 2>&1 | grep -E "published|trained|predicted|wall"; }
echo "feature engineering (1 M rows -> 800 k + 200 k):"; run jobs.feature_engineering --dataset bench --source labelled.parquet --target-column label
echo "training (logistic regression on 800 k x 20):"; run jobs.training --dataset bench --threshold 0.5
echo "batch inference (1 M rows):"; run jobs.batch_inference --dataset bench --input features.parquet
