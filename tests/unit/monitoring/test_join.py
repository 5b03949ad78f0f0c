"""The monitoring job's plain logic on tables written here: the labels' checks (each an exit 2
naming what is wrong), the join's counts, the metrics on the joined rows, the decay's
direction, and which partition a scheduled run measures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from jobs.common.data import streaming
from jobs.common.runtime.errors import BadInput
from jobs.monitoring import join
from jobs.monitoring.settings import Settings


def labels_at(
    tmp_path: Path, frame: pd.DataFrame, name: str = "labels.parquet"
) -> streaming.Source:
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return streaming.locate(str(path))


def read(source: streaming.Source, task: str = "classification") -> pa.Table:
    return join.read_labels(source, ["row_id"], "species", task, rows=2)  # type: ignore[arg-type]


PREDICTIONS = pa.table({"row_id": [1, 2, 3, 4, 5], "prediction": ["a", "b", "a", "b", "a"]})


def test_the_joined_rows_are_scored_and_the_rest_counted(tmp_path: Path) -> None:
    # ids 1-4 labelled (one wrong: 4 is "a", predicted "b"), 6 and 7 have no prediction; 5's
    # label is a gap: no label.
    labels = pd.DataFrame(
        {"row_id": [1, 2, 3, 4, 6, 7, 5], "species": ["a", "b", "a", "a", "b", "a", None]}
    )
    found = read(labels_at(tmp_path, labels))
    joined = join.join(found, PREDICTIONS, ["row_id"], "species", "classification", "labels")
    assert (joined.rows, joined.unmatched, joined.unlabelled) == (4, 2, 1)
    assert joined.values["accuracy"] == pytest.approx(0.75)
    assert joined.values["balanced_accuracy"] == pytest.approx((2 / 3 + 1.0) / 2)  # a: 2 of 3
    assert set(joined.values) == {"accuracy", "balanced_accuracy", "f1_macro"}


def test_ids_read_as_text_on_one_side_join_numbers_on_the_other(tmp_path: Path) -> None:
    text = pa.table({"row_id": ["1", "2"], "species": ["a", "a"]})
    joined = join.join(text, PREDICTIONS, ["row_id"], "species", "classification", "labels")
    assert (joined.rows, joined.values["accuracy"]) == (2, 0.5)


def test_class_labels_compare_as_text_whatever_their_type() -> None:
    labels = pa.table({"row_id": [1, 2], "species": [1.0, 2.0]})
    predictions = pa.table({"row_id": [1, 2], "prediction": ["1", "2"]})
    joined = join.join(labels, predictions, ["row_id"], "species", "classification", "labels")
    assert joined.values["accuracy"] == 1.0


def test_regression_is_scored_by_its_errors() -> None:
    labels = pa.table({"row_id": [1, 2], "y": [1.0, 3.0]})
    predictions = pa.table({"row_id": [1, 2], "prediction": [2.0, 3.0]})
    joined = join.join(labels, predictions, ["row_id"], "y", "regression", "labels")
    assert joined.values["mae"] == pytest.approx(0.5)
    assert joined.values["rmse"] == pytest.approx((0.5) ** 0.5)


def test_no_labelled_id_with_a_prediction_is_bad_input() -> None:
    labels = pa.table({"row_id": [10, 11], "species": ["a", "b"]})
    with pytest.raises(BadInput, match="none of the 2 labelled id"):
        join.join(labels, PREDICTIONS, ["row_id"], "species", "classification", "labels")


@pytest.mark.parametrize(
    ("frame", "task", "message"),
    [
        (
            pd.DataFrame({"row_id": [1], "kind": ["a"]}),
            "classification",
            "no target column 'species'",
        ),
        (
            pd.DataFrame({"id": [1], "species": ["a"]}),
            "classification",
            "no column\\(s\\) 'row_id'",
        ),
        (
            pd.DataFrame({"row_id": [1, 2, 2, 3, 3], "species": ["a", "b", "a", "a", "a"]}),
            "classification",
            "has 2 id\\(s\\) more than once in row_id",
        ),
        (
            pd.DataFrame({"row_id": [1, 2], "species": ["a", "b"]}),
            "regression",
            "regression needs numbers",
        ),
        (
            pd.DataFrame({"row_id": [1, 2], "species": [0.5, 1.0]}),
            "classification",
            "continuous value",
        ),
    ],
    ids=[
        "no target",
        "no id",
        "duplicate ids",
        "text target for regression",
        "fractions as classes",
    ],
)
def test_a_bad_labels_table_exits_2_naming_it(
    tmp_path: Path, frame: pd.DataFrame, task: str, message: str
) -> None:
    source = labels_at(tmp_path, frame)
    with pytest.raises(BadInput, match=message) as err:
        read(source, task)
    assert "labels " + str(tmp_path) in str(err.value)


def test_predictions_without_the_id_columns_are_bad_input(tmp_path: Path) -> None:
    folder = tmp_path / "predictions"
    folder.mkdir()
    PREDICTIONS.to_pandas().drop(columns=["row_id"]).to_parquet(folder / "part-00000.parquet")
    with pytest.raises(BadInput, match="carry no column\\(s\\) 'row_id'"):
        join.read_predictions(str(folder), ["row_id"], rows=10)
    PREDICTIONS.to_pandas().to_parquet(folder / "part-00000.parquet")
    assert (
        join.read_predictions(str(folder), ["row_id"], rows=2)
        .to_pandas()
        .equals(PREDICTIONS.to_pandas())
    )


@pytest.mark.parametrize(
    ("metric", "value", "bar", "decayed"),
    [
        ("balanced_accuracy", 0.7, 0.8, True),
        ("balanced_accuracy", 0.9, 0.8, False),
        ("balanced_accuracy", 0.8, 0.8, False),
        ("rmse", 2.5, 2.0, True),  # an error: higher is worse
        ("rmse", 1.5, 2.0, False),
        ("r2", 0.1, 0.5, True),
    ],
)
def test_decay_follows_the_metrics_direction(
    metric: str, value: float, bar: float, decayed: bool
) -> None:
    reason = join.decay(metric, value, bar, "2026-11-25")
    assert (reason is not None) is decayed
    if reason:
        side = "above" if metric == "rmse" else "below"
        assert f"realized {metric} {value:.4f} on partition 2026-11-25 is {side}" in reason
    assert join.decay(metric, value, None, "2026-11-25") is None


def test_a_scheduled_run_measures_the_partition_label_lag_before_it() -> None:
    # A CronJob's Job name ends in its scheduled minute: 2026-12-06 03:00 UTC.
    minute = 1796526000 // 60
    settings = Settings(
        labels="s3://b/labels/dt={partition}/",
        label_lag="7d",
        job_name=f"handoff-monitoring-{minute}",
    )
    assert settings.partition_key() == "2026-11-29"
    assert settings.labels_uri("2026-11-29") == "s3://b/labels/dt=2026-11-29/"
    assert Settings(labels="l.parquet", partition="p1").partition_key() == "p1"


@pytest.mark.parametrize(
    ("labels", "message"),
    [(None, "labels is not set"), ("labels.parquet", "name the partition it holds")],
)
def test_settings_that_name_no_labels_or_no_partition_are_bad(labels: str | None, message: str):
    with pytest.raises(BadInput, match=message):
        Settings(labels=labels).partition_key()
