"""The one protocol, one pod or N: stage, mark, then commit once — without a ZenML store (the
artifact store is a local folder, the commit a function that records what it was asked)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from jobs.batch_inference import plan, protocol, shards
from jobs.batch_inference.params import PartitionRun, Staged
from jobs.batch_inference.settings import Settings
from jobs.common.data import streaming
from jobs.common.runtime.errors import BadInput, PreconditionNotMet
from jobs.common.store import artifacts

FEATURES = {"a": "float64", "b": "float64"}


class LocalStore:
    """What the protocol asks of an artifact store, on a local folder."""

    def open(self, path: str, mode: str) -> Any:
        return open(path, mode)

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)


class ModelVersion:
    def __init__(self, model: Any) -> None:
        self.model = model

    def get_model_artifact(self, name: str) -> Any:
        return self

    def load(self) -> Any:
        return self.model


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "store"
    monkeypatch.setattr(artifacts, "store_root", lambda: str(root))
    monkeypatch.setattr(streaming, "_store", LocalStore)
    return root


@pytest.fixture(scope="module")
def production() -> ModelVersion:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(200, 2)), columns=list(FEATURES))
    return ModelVersion(LogisticRegression().fit(x, np.where(x.a > 0, "up", "down")))


def partition(tmp: Path, rows: int = 100, groups: int = 4, bad: bool = False) -> PartitionRun:
    folder = tmp / "incoming" / "dt=2026-11-25"
    folder.mkdir(parents=True)
    frame = pd.DataFrame({"a": np.linspace(-1, 1, rows), "b": np.ones(rows)})
    if bad:
        frame.loc[rows - 1, "b"] = np.nan
    frame.to_parquet(folder / "part-0.parquet", index=False, row_group_size=rows // groups)
    settings = Settings(input=str(tmp / "incoming" / "dt={partition}"), drift="off")
    (run,) = plan.runs(settings, ["2026-11-25"], 3, FEATURES)
    return run


class Commits:
    """The commit as the job runs it (a pipeline run), recorded: what it was asked to register."""

    def __init__(self) -> None:
        self.asked: list[Staged] = []

    def __call__(self, run: PartitionRun, staged: Staged) -> Any:
        self.asked.append(staged)
        return {"version": run.version}


def test_one_pod_stages_its_part_and_marker_then_commits_once(
    tmp_path: Path, store: Path, production: ModelVersion
):
    run, said, commits = partition(tmp_path), [], Commits()
    protocol.score_partition(run, 1, 0, production, said.append, commits)
    (staged,) = commits.asked
    assert staged.folder.startswith(str(store / "iris_predictions" / "2026-11-25_model_3"))
    assert Path(staged.folder).name.startswith("shards-1-")
    assert staged.expected_rows == 100 and staged.input["files"] == 1
    names = sorted(os.listdir(staged.folder))
    assert names == ["_shard-00000-of-00001.json", "part-00000.parquet"]
    assert len(pd.read_parquet(staged.folder)) == 100
    assert said == [
        "predicted 100 rows with iris_classifier version 3 -> iris_predictions version "
        "2026-11-25_model_3 (partition 2026-11-25)"
    ]
    # Rerun before the version is registered (the commit failed): no row is scored again.
    protocol.score_partition(run, 1, 0, production, said.append, commits)
    assert said[1] == "shard 0 of 1 of partition 2026-11-25 was already done"
    assert len(commits.asked) == 2


def test_n_shards_commit_once_when_the_last_one_finishes(
    tmp_path: Path, store: Path, production: ModelVersion
):
    run, said, commits = partition(tmp_path), [], Commits()
    protocol.score_partition(run, 2, 1, production, said.append, commits)
    assert commits.asked == [] and said[-1] == "1 of 2 shards done; shard(s) 0 still to finish"
    protocol.score_partition(run, 2, 0, production, said.append, commits)
    (staged,) = commits.asked
    assert said[-1].startswith("committed 100 rows of 2 shards -> iris_predictions version")
    assert protocol.completeness(staged).rows == {0: 50, 1: 50}
    # The parts read in name order are the input's rows in order, each scored once.
    rows = pd.read_parquet(Path(run.input) / "part-0.parquet")
    expected = production.model.predict(rows[list(FEATURES)]).tolist()
    assert pd.read_parquet(staged.folder)["prediction"].tolist() == expected


def test_a_commit_attempt_with_a_shard_missing_names_it_and_commits_nothing(
    tmp_path: Path, store: Path, production: ModelVersion
):
    run, said, commits = partition(tmp_path), [], Commits()
    protocol.score_partition(run, 3, 2, production, said.append, commits)
    with pytest.raises(PreconditionNotMet, match=r"shard\(s\) 0, 1 of 3 not done"):
        protocol.score_partition(run, 3, None, production, said.append, commits)
    assert commits.asked == []


def test_a_bad_batch_leaves_nothing_in_the_store(
    tmp_path: Path, store: Path, production: ModelVersion
):
    run, commits = partition(tmp_path, bad=True), Commits()
    with pytest.raises(BadInput, match="missing value"):
        protocol.score_partition(run, 1, 0, production, print, commits)
    assert commits.asked == []
    assert not (store / "iris_predictions" / "2026-11-25_model_3").exists()


def test_one_pod_alone_writes_the_single_file_copy(
    tmp_path: Path, store: Path, production: ModelVersion
):
    run = partition(tmp_path).model_copy(update={"output": str(tmp_path / "out.csv")})
    with pytest.raises(BadInput, match="written by one pod only"):
        protocol.staging(run, 2)
    protocol.score_partition(run, 1, 0, production, print, Commits())
    assert len(pd.read_csv(tmp_path / "out.csv")) == 100


def test_a_changed_input_stages_apart_and_the_commit_clears_other_attempts(
    tmp_path: Path, store: Path, production: ModelVersion
):
    run = partition(tmp_path)
    first = protocol.staging(run, 2).staged
    pd.DataFrame({"a": [0.5], "b": [1.0]}).to_parquet(Path(run.input) / "late.parquet", index=False)
    second = protocol.staging(run, 2).staged
    assert first.folder != second.folder and second.expected_rows == 101
    for staged in (first, second):
        os.makedirs(staged.folder)
    protocol.remove_other_attempts(run, second.folder)
    assert os.listdir(protocol.version_root(run)) == [Path(second.folder).name]
    assert shards.done_shards(os.listdir(second.folder), 2) == set()
