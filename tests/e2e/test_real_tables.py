"""Real public tables through the whole chain, each job its own process on a local store:
feature engineering -> training -> batch inference -> the endpoint.

The tables ship inside Python packages of the test extra (nothing is downloaded): palmerpenguins
(text categories, gaps), vega_datasets' seattle-weather (a date, a text target, a time-ordered
split) and cars (gaps, a name carried as an identifier, a numeric target, a date), and
scikit-learn's diabetes (numbers only, a numeric target). Each model must beat a trivial
baseline by a margin, and the same rows must get the same predictions from training's evaluation,
from batch inference and from the endpoint (no train/serve skew).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.harness import servers
from tests.harness.runner import JobRunner, files_under, last_line, local_runner, ok

MODEL_LOAD_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Table:
    name: str
    target: str
    kinds: dict[str, str]
    """Some columns' expected inferred kinds."""
    task: str
    flags: list[str] = field(default_factory=list)
    """Feature engineering's flags beyond source and target."""
    ids: list[str] = field(default_factory=list)
    training: list[str] = field(default_factory=list)
    margin: float = 0.25
    """How much better than the trivial baseline: balanced accuracy points, or a share of its
    error (regression: at most ``1 - margin`` of the baseline's rmse)."""


TABLES = [
    Table(
        "penguins",
        "species",
        {"island": "categorical", "sex": "categorical", "bill_length_mm": "numeric"},
        "classification",
    ),
    Table(
        "weather",
        "weather",
        {"date": "datetime", "precipitation": "numeric"},
        "classification",
        flags=["--time-column", "date"],
        # Trained on 2012-2014, tested on 2015, whose labels were recorded differently (far
        # fewer drizzle and fog days): a hard, honest split, judged by its own bar.
        training=["--threshold", "0.3"],
        margin=0.1,
    ),
    Table(
        "cars",
        "Miles_per_Gallon",
        {"Name": "identifier", "Origin": "categorical", "Year": "datetime"},
        "regression",
        flags=["--id-columns", "[Name]"],
        ids=["Name"],
        # imputation and one-hot categories instead of the default's native ones
        training=["--classifier", "random_forest"],
        margin=0.5,
    ),
    Table("diabetes", "target", {"bmi": "numeric"}, "regression", margin=0.15),
]


def source(table: Table, folder: Path) -> Path:
    """The table as its package ships it: the CSV file itself, or JSON/bunch written as parquet."""
    if table.name == "penguins":
        return Path(str(resources.files("palmerpenguins") / "data" / "penguins.csv"))
    if table.name == "weather":
        return Path(str(resources.files("vega_datasets") / "_data" / "seattle-weather.csv"))
    if table.name == "cars":
        frame = pd.read_json(Path(str(resources.files("vega_datasets") / "_data" / "cars.json")))
    else:
        from sklearn.datasets import load_diabetes

        frame = load_diabetes(as_frame=True).frame
    path = folder / f"{table.name}.parquet"
    frame.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> JobRunner:
    return local_runner(tmp_path_factory.mktemp("real-tables"))


def records(rows: list[dict]) -> list[dict]:
    """Rows as a JSON client sends them: a gap is null."""
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
        for row in rows
    ]


@pytest.fixture
def endpoint(store: JobRunner, tmp_path: Path) -> Iterator[callable]:
    """``serve(version)``: `handoff serve` of the model version on a free port, stopped after."""
    started = []

    def serve(dataset: str, version: int) -> str:
        def command(port: int) -> list[str]:
            return [sys.executable, "-m", "jobs.cli", "serve", "--dataset", dataset,
                    "--host", servers.LOOPBACK, "--port", str(port),
                    "--model-version", str(version)]  # fmt: skip

        context = servers._serve(
            "handoff serve",
            command,
            store.env,
            lambda port: f"http://{servers.LOOPBACK}:{port}/readyz",
            tmp_path / f"serve-{dataset}.log",
            MODEL_LOAD_TIMEOUT_S,
        )
        port, _, _ = context.__enter__()
        started.append(context)
        return f"http://{servers.LOOPBACK}:{port}"

    yield serve
    for context in started:
        context.__exit__(None, None, None)


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_a_real_table_flows_from_source_to_served_predictions_without_skew(
    table: Table, store: JobRunner, endpoint, tmp_path: Path
):
    name = table.name
    ok(
        store.job(
            "feature_engineering", "--dataset", name, "--source", str(source(table, tmp_path)),
            "--target-column", table.target, *table.flags,
        )
    )  # fmt: skip
    (training_set,) = store.probe("artifacts", f"{name}_training_dataset")
    schema = training_set["metadata"]["schema"]
    assert schema["task"] == table.task
    assert {c: schema["columns"][c]["kind"] for c in table.kinds} == table.kinds

    out = ok(store.job("training", "--dataset", name, *table.training))
    assert "-> production" in out, out
    (version,) = store.probe("models", f"{name}_classifier")
    metadata = version["metadata"]
    metric = metadata["promotion"]["metric"]
    candidate, trivial = metadata["metrics"][metric], metadata["baseline"][metric]
    if table.task == "classification":
        assert metric == "balanced_accuracy", metric
        assert candidate >= trivial + table.margin, (candidate, trivial)
    else:
        assert metric == "rmse" and candidate <= (1 - table.margin) * trivial, (candidate, trivial)
    assert metadata["training_rows"]["fitted"] == training_set["metadata"]["rows"]

    testing = store.probe("table", f"{name}_testing_dataset:1")
    rows = pd.DataFrame(testing).drop(columns=[table.target])
    batch = tmp_path / ("rows.csv" if name in ("penguins", "weather") else "rows.parquet")
    rows.to_csv(batch, index=False) if batch.suffix == ".csv" else rows.to_parquet(batch)
    # The identifiers feature engineering was told of join the predictions by themselves.
    ok(store.job("batch_inference", "--dataset", name, "--input", str(batch), "--partition", "p1"))
    scored = store.probe("table", f"{name}_predictions:p1_model_{version['number']}")
    assert len(scored) == len(rows)
    if table.ids:
        assert [r["Name"] for r in scored] == list(rows["Name"])

    url = endpoint(name, version["number"])
    features = [c for c, v in schema["columns"].items() if v["kind"] not in ("identifier", "text")]
    body = {"records": records(rows[features].to_dict(orient="records"))}
    answer = httpx.post(f"{url}/predict", json=body, trust_env=False, timeout=30.0)
    assert answer.status_code == 200, answer.text

    evaluation = store.probe(
        "predict", f"{name}_classifier:{version['number']}:{name}_testing_dataset:1"
    )
    from_batch = [r["prediction"] for r in scored]
    from_endpoint = answer.json()["predictions"]
    if table.task == "classification":
        assert from_batch == evaluation == from_endpoint
    else:
        assert from_batch == pytest.approx(evaluation, rel=1e-12)
        assert from_endpoint == pytest.approx(evaluation, rel=1e-12)


