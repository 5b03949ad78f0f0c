"""A partition's drift check, fed batch by batch as scoring feeds it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jobs.batch_inference.drift_check import (
    PICTURE,
    PartitionDrift,
    ShardDrift,
    state_name,
    write_picture,
)
from jobs.batch_inference.params import PartitionRun
from jobs.common.quality import drift
from jobs.common.runtime.errors import BadInput


def rows(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(0, 1, n) + shift, "b": rng.normal(5, 2, n)})


def run(mode: str = "warn", reference: bool = True) -> PartitionRun:
    recorded = drift.to_metadata(drift.reference_statistics(rows(3000, 1))) if reference else None
    return PartitionRun(
        partition="2026-11-25",
        input="in/dt=2026-11-25",
        output=None,
        model_name="iris_classifier",
        model_version=3,
        model_artifact="trained_model",
        feature_schema={"a": "float64", "b": "float64"},
        predictions_artifact="iris_predictions",
        version="2026-11-25_model_3",
        drift=mode,
        reference=recorded,
    )


def feed(check: PartitionDrift, data: pd.DataFrame) -> None:
    for start in range(0, len(data), 250):
        check(data.iloc[start : start + 250], f"rows {start}-{start + 250}")


def test_batches_of_a_shifted_partition_name_the_feature_and_draw_it(tmp_path):
    check = PartitionDrift(run())
    feed(check, rows(1000, 2, shift=1.0))
    summary = check.summary()
    assert summary["drift"]["drifted"] == ["a"]
    assert summary["drift"]["features"]["a"]["rows"] == 1000
    picture = write_picture(run(), str(tmp_path), summary)
    assert picture == str(tmp_path / PICTURE)
    assert "drifted: a" in (tmp_path / PICTURE).read_text()


def test_fail_refuses_in_the_summary_before_anything_is_published():
    check = PartitionDrift(run("fail"))
    feed(check, rows(1000, 3, shift=1.0))
    with pytest.raises(BadInput, match="iris_predictions partition 2026-11-25: drift in a"):
        check.summary()


def test_off_or_no_reference_checks_nothing(tmp_path):
    for check in (PartitionDrift(run("off")), PartitionDrift(run(reference=False))):
        feed(check, rows(500, 4, shift=3.0))
        assert check.summary() == {}
    assert write_picture(run(), str(tmp_path), {}) is None


def test_shards_judge_nothing_and_their_merged_states_judge_the_partition():
    data = rows(1200, 5, shift=1.0)
    shards = [ShardDrift(run("fail"), shard) for shard in range(3)]
    for shard, check in enumerate(shards):
        feed(check, data.iloc[shard * 400 : (shard + 1) * 400])
        assert check.summary() == {}, "a shard's share is not judged on its own"
    whole = PartitionDrift(run("warn"))
    feed(whole, data)
    merged = PartitionDrift(run("warn"))
    for check in shards:
        merged.merge(check.state() or b"")
    got, want = merged.summary()["drift"], whole.summary()["drift"]
    assert got["drifted"] == want["drifted"] == ["a"]
    assert {n: f["psi"] for n, f in got["features"].items()} == {
        n: f["psi"] for n, f in want["features"].items()
    }
    assert got["features"]["a"]["rows"] == 1200

    judged = PartitionDrift(run("fail"))
    for check in shards:
        judged.merge(check.state() or b"")
    with pytest.raises(BadInput, match="drift in a"):
        judged.summary()


def test_a_shard_without_drift_checks_leaves_no_state():
    check = ShardDrift(run("off"), 0)
    feed(check, rows(300, 6))
    assert check.state() is None
    assert state_name(2, 4) == "_drift-00002-of-00004.npz"


def categorical_run(mode: str = "off") -> PartitionRun:
    schema = {
        "columns": {
            "a": {"kind": "numeric"},
            "colour": {"kind": "categorical", "categories": ["red", "blue"], "levels": 2},
        },
        "target": "y",
        "task": "classification",
    }
    return run(mode, reference=False).model_copy(
        update={"schema_record": schema, "feature_schema": {"a": "float64", "colour": "object"}}
    )


def test_unseen_categories_are_counted_per_column_across_shards_even_with_drift_off():
    batch = pd.DataFrame({"a": [1.0, 2.0, 3.0], "colour": ["red", "green", None]})
    shards = [ShardDrift(categorical_run(), shard) for shard in range(2)]
    for shard in shards:
        shard(batch, "rows 0-2")
    whole = PartitionDrift(categorical_run())
    for shard in shards:
        state = shard.state()
        assert state is not None
        whole.merge(state)
    assert whole.summary() == {"unseen_categories": {"colour": 2}}
