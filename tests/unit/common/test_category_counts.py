"""One batch's categories are counted once and read by the data contract, the unseen counts and
drift alike; booleans spelled as words are read per distinct word. What a user sees must not
change: the contract's verdicts, the values the model takes, the schema, the unseen counts and
the drift summary recorded on the predictions are those of 9d1f0e9 (before the counts were
shared), recorded in ``category_counts_recorded.json`` beside this file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from jobs.batch_inference.drift_check import PartitionDrift, ShardDrift
from jobs.batch_inference.params import PartitionRun
from jobs.common.data import schema as schemas
from jobs.common.data.data_contract import check_features, unseen_categories
from jobs.common.data.schema import Column, model_values
from jobs.common.quality import drift
from jobs.common.runtime.errors import BadInput

RECORDED = Path(__file__).with_name("category_counts_recorded.json")
KINDS = {
    "colour": "categorical",
    "size": "categorical",
    "code": "categorical",
    "grade": "categorical",
    "tier": "categorical",
    "many": "categorical",
    "member": "boolean",
    "flag": "boolean",
    "x": "numeric",
}
BATCH = 700


def table(rows: int, seed: int, new: bool = False) -> pd.DataFrame:
    """A mixed table as tables come: text categories with gaps spelled None and NaN (``new``:
    categories the model never saw), numbers read as categories (3.0 is "3"), an object column
    of mixed types (3, 3.0, "3", True and 1 are not all one category), a pandas categorical, a
    pandas string column, a category of more levels than are recorded, yes/no words in mixed
    spellings, a boolean and numbers with gaps."""
    rng = np.random.default_rng(seed)
    colours = np.array(["red", "green", "blue", "teal", "plum"], dtype=object)
    colour = colours[rng.choice(5, rows, p=[0.4, 0.3, 0.15, 0.1, 0.05])]
    colour[rng.random(rows) < 0.05] = None
    colour[rng.random(rows) < 0.03] = np.nan
    size = rng.integers(0, 4, rows).astype(float)
    size[rng.random(rows) < 0.04] = np.nan
    mixed = np.array([3, 3.0, "3", True, 1, "x", None], dtype=object)
    code = mixed[rng.integers(0, len(mixed), rows)]
    grades = rng.choice(["a", "b", "c"], rows).astype(object)
    tiers = rng.choice(["gold", "silver", "bronze"], rows).astype(object)
    tiers[rng.random(rows) < 0.05] = None
    many = np.array([f"m{k}" for k in rng.integers(0, 1200, rows)], dtype=object)
    words = np.array(["yes", "no", " Yes", "NO", "y", "0", "off", None, np.nan], dtype=object)
    member = words[rng.integers(0, len(words), rows)]
    x = rng.normal(size=rows)
    x[rng.random(rows) < 0.02] = np.nan
    if new:
        colour[rng.random(rows) < 0.03] = "mauve"
        size[rng.random(rows) < 0.02] = 7.0
        size[rng.random(rows) < 0.01] = 2.5
        code[rng.random(rows) < 0.02] = 4.5
        grades[rng.random(rows) < 0.02] = "z"
        tiers[rng.random(rows) < 0.02] = "tin"
    return pd.DataFrame(
        {
            "colour": colour,
            "size": size,
            "code": code,
            "grade": pd.Categorical(grades),
            "tier": pd.array(tiers, dtype="string"),
            "many": many,
            "member": member,
            "flag": rng.random(rows) < 0.3,
            "x": x,
            "y": rng.choice(["p", "q"], rows),
        }
    )


def partition_run(schema: schemas.TableSchema, reference: dict[str, Any]) -> PartitionRun:
    return PartitionRun(
        partition="2026-12-06",
        input="in/dt=2026-12-06",
        output=None,
        model_name="shop_classifier",
        model_version=1,
        model_artifact="trained_model",
        feature_schema=schema.feature_dtypes(),
        schema_record=schema.to_metadata(),
        predictions_artifact="shop_predictions",
        version="2026-12-06_model_1",
        reference=reference,
    )


def plain(value: Any) -> Any:
    """JSON with NaN as None, so the record reads as text."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def observed() -> dict[str, Any]:
    """Everything a user sees of the mixed tables: schema, drift summary, unseen counts, the
    contract's verdicts per batch, and the values the model takes of the boolean words."""
    training = table(6000, 1)
    schema = schemas.infer(training, "y", "train.parquet", kinds=KINDS)
    features = training[list(schema.features)]
    reference = drift.to_metadata(drift.reference_statistics(features, KINDS))
    run = partition_run(schema, json.loads(json.dumps(reference)))
    new = table(5000, 2, new=True)[list(schema.features)]
    partition = PartitionDrift(run)
    shards = [ShardDrift(run, shard) for shard in range(2)]
    contract: list[Any] = []
    for i, start in enumerate(range(0, len(new), BATCH)):
        batch = new.iloc[start : start + BATCH]
        contract.append(check_features(batch, schema, f"batch {i}", unseen="warn"))
        try:
            check_features(batch, schema, f"batch {i}", unseen="fail")
            contract.append("passed")
        except BadInput as refused:
            contract.append(str(refused))
        partition(batch, f"batch {i}")
        shards[i % 2](batch, f"batch {i}")
    merged = PartitionDrift(run)
    for shard in shards:
        state = shard.state()
        assert state is not None
        merged.merge(state)
    refusals = {}
    for name, values in {
        "member": ["yes", "maybe", None, "sometimes", "NO"],
        "code": ["3", 3.0, True],
        "x": ["1.5", "many", 2],
    }.items():
        frame = new.iloc[: len(values)].assign(**{name: pd.Series(values, dtype=object)})
        try:
            check_features(frame, schema, "bad.parquet")
            refusals[name] = "passed"
        except BadInput as refused:
            refusals[name] = str(refused)
    spellings = pd.Series(
        ["yes", " No ", "TRUE", "f", "1", 1, 0, 1.0, True, np.False_, "maybe", None, np.nan, pd.NA]
        * 3,
        dtype=object,
    )
    values, bad = model_values(spellings, Column(kind="boolean"))
    return {
        "schema": schema.to_metadata(),
        "drift": partition.summary(),
        "drift_of_shards": merged.summary(),
        "unseen": unseen_categories(new, schema),
        "contract": contract,
        "refusals": refusals,
        "boolean_words": {"values": [plain(float(v)) for v in values], "bad": bad},
    }


