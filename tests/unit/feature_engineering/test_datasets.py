"""A source of any size in bounded batches: surveyed against the contract, split by hash, time
or shuffle, written as two parquet folders."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jobs.common.data import iris
from jobs.common.runtime.errors import BadInput
from jobs.feature_engineering import datasets
from jobs.feature_engineering.params import SplitChoice


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Batches of 64 rows: every table here spans several."""
    monkeypatch.setattr(datasets, "BATCH_ROWS", 64)
    monkeypatch.setattr("jobs.common.data.streaming.CSV_BLOCK", 1 << 10)


def table(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "id": [f"c{i:05d}" for i in range(rows)],
            "size": rng.normal(size=rows),
            "colour": rng.choice(["red", "blue", "green"], size=rows),
            "day": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "y": rng.choice(["a", "b"], size=rows),
        }
    )
    frame.loc[5, "size"] = None
    frame.loc[7, "y"] = None
    return frame


def choice(path: Path, **changes) -> SplitChoice:
    return SplitChoice(source=str(path), target_column="y", **changes)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_survey_reads_every_batch_and_records_what_it_saw(tmp_path: Path, suffix: str):
    path = tmp_path / f"t{suffix}"
    table().to_csv(path, index=False) if suffix == ".csv" else table().to_parquet(path)
    schema = datasets.survey(datasets.open_source(str(path)), choice(path, id_columns=["id"]))
    kinds = {n: c.kind for n, c in schema.columns.items()}
    assert kinds == {"id": "identifier", "size": "numeric", "colour": "categorical",
                     "day": "datetime"}  # fmt: skip
    assert schema.columns["size"].missing == pytest.approx(1 / 400)
    assert sorted(schema.columns["colour"].categories or []) == ["blue", "green", "red"]
    assert schema.classes == ["a", "b"] and schema.columns["day"].max.startswith("2025-02-03")


def test_a_bad_value_in_the_last_batch_is_refused_naming_its_rows(tmp_path: Path):
    frame = table()
    frame["size"] = frame["size"].astype(object)
    frame.loc[399, "size"] = np.inf
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(BadInput, match=r"rows 384-399\): column 'size' has 1 non-finite"):
        datasets.survey(datasets.open_source(str(tmp_path / "t.parquet")), choice(tmp_path))


def test_a_class_that_appears_only_after_the_first_rows_counts(tmp_path: Path):
    frame = table().assign(y="a")
    frame.loc[399, "y"] = "b"  # a table sorted by its label: the head has one class
    frame.to_parquet(tmp_path / "t.parquet")
    schema = datasets.survey(datasets.open_source(str(tmp_path / "t.parquet")), choice(tmp_path))
    assert schema.classes == ["a", "b"]


def test_the_shuffled_split_is_the_stratified_split_of_the_whole_table():
    source = datasets.open_source("iris")
    split = SplitChoice(random_state=7)
    schema = datasets.survey(source, split)
    testing = datasets.test_rows(source, split, schema)
    species = iris.labelled()["species"][testing]
    assert testing.sum() == 30 and species.value_counts().to_dict() == {
        "setosa": 10,
        "versicolor": 10,
        "virginica": 10,
    }
    assert np.array_equal(testing, datasets.test_rows(source, split, schema))


def test_the_hash_split_keeps_each_id_on_its_side_when_the_source_is_reordered(tmp_path: Path):
    frame = table()
    frame.to_parquet(tmp_path / "a.parquet")
    frame.iloc[::-1].to_parquet(tmp_path / "b.parquet")
    sides = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.parquet"
        source = datasets.open_source(str(path))
        split = choice(path, id_columns=["id"])
        testing = datasets.test_rows(source, split, datasets.survey(source, split))
        labelled = pd.read_parquet(path).dropna(subset=["y"])
        sides.append(set(labelled["id"][testing]))
    assert sides[0] == sides[1] and 40 < len(sides[0]) < 120


def test_the_time_split_puts_the_newest_rows_in_testing(tmp_path: Path):
    path = tmp_path / "t.parquet"
    table().sample(frac=1, random_state=1).to_parquet(path)
    source = datasets.open_source(str(path))
    split = choice(path, time_column="day", test_size=0.25)
    testing = datasets.test_rows(source, split, datasets.survey(source, split))
    labelled = pd.read_parquet(path).dropna(subset=["y"])
    assert labelled["day"][testing].min() > labelled["day"][~testing].max()


def test_rows_without_a_target_are_dropped_and_both_folders_written(tmp_path: Path):
    path = tmp_path / "t.parquet"
    table().to_parquet(path)
    source = datasets.open_source(str(path))
    split = choice(path, drop_columns=["id"])
    testing = datasets.test_rows(source, split, datasets.survey(source, split))
    folders = (str(tmp_path / "train"), str(tmp_path / "test"))
    written = datasets.write_split(source, split, testing, folders, in_artifact_store=False)
    assert (written.training_rows, written.testing_rows, written.rows_without_target) == (
        319,
        80,
        1,
    )
    train = pd.read_parquet(folders[0])
    assert len(train) == 319 and "id" not in train.columns and train["y"].notna().all()


def test_unreadable_and_unknown_sources_are_bad_input(tmp_path: Path):
    with pytest.raises(BadInput, match="cannot read"):
        datasets.open_source(str(tmp_path / "missing.csv"))
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(BadInput, match="expected a .csv or .parquet"):
        datasets.open_source(str(tmp_path / "data.json"))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(BadInput, match="cannot parse"):
        datasets.open_source(str(broken)).head()
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(BadInput, match="empty"):
        datasets.open_source(str(empty)).head()
