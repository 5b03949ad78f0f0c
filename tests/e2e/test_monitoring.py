"""The monitoring job against the real ZenML server and S3, each job its own process: labels that
arrive for a scored partition are joined to its predictions and the realized quality recorded on
them, once per labels identity (changed labels are measured again, unchanged ones are not); a
realized value below retrain_below starts training once, with the reason, through the events
chaining writes, and that start trains."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from jobs.common.data.iris import labelled
from tests.e2e.test_shards import land_s3, rows
from tests.harness import servers
from tests.harness.runner import JobRunner, ok, own_stack_runner

STACK = BUCKET = "handoff-monitoring"
"""The stack and the bucket of this module's own (tests.harness.runner.own_stack_runner)."""
DATASET = "monset"
PREDICTIONS = f"{DATASET}_predictions"
MODEL = f"{DATASET}_classifier"
LABELS = f"s3://{BUCKET}/labels/dt={{partition}}/"


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    """Jobs on a stack of this module's own, with a production model of its own."""
    yield own_stack_runner(
        zenml_server, s3_server, tmp_path_factory.mktemp("monitoring"), STACK, DATASET
    )


def score(jobs: JobRunner, s3: servers.S3Server, day: str) -> None:
    """The day's 300 rows (iris twice, row_id 0..299) landed and scored."""
    land_s3(s3, day, rows(2), bucket=BUCKET)
    ok(
        jobs.job(
            "batch_inference",
            "--dataset",
            DATASET,
            "--input",
            f"s3://{BUCKET}/incoming/dt={{partition}}/",
            "--partition",
            day,
            "--id-columns",
            "[row_id]",
        )
    )


def true_labels() -> pd.DataFrame:
    """The species of every landed row, by its row_id."""
    table = pd.concat([labelled()] * 2, ignore_index=True)
    table.insert(0, "row_id", range(len(table)))
    return table[["row_id", "species"]]


def land_labels(s3: servers.S3Server, day: str, table: pd.DataFrame, name: str = "l.parquet"):
    sink = io.BytesIO()
    table.to_parquet(sink, index=False)
    s3.client().put_object(Bucket=BUCKET, Key=f"labels/dt={day}/{name}", Body=sink.getvalue())


def monitor(jobs: JobRunner, day: str, *extra: str) -> str:
    return ok(
        jobs.job("monitoring", "--dataset", DATASET, "--labels", LABELS, "--partition", day, *extra)
    )


def realized(jobs: JobRunner, day: str) -> dict:
    [version] = [
        v for v in jobs.probe("artifacts", PREDICTIONS) if v["metadata"]["partition"] == day
    ]
    return version["metadata"].get("realized") or {}


def test_labels_are_measured_once_per_identity(remote: JobRunner, s3_server: servers.S3Server):
    day = "2026-10-01"
    score(remote, s3_server, day)
    assert "not there yet" in monitor(remote, day)
    assert realized(remote, day) == {}

    # 200 of the 300 scored rows labelled, and 10 ids batch inference never saw.
    unknown = pd.DataFrame({"row_id": range(10_000, 10_010), "species": "setosa"})
    land_labels(s3_server, day, pd.concat([true_labels().iloc[:200], unknown]))
    out = monitor(remote, day)
    first = realized(remote, day)
    assert (first["rows"], first["unmatched"], first["unlabelled"]) == (200, 10, 100)
    assert first["metric"] == "balanced_accuracy"
    assert first["value"] == first["values"]["balanced_accuracy"] > 0.9
    assert first["labels"] == LABELS.format(partition=day)
    assert f"realized balanced_accuracy {first['value']:.4f} on 200 labelled rows" in out

    again = monitor(remote, day)
    assert "measured on these labels already" in again and "nothing to do" in again
    assert realized(remote, day) == first

    # The rest of the labels arrive: measured again, on every row.
    land_labels(s3_server, day, true_labels().iloc[200:], name="late.parquet")
    monitor(remote, day)
    second = realized(remote, day)
    assert (second["rows"], second["unmatched"], second["unlabelled"]) == (300, 10, 0)
    assert second["labels_identity"] != first["labels_identity"]

    # The dashboard's picture of realized quality, by partition and model version.
    [picture] = remote.probe("last_output", "monitoring:draw_realized_quality")
    assert picture["name"] == f"{DATASET}_realized_quality"


def test_decay_below_retrain_below_starts_training_once_with_the_reason(
    remote: JobRunner, s3_server: servers.S3Server, tmp_path: Path
):
    day = "2026-10-02"
    score(remote, s3_server, day)
    model = remote.production(MODEL)
    # The world changed: a third of the labels now say otherwise.
    labels = true_labels()
    labels.loc[::3, "species"] = "virginica"
    land_labels(s3_server, day, labels)
    events = tmp_path / "events"
    events.mkdir()
    chained = remote.with_env(HANDOFF_CHAIN_VIA=str(events))

    out = monitor(chained, day, "--retrain-below", "0.9")
    found = realized(remote, day)
    assert found["value"] < 0.9
    reason = f"realized balanced_accuracy {found['value']:.4f} on partition {day} is below"
    assert reason in out
    [event] = [json.loads(p.read_text()) for p in events.iterdir()]
    assert event["job"] == "training"
    assert event["upstream"]["job"] == "monitoring"
    assert set(event["pins"]) == {"train_version", "test_version"}
    assert found["retraining"].startswith("started training for monitoring")
    [record] = [
        v["metadata"]["retraining"] for v in remote.probe("models", MODEL) if v["number"] == model
    ]
    assert record["reason"].startswith(reason) and record["partition"] == day

    # Unchanged labels: nothing to do. Changed labels, still decayed: measured again, and the
    # model version that started a training already starts none.
    assert "nothing to do" in monitor(chained, day, "--retrain-below", "0.9")
    labels.loc[1::3, "species"] = "setosa"
    land_labels(s3_server, day, labels)
    again = monitor(chained, day, "--retrain-below", "0.9")
    assert realized(remote, day)["labels_identity"] != found["labels_identity"]
    refused = f"not starting training: {MODEL} version {model} started one already"
    assert refused in again and realized(remote, day)["retraining"].startswith(refused)
    assert len(list(events.iterdir())) == 1
    # `handoff status` shows the trend and why the version started a training.
    shown = ok(remote.handoff("status", "--dataset", DATASET))
    assert f"{day} {realized(remote, day)['value']:.4f} (300 rows)" in shown
    assert f"started training {record['time']}: {record['reason']}" in shown

    # The start trains: a new model version, on the pinned datasets.
    versions = len(remote.probe("models", MODEL))
    pins = [arg for key, v in event["pins"].items() for arg in (f"--{key.replace('_', '-')}", v)]
    ok(remote.job("training", "--dataset", DATASET, *pins))
    assert len(remote.probe("models", MODEL)) == versions + 1
