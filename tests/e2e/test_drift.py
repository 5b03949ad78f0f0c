"""Drift per partition, against the training data recorded on the production model version.

Each job its own process on a local store: rows drawn from the training distribution are no
drift; shifted rows are published with one warning line naming the shifted feature (as JSON
with HANDOFF_LOG_FORMAT=json), recorded on the predictions version with a picture, and listed by
`handoff status`; with `drift: fail` they are refused (exit 2) and nothing becomes visible.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from jobs.common.runtime import logs
from tests.harness.runner import JobRunner, champion_runner, last_line, ok

PREDICTIONS = "iris_predictions"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRunner]:
    yield champion_runner(tmp_path_factory.mktemp("drift"))


def iris(shift: dict[str, float] | None = None) -> pd.DataFrame:
    from jobs.common.data.iris import features

    rows = features()
    for name, by in (shift or {}).items():
        rows[name] = rows[name] + by
    return rows


def land(folder: Path, day: str, rows: pd.DataFrame) -> str:
    (folder / f"dt={day}").mkdir(parents=True, exist_ok=True)
    rows.to_parquet(folder / f"dt={day}" / "part-0.parquet", index=False)
    return str(folder / "dt={partition}")


def predictions(store: JobRunner) -> dict[str, dict]:
    return {v["version"]: v for v in store.probe("artifacts", PREDICTIONS)}


def test_training_distribution_is_no_drift_and_a_shift_is_named_in_one_json_line(
    store: JobRunner, tmp_path: Path
):
    model = store.probe("models", "iris_classifier")[-1]
    assert set(model["metadata"]["reference_statistics"]) == set(iris().columns)

    incoming = tmp_path / "incoming"
    template = land(incoming, "2026-11-24", iris())
    ok(store.job("batch_inference", "--input", template, "--partition", "2026-11-24"))
    same = predictions(store)[f"2026-11-24_model_{model['number']}"]
    assert same["metadata"]["drift"]["drifted"] == []

    land(incoming, "2026-11-25", iris(shift={"petal_length_cm": 2.5}))
    as_in_the_cluster = store.with_env(HANDOFF_LOG_FORMAT="json")
    result = as_in_the_cluster.job(
        "batch_inference", "--input", template, "--partition", "2026-11-25"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (result.stdout + result.stderr).splitlines()]
    ours = [line for line in lines if "job" in line]
    assert all(set(logs.FIELDS) <= set(line) for line in ours)
    (warning,) = [line for line in ours if line["level"] == "warning"]
    assert "petal_length_cm" in warning["message"] and "drift: warn" in warning["message"]
    assert warning["drifted"] == ["petal_length_cm"]
    assert warning["partition"] == "2026-11-25" and warning["job"] == "batch_inference"
    assert warning["model"] == "iris_classifier" and warning["version"] == str(model["number"])
    assert warning["run"].startswith("batch_inference")

    shifted = predictions(store)[f"2026-11-25_model_{model['number']}"]
    assert shifted["metadata"]["drift"]["drifted"] == ["petal_length_cm"]
    assert shifted["metadata"]["drift"]["features"]["petal_length_cm"]["psi"] > 1
    picture = Path(shifted["uri"]) / "_drift.html"
    assert "drifted: petal_length_cm" in picture.read_text()

    status = json.loads(ok(store.handoff("status", "--json")))
    assert status["predictions"]["drifted_features"] == ["petal_length_cm"]
    assert "drift: petal_length_cm drifted" in ok(store.handoff("status"))


def test_drift_fail_refuses_the_partition_and_publishes_nothing(store: JobRunner, tmp_path: Path):
    template = land(tmp_path / "incoming", "2026-11-26", iris(shift={"sepal_width_cm": 2.0}))
    output = tmp_path / "out" / "{partition}.csv"
    before = predictions(store)
    result = store.job(
        "batch_inference",
        "--input",
        template,
        "--partition",
        "2026-11-26",
        "--output",
        str(output),
        "--drift",
        "fail",
        "--drift-threshold",
        "0.5",
    )
    assert result.returncode == 2, result.stdout + result.stderr
    last = last_line(result)
    assert last.startswith("batch_inference: iris_predictions partition 2026-11-26: drift in ")
    assert "sepal_width_cm" in last and "nothing was published" in last
    assert predictions(store) == before
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
