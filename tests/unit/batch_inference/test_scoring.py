"""Scoring streams a partition through the data contract into parquet parts, no ZenML."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from jobs.batch_inference import plan, scoring
from jobs.batch_inference.params import PartitionRun
from jobs.batch_inference.settings import Settings
from jobs.common.runtime.errors import BadInput

FEATURES = ["a", "b"]


@pytest.fixture(scope="module")
def model() -> LogisticRegression:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(200, 2)), columns=FEATURES)
    return LogisticRegression().fit(x, np.where(x.a > 0, "up", "down"))


def partition(folder: Path, rows: int, files: int = 2) -> Path:
    folder.mkdir(parents=True)
    for i in range(files):
        start = i * rows
        pd.DataFrame(
            {
                "key": [f"k{n}" for n in range(start, start + rows)],
                "a": np.linspace(-1, 1, rows),
                "b": np.ones(rows),
            }
        ).to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


def run_for(folder: Path, tmp: Path, **settings) -> PartitionRun:
    config = Settings(input=str(tmp / "dt={partition}"), **settings)
    (run,) = plan.runs(config, [folder.name.split("=")[1]], 3, {"a": "float64", "b": "float64"})
    return run


def parts(folder: Path) -> pd.DataFrame:
    return pd.concat(pd.read_parquet(p) for p in sorted(folder.glob("*.parquet")))


def test_ids_and_probabilities_pass_through_to_the_predictions_and_the_output(
    tmp_path: Path, model
):
    source = partition(tmp_path / "dt=2026-11-25", rows=100)
    run = run_for(
        source,
        tmp_path,
        id_columns=["key"],
        probabilities=True,
        batch_rows=32,
        output=str(tmp_path / "out" / "{partition}.csv"),
    )
    scored = scoring.score(run, model, str(tmp_path / "artifact"), scoring.open_input(run.input))
    assert scored.rows == 200 and scored.input["files"] == 2
    got = parts(tmp_path / "artifact")
    assert list(got.columns) == ["key", "prediction", "proba_down", "proba_up"]
    assert got["key"].tolist() == [f"k{n}" for n in range(200)]
    assert (
        got["prediction"] == np.where(np.tile(np.linspace(-1, 1, 100), 2) > 0, "up", "down")
    ).all()
    assert np.allclose(got["proba_down"] + got["proba_up"], 1)
    copy = pd.read_csv(tmp_path / "out" / "2026-11-25.csv")
    assert copy["key"].tolist() == got["key"].tolist()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["2026-11-25.csv"]


def test_a_bad_value_in_the_last_batch_rejects_the_partition_and_leaves_no_output(
    tmp_path: Path, model
):
    source = partition(tmp_path / "dt=2026-11-25", rows=100)
    last = pd.read_parquet(source / "part-1.parquet")
    last.loc[99, "b"] = np.nan
    last.to_parquet(source / "part-1.parquet", index=False)
    run = run_for(
        source,
        tmp_path,
        id_columns=["key"],
        batch_rows=32,
        output=str(tmp_path / "out" / "{partition}.parquet"),
    )
    with pytest.raises(BadInput, match=r"part-1.parquet \(rows 96-99\): column 'b' has 1 missing"):
        scoring.score(run, model, str(tmp_path / "artifact"), scoring.open_input(run.input))
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["b"]), "missing column(s) 'b'"),
        (lambda f: f.assign(c=1.0), "unexpected column(s) 'c'"),
        (lambda f: f.drop(columns=["key"]), "missing column(s) 'key'"),
    ],
)
def test_wrong_columns_are_found_before_any_row_is_scored(tmp_path: Path, model, change, message):
    source = partition(tmp_path / "dt=2026-11-25", rows=10, files=1)
    change(pd.read_parquet(source / "part-0.parquet")).to_parquet(source / "part-0.parquet")
    run = run_for(source, tmp_path, id_columns=["key"])
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        scoring.preflight(run, scoring.open_input(run.input), model)


def test_an_extra_batch_check_sees_every_batch_and_its_summary_is_kept(tmp_path: Path, model):
    source = partition(tmp_path / "dt=2026-11-25", rows=50)
    seen: list[str] = []

    class Check:
        def __call__(self, frame: pd.DataFrame, where: str, categories: object) -> None:
            seen.append(f"{len(frame)} {Path(where).name}")

        def summary(self) -> dict:
            return {"batches_seen": len(seen)}

    run = run_for(source, tmp_path, id_columns=["key"], batch_rows=20)
    found = scoring.open_input(run.input)
    scored = scoring.score(run, model, str(tmp_path / "artifact"), found, checks=[Check()])
    assert scored.summaries == {"batches_seen": 6}
    assert seen == [
        "20 part-0.parquet (rows 0-19)",
        "20 part-0.parquet (rows 20-39)",
        "10 part-0.parquet (rows 40-49)",
        "20 part-1.parquet (rows 0-19)",
        "20 part-1.parquet (rows 20-39)",
        "10 part-1.parquet (rows 40-49)",
    ]
