"""Nightly batch inference on partitions, each job its own process on a local store: every
partition is scored once per production model version, a backfill scores only what is
missing, and a bad batch anywhere leaves nothing visible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.harness.runner import BETTER, JobRunner, champion_runner, ok

PREDICTIONS = "iris_predictions"


def iris_rows(day: str, copies: int) -> pd.DataFrame:
    from jobs.common.data.iris import features

    rows = pd.concat([features()] * copies, ignore_index=True)
    rows.insert(0, "row_id", [f"{day}/{n}" for n in range(len(rows))])
    return rows


def land(root: Path, day: str, files: int = 2, copies: int = 1) -> Path:
    """A day's partition as the upstream system lands it: a folder of parquet files."""
    folder = root / f"dt={day}"
    folder.mkdir(parents=True, exist_ok=True)
    rows = iris_rows(day, copies * files)
    size = -(-len(rows) // files)
    for i in range(files):
        rows.iloc[i * size : (i + 1) * size].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRunner]:
    yield champion_runner(tmp_path_factory.mktemp("partitions"))


def versions(store: JobRunner) -> list[str]:
    return [v["version"] for v in store.probe("artifacts", PREDICTIONS)]


def test_each_partition_is_scored_once_per_production_model(store: JobRunner, tmp_path: Path):
    incoming = tmp_path / "incoming"
    for day in ("2026-11-24", "2026-11-25"):
        land(incoming, day)
    flags = ["--input", str(incoming / "dt={partition}"), "--id-columns", "[row_id]"]
    output = ["--output", str(tmp_path / "out" / "{partition}.csv"), "--probabilities", "true"]
    champion = store.production()
    before = versions(store)

    first = ok(store.job("batch_inference", *flags, *output, "--partition", "2026-11-24"))
    assert f"predicted 300 rows with iris_classifier version {champion}" in first
    ok(store.job("batch_inference", *flags, "--partition", "2026-11-25"))
    scored = [f"2026-11-24_model_{champion}", f"2026-11-25_model_{champion}"]
    assert versions(store) == before + scored

    # ids and probabilities round-trip: the stored predictions join back to the input.
    stored = pd.DataFrame(store.probe("table", f"{PREDICTIONS}:{scored[0]}"))
    landed = pd.concat(pd.read_parquet(p) for p in sorted((incoming / "dt=2026-11-24").iterdir()))
    assert stored["row_id"].tolist() == landed["row_id"].tolist()
    probabilities = stored[["proba_setosa", "proba_versicolor", "proba_virginica"]]
    assert np.allclose(probabilities.sum(axis=1), 1)
    assert (probabilities.idxmax(axis=1).str.removeprefix("proba_") == stored["prediction"]).all()
    copy = pd.read_csv(tmp_path / "out" / "2026-11-24.csv")
    pd.testing.assert_frame_equal(copy, stored, check_dtype=False)

    again = ok(store.job("batch_inference", *flags, "--partition", "2026-11-24"))
    assert "already scored" in again and "nothing to do" in again
    assert versions(store) == before + scored

    ok(store.job("training", *BETTER))
    better = store.production()
    assert better != champion
    ok(store.job("batch_inference", *flags, "--partition", "2026-11-24"))
    assert versions(store) == before + scored + [f"2026-11-24_model_{better}"]


def test_a_backfill_scores_only_the_missing_partitions_oldest_first(
    store: JobRunner, tmp_path: Path
):
    incoming = tmp_path / "incoming"
    days = [f"2026-10-0{d}" for d in range(1, 6)]
    for day in days:
        land(incoming, day, files=1)
    flags = ["--input", str(incoming / "dt={partition}"), "--id-columns", "[row_id]"]
    model = store.production()
    ok(store.job("batch_inference", *flags, "--from", days[2], "--to", days[3]))
    before = versions(store)

    out = ok(
        store.handoff("backfill", "batch-inference", "--from", days[0], "--to", days[-1], *flags)
    )
    assert "3 of 5 partition(s) scored, 2 already done" in out
    assert versions(store) == before + [f"{d}_model_{model}" for d in (days[0], days[1], days[4])]


def test_a_bad_value_in_the_last_batch_exits_2_and_leaves_nothing_visible(
    store: JobRunner, tmp_path: Path
):
    folder = land(tmp_path / "incoming", "2026-09-30", files=3, copies=20)
    last = sorted(folder.iterdir())[-1]
    rows = pd.read_parquet(last)
    rows.loc[rows.index[-1], "petal_width_cm"] = np.inf  # a gap would be imputed
    rows.to_parquet(last, index=False)
    before = versions(store)
    result = store.job(
        "batch_inference",
        "--input",
        str(tmp_path / "incoming" / "dt={partition}"),
        "--partition",
        "2026-09-30",
        "--id-columns",
        "[row_id]",
        "--batch-rows",
        "500",
        "--output",
        str(tmp_path / "out.parquet"),
    )
    assert result.returncode == 2, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert f"{last.name} (rows 2500-2999): column 'petal_width_cm' has 1 non-finite value" in line
    assert versions(store) == before
    assert not (tmp_path / "out.parquet").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.parquet")]
    stored = list((store.workdir / "zenml" / "local_stores").glob("*/iris_predictions/2026-09-30*"))
    assert not stored, stored
