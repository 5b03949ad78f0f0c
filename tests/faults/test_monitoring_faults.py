"""The monitoring job under faults, on ZenML's local store, each job its own process: labels that
have not landed, labels with ids batch inference never saw, and a monitoring run SIGKILLed while
writing its picture or right after its record. Nothing is recorded twice or half, nothing is
lost, and the rerun ends with exactly one record of the labels."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from jobs.common.data.iris import labelled
from tests.e2e.test_partitions import land
from tests.faults.conftest import Case, assert_nothing_half_done, state
from tests.harness.runner import REPO, JobRunner, champion_runner, last_line, ok

PREDICTIONS = "iris_predictions"
ARTIFACTS = [PREDICTIONS, "iris_realized_quality"]
PIPELINES = ["monitoring"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRunner]:
    yield champion_runner(tmp_path_factory.mktemp("monitoring-faults"))


def scored(store: JobRunner, root: Path, day: str) -> Path:
    """The day's 150 rows (row_id '<day>/<n>') landed and scored; where its labels go."""
    land(root / "incoming", day, files=1)
    flags = ["--input", str(root / "incoming" / "dt={partition}"), "--id-columns", "[row_id]"]
    ok(store.job("batch_inference", *flags, "--partition", day))
    return root / "labels" / "dt={partition}"


def label(labels: Path, day: str, ids: list[str]) -> None:
    table = labelled()
    table.insert(0, "row_id", [f"{day}/{n}" for n in range(len(table))])
    folder = Path(str(labels).replace("{partition}", day))
    folder.mkdir(parents=True, exist_ok=True)
    by_id = table.set_index("row_id")["species"]
    species = [by_id.get(i, "setosa") for i in ids]
    pd.DataFrame({"row_id": ids, "species": species}).to_parquet(folder / "labels.parquet")


def realized(store: JobRunner, day: str) -> dict:
    [version] = [
        v for v in store.probe("artifacts", PREDICTIONS) if v["metadata"]["partition"] == day
    ]
    return version["metadata"].get("realized") or {}


def monitor(store: JobRunner, labels: Path, day: str):
    return store.job("monitoring", "--labels", str(labels), "--partition", day)


def test_labels_not_landed_yet_are_nothing_to_do(store: JobRunner, tmp_path: Path, case: Case):
    case.fault = "labels missing: the partition's labels have not landed"
    day = "2026-08-01"
    labels = scored(store, tmp_path, day)
    out = ok(monitor(store, labels, day))
    assert "not there yet" in out and "nothing to do" in out
    assert realized(store, day) == {}
    case.saw("exit 0, 'not there yet; nothing to do', nothing recorded")
    label(labels, day, [f"{day}/{n}" for n in range(150)])
    ok(monitor(store, labels, day))
    assert realized(store, day)["rows"] == 150
    case.saw("once they landed: measured on 150 rows")
    case.nothing_lost()


def test_labels_with_unknown_ids_are_counted_and_none_known_is_bad_input(
    store: JobRunner, tmp_path: Path, case: Case
):
    case.fault = "labels with unknown ids"
    day = "2026-08-02"
    labels = scored(store, tmp_path, day)
    label(labels, day, [f"elsewhere/{n}" for n in range(20)])
    refused = monitor(store, labels, day)
    assert refused.returncode == 2, refused.stderr
    assert "none of the 20 labelled id(s)" in last_line(refused)
    assert realized(store, day) == {}
    case.saw("only unknown ids: exit 2 naming the labels (none of the 20 has a prediction)")
    label(labels, day, [f"{day}/{n}" for n in range(100)] + [f"elsewhere/{n}" for n in range(20)])
    ok(monitor(store, labels, day))
    found = realized(store, day)
    assert (found["rows"], found["unmatched"], found["unlabelled"]) == (100, 20, 50)
    case.saw("100 known and 20 unknown: recorded on 100 rows, unmatched 20, unlabelled 50")
    case.nothing_lost()


@pytest.mark.parametrize(
    "point", ["mid-write:output.html", "before:record_realized", "after:record_realized"]
)
def test_monitoring_killed_mid_write_records_once_on_the_rerun(
    store: JobRunner, tmp_path: Path, case: Case, point: str
):
    case.fault = f"SIGKILL monitoring at {point}"
    day = {"mid-write:output.html": "2026-08-03", "before:record_realized": "2026-08-04"}.get(
        point, "2026-08-05"
    )
    labels = scored(store, tmp_path, day)
    label(labels, day, [f"{day}/{n}" for n in range(150)])
    args = ["--labels", str(labels), "--partition", day]
    killed = store._run(
        [sys.executable, "-m", "tests.faults.killpoint", point, "monitoring", *args],
        PYTHONPATH=str(REPO),
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert f"KILLPOINT {point}" in killed.stderr
    seen = state(store, ARTIFACTS, PIPELINES)
    assert_nothing_half_done(seen)
    recorded = realized(store, day)
    # The record is the last thing a run does: killed before it, nothing is recorded.
    assert bool(recorded) is (point == "after:record_realized")
    case.saw(f"killed; {'recorded' if recorded else 'nothing recorded'}, every version loads")

    rerun = ok(monitor(store, labels, day))
    after = realized(store, day)
    assert after["rows"] == 150
    if recorded:
        assert "nothing to do" in rerun and after == recorded
    else:
        assert "realized balanced_accuracy" in rerun
    assert_nothing_half_done(state(store, ARTIFACTS, PIPELINES))
    case.saw("rerun exit 0: " + ("nothing to do" if recorded else "measured and recorded once"))
    case.nothing_lost()