def penguins_in_production(store: JobRunner) -> int:
    """The penguins model in production, trained with the defaults if there is none."""
    production = store.production("penguins_classifier")
    if production is None:
        table = TABLES[0]
        ok(store.job("feature_engineering", "--dataset", "penguins", "--source",
                     str(source(table, store.workdir)), "--target-column", "species"))  # fmt: skip
        ok(store.job("training", "--dataset", "penguins"))
        production = store.production("penguins_classifier")
    assert production is not None
    return production


def penguins() -> pd.DataFrame:
    return pd.read_csv(source(TABLES[0], Path()))


def test_bad_real_inputs_exit_2_naming_file_column_and_count_and_write_nothing(
    store: JobRunner, tmp_path: Path
):
    """The bad-input battery on a real table: each case exit 2 with one line, nothing written."""
    penguins_in_production(store)
    rows = penguins().drop(columns=["species"])
    inputs = {
        "notes.csv": penguins().assign(notes=float("nan")),
        "adelie.csv": penguins().query("species == 'Adelie'"),
        "inf.csv": penguins().assign(bill_depth_mm=lambda f: f.bill_depth_mm.where(f.index > 2,
                                                                                  float("inf"))),
        "changed.csv": rows.assign(bill_length_mm=lambda f: f.bill_length_mm.where(f.index > 4,
                                                                                    "long")),
        "atlantis.csv": rows.assign(island=lambda f: f.island.where(f.index > 0, "Atlantis")),
        "no-island.csv": rows.drop(columns=["island"]),
    }  # fmt: skip
    for name, frame in inputs.items():
        frame.to_csv(tmp_path / name, index=False)
    fe = ["feature_engineering", "--dataset", "penguins", "--target-column", "species", "--source"]
    bi = ["batch_inference", "--dataset", "penguins", "--partition", "bad", "--input"]
    cases = [
        ([*fe, "notes.csv"], "notes.csv: column 'notes' has only missing values (344 of 344)"),
        ([*fe, "adelie.csv"], "adelie.csv: target column 'species' has a single class ('Adelie')"),
        ([*fe, "inf.csv"], "inf.csv (rows 0-343): column 'bill_depth_mm' has 3 non-finite"),
        ([*bi, "changed.csv"], "column 'bill_length_mm' has 5 value(s) that are not numeric"),
        ([*bi, "atlantis.csv", "--unseen", "fail"],
         "column 'island' has 1 value(s) of categories the model never saw (unseen: fail)"),
        ([*bi, "no-island.csv"], "no-island.csv: missing column(s) 'island'"),
    ]  # fmt: skip
    artifact_root = store.workdir / "zenml" / "local_stores"
    before = (
        files_under(artifact_root),
        store.stages("penguins_classifier"),
        store.probe("artifacts", "penguins_training_dataset"),
        store.probe("artifacts", "penguins_predictions"),
    )
    failures = []
    for (job, *args), expected in cases:
        args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
        result = store.job(job, *args)
        if result.returncode != 2 or expected not in last_line(result):
            failures.append(f"{job} {args[-1]}: exit {result.returncode}: {last_line(result)}")
    assert not failures, "\n".join(failures)
    after = (
        files_under(artifact_root),
        store.stages("penguins_classifier"),
        store.probe("artifacts", "penguins_training_dataset"),
        store.probe("artifacts", "penguins_predictions"),
    )
    assert after == before


def test_unseen_categories_are_counted_on_the_predictions_with_unseen_warn(
    store: JobRunner, tmp_path: Path
):
    model = penguins_in_production(store)
    rows = penguins().drop(columns=["species"])
    rows.loc[:9, "island"] = "Atlantis"
    rows.to_csv(tmp_path / "atlantis.csv", index=False)
    result = store.job("batch_inference", "--dataset", "penguins", "--partition", "atlantis",
                       "--input", str(tmp_path / "atlantis.csv"))  # fmt: skip
    ok(result)
    assert "categories the model never saw: island 10" in result.stderr
    (version,) = [
        v
        for v in store.probe("artifacts", "penguins_predictions")
        if v["version"] == f"atlantis_model_{model}"
    ]
    assert version["metadata"]["unseen_categories"] == {"island": 10}
    assert version["metadata"]["rows"] == len(rows)