def test_what_users_see_of_mixed_tables_is_as_before_the_counts_were_shared():
    # As text: NaN (a p-value may be one) is not equal to itself, its spelling is.
    recorded = json.dumps(json.loads(RECORDED.read_text()), indent=1, sort_keys=True)
    assert json.dumps(observed(), indent=1, sort_keys=True) == recorded


@pytest.mark.parametrize(
    ("values", "dtype", "counted", "gaps"),
    [
        (["red", None, "blue", "red", np.nan, pd.NA], object, {"red": 2, "blue": 1}, 3),
        ([3.0, 3.5, np.nan, 3.0, 7.0], "float64", {"3": 2, "3.5": 1, "7": 1}, 1),
        ([3, 3.0, "3", True, 1, None], object, {"3": 2, "3.0": 1, "True": 1, "1": 1}, 1),
        (["a", None, "a"], "category", {"a": 2}, 1),
        (["a", None, "b"], "string", {"a": 1, "b": 1}, 1),
        ([True, False, True], "bool", {"True": 2, "False": 1}, 0),
        ([None, np.nan], object, {}, 2),
    ],
)
def test_categories_are_counted_as_the_text_the_model_reads(values, dtype, counted, gaps):
    counts = schemas.CategoryCounts(pd.Series(values, dtype=dtype))
    assert dict(zip(counts.categories, counts.rows.tolist(), strict=True)) == counted
    assert counts.gaps == gaps
    assert counts.outside({"3", "red", "a"}) == sum(
        n for c, n in counted.items() if c not in {"3", "red", "a"}
    )
    levels = ["3", "red", "a"]
    per_level = counts.per_level(levels).tolist()
    assert per_level == [*(counted.get(c, 0) for c in levels), per_level[-2], gaps]
    assert sum(per_level) == len(values)


def test_boolean_words_read_alike_whatever_their_spelling_and_type():
    spellings = pd.Series([" Yes", "no", "TRUE", "0", 1, True, 0.0, "maybe", None, pd.NA])
    values, bad = model_values(spellings, Column(kind="boolean"))
    # 0.0 is no word (its text is "0.0"); True and 1 are.
    expected = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, np.nan, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(values, expected)
    assert bad == 2
    words, bad = model_values(spellings.iloc[:4].astype("string"), Column(kind="boolean"))
    np.testing.assert_array_equal(words, [1.0, 0.0, 1.0, 0.0])
    assert bad == 0


def test_a_batch_counted_once_for_every_check_gives_what_each_check_counts_alone():
    training = table(3000, 1)
    schema = schemas.infer(training, "y", "train.parquet", kinds=KINDS)
    reference = drift.reference_statistics(training[list(schema.features)], KINDS)
    batch = table(2000, 2, new=True)[list(schema.features)]
    shared = schemas.CountedCategories(batch)
    for unseen in (None, "warn"):
        assert check_features(batch, schema, "b", unseen, shared) == check_features(
            batch, schema, "b", unseen
        )
    assert unseen_categories(batch, schema, shared) == unseen_categories(batch, schema)
    alone, together = drift.DriftAccumulator(reference), drift.DriftAccumulator(reference)
    alone.update(batch)
    together.update(batch, shared)
    for name, array in alone.state().items():
        np.testing.assert_array_equal(together.state()[name], array, err_msg=name)
