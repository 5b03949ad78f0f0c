"""No look-ahead, each job its own process on a real ZenML server and S3 store: a model trained on
rows until 2026-09-30 (its time_column) scores partitions of September as look-ahead (marked on
their predictions, with the reason); their realized quality is recorded but not counted in the
trend and starts no retraining, while October's is counted. After a new promotion `handoff
status` lists the partitions an older model scored, and `handoff backfill batch-inference
--model-version <production>` re-scores them (another version is refused, exit 2)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.data.iris import labelled
from tests.e2e.test_shards import parquet_files
from tests.harness import servers
from tests.harness.runner import JobRunner, bucket_runner, last_line, ok

BUCKET = "handoff-artifacts"
DATASET = "ahead"
MODEL = f"{DATASET}_classifier"
PREDICTIONS = f"{DATASET}_predictions"
INPUT = f"s3://{BUCKET}/{DATASET}-in/dt={{partition}}/"
LABELS = f"s3://{BUCKET}/{DATASET}-labels/dt={{partition}}/"
DAYS = ["2026-09-29", "2026-09-30", "2026-10-01"]
"""Two days inside the training data's time range (look-ahead), one after it."""


def dated(days: list[pd.Timestamp]) -> pd.DataFrame:
    """Iris twice (300 rows, row_id 0..299) with a date per row."""
    table = pd.concat([labelled()] * 2, ignore_index=True)
    table.insert(0, "row_id", range(len(table)))
    table["date"] = days
    return table


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    """A production model trained on rows dated 2026-09-01 .. 2026-09-30 (time_column date)."""
    workdir = tmp_path_factory.mktemp("look-ahead")
    jobs = bucket_runner(zenml_server, s3_server, workdir, BUCKET)
    rng = np.random.default_rng(7)
    days = pd.to_datetime("2026-09-01") + pd.to_timedelta(rng.integers(0, 30, 300), unit="D")
    source = workdir / "history.parquet"
    dated(list(days)).to_parquet(source, index=False)
    ok(
        jobs.job(
            "feature_engineering", "--dataset", DATASET, "--source", str(source),
            "--target-column", "species", "--time-column", "date", "--id-columns", "[row_id]",
        )
    )  # fmt: skip
    ok(jobs.job("training", "--dataset", DATASET))
    yield jobs


def land(s3: servers.S3Server, day: str) -> None:
    rows = dated([pd.Timestamp(day)] * 300).drop(columns=["species"])
    (body,) = parquet_files(rows, files=1, row_group=100)
    s3.client().put_object(Bucket=BUCKET, Key=f"{DATASET}-in/dt={day}/p.parquet", Body=body)


def land_labels(s3: servers.S3Server, day: str, table: pd.DataFrame) -> None:
    sink = io.BytesIO()
    table.to_parquet(sink, index=False)
    key = f"{DATASET}-labels/dt={day}/l.parquet"
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=sink.getvalue())


def backfill(jobs: JobRunner, *extra: str):
    return jobs.handoff(
        "backfill", "batch-inference", "--dataset", DATASET, "--input", INPUT,
        "--from", DAYS[0], "--to", DAYS[-1], *extra,
    )  # fmt: skip


def newest(jobs: JobRunner) -> dict[str, dict]:
    """Each day's newest predictions version's metadata."""
    found: dict[str, dict] = {}
    for version in jobs.probe("artifacts", PREDICTIONS):  # oldest first
        found[version["metadata"]["partition"]] = version["metadata"]
    return found


def monitor(jobs: JobRunner, day: str, *extra: str) -> str:
    return ok(
        jobs.job("monitoring", "--dataset", DATASET, "--labels", LABELS, "--partition", day, *extra)
    )


def status(jobs: JobRunner) -> dict:
    out = ok(jobs.handoff("status", "--dataset", DATASET, "--json"))
    # A fresh config directory (like a pod's) first says which stack is active, as text.
    return json.loads(out[out.index("{\n") :])


def test_look_ahead_is_marked_not_counted_and_a_promotion_lists_what_to_rescore(
    remote: JobRunner, s3_server: servers.S3Server, tmp_path: Path
):
    first = remote.production(MODEL)
    assert first is not None
    for day in DAYS:
        land(s3_server, day)
    out = ok(backfill(remote))
    assert out.count("look-ahead, marked on its predictions") == 2
    scored = newest(remote)
    for day in DAYS[:2]:
        assert scored[day]["look_ahead"] is True
        assert f"partition {day}" in scored[day]["look_ahead_reason"]
        assert "rows until 2026-09-30" in scored[day]["look_ahead_reason"]
    assert "look_ahead" not in scored[DAYS[2]]

    # A look-ahead partition's labels say the model decayed: recorded, marked, no retraining.
    truth = dated([pd.Timestamp(DAYS[0])] * 300)[["row_id", "species"]]
    wrong = truth.copy()
    wrong.loc[::3, "species"] = "virginica"
    land_labels(s3_server, DAYS[0], wrong)
    land_labels(s3_server, DAYS[2], truth)
    events = tmp_path / "events"
    events.mkdir()
    chained = remote.with_env(HANDOFF_CHAIN_VIA=str(events))
    said = monitor(chained, DAYS[0], "--retrain-below", "0.9")
    assert "not counted, look-ahead" in said
    found = newest(remote)[DAYS[0]]["realized"]
    assert found["look_ahead"] is True and found["value"] < 0.9 and found["rows"] == 300
    assert "retraining" not in found and list(events.iterdir()) == []
    assert "retraining" not in remote.probe("models", MODEL)[first - 1]["metadata"]
    monitor(remote, DAYS[2])
    assert "look_ahead" not in newest(remote)[DAYS[2]]["realized"]

    [line] = [v for v in status(remote)["realized"]["versions"] if v["model_version"] == str(first)]
    assert [p["partition"] for p in line["partitions"]] == [DAYS[2]]
    assert line["look_ahead"] == [DAYS[0]] and line["retraining"] is None
    text = ok(remote.handoff("status", "--dataset", DATASET))
    assert f"not counted (look-ahead: not newer than its training data): {DAYS[0]}" in text

    # A new production model: the partitions the older one scored are listed ...
    ok(remote.job("training", "--dataset", DATASET, "--train-version", "1", "--test-version", "1"))
    second = max(v["number"] for v in remote.probe("models", MODEL))
    assert second > first
    if remote.production(MODEL) != second:
        ok(remote.handoff("promote", MODEL, str(second)))
    stale = status(remote)["stale"]
    assert stale["production"] == second
    assert sorted(p["partition"] for p in stale["partitions"]) == DAYS
    assert {p["model_version"] for p in stale["partitions"]} == {first}
    text = ok(remote.handoff("status", "--dataset", DATASET))
    command = f"--from {DAYS[0]} --to {DAYS[-1]} --model-version {second}"
    assert f"re-score them: handoff backfill batch-inference {command}" in text

    # ... an older version is refused on purpose, and the production one re-scores them.
    refused = backfill(remote, "--model-version", str(first))
    assert refused.returncode == 2, refused.stderr
    assert f"--model-version {second}" in last_line(refused)
    ok(backfill(remote, "--model-version", str(second)))
    rescored = newest(remote)
    assert {rescored[day]["model_version"] for day in DAYS} == {str(second)}
    assert [rescored[day].get("look_ahead", False) for day in DAYS] == [True, True, False]
    assert status(remote)["stale"]["partitions"] == []
