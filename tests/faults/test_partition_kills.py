"""A batch inference run killed (SIGKILL: no cleanup runs) while writing a partition leaves
nothing visible by name, and its rerun ends with exactly one complete version. CI-only tier."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pandas as pd

from tests.e2e.test_partitions import land
from tests.harness.runner import FAIR, local_runner, ok

PARTITION = "2026-11-20"


def test_sigkill_while_writing_then_rerun_gives_one_complete_version(tmp_path: Path):
    (tmp_path / "store").mkdir()
    store = local_runner(tmp_path / "store")
    ok(store.job("feature_engineering"))
    ok(store.job("training", *FAIR))
    model = store.production()
    land(tmp_path / "incoming", PARTITION, files=4, copies=1000)  # 600 k rows
    flags = [
        "--input",
        str(tmp_path / "incoming" / "dt={partition}"),
        "--partition",
        PARTITION,
        "--id-columns",
        "[row_id]",
        "--batch-rows",
        "1000",
        "--output",
        str(tmp_path / "out" / "{partition}.parquet"),
    ]
    version_root = f"iris_predictions/{PARTITION}_model_{model}"
    stores = store.workdir / "zenml" / "local_stores"

    killed = store.start("batch_inference", *flags)
    try:
        # Until its first part file exists (its rows are being written), or it ended early.
        while not list(stores.glob(f"*/{version_root}/*/part-00000.parquet")):
            assert killed.poll() is None, killed.communicate()[1][-2000:]
            time.sleep(0.05)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.communicate()
    assert store.probe("artifacts", "iris_predictions") == []
    assert not (tmp_path / "out" / f"{PARTITION}.parquet").exists()

    out = ok(store.job("batch_inference", *flags))
    assert f"predicted 600000 rows with iris_classifier version {model}" in out
    (version,) = store.probe("artifacts", "iris_predictions")
    assert version["version"] == f"{PARTITION}_model_{model}"
    assert version["metadata"]["rows"] == 600_000
    assert len(pd.read_parquet(version["uri"])) == 600_000
    # The killed attempt's folder and partial output are gone; one attempt folder remains.
    assert len(list(stores.glob(f"*/{version_root}/*"))) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{PARTITION}.parquet"]
