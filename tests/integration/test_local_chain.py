"""The four jobs handing work to each other on ZenML's embedded local store, each job its own
process — what `make run` does — plus promotion by hand, rollback, cold start and bad input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import local_env
from tests.harness.servers import free_port
from tests.integration.chain import WORSE, Store, files_under, ok, stop_local_serving

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Datasets published twice: once as version raw_2023, once with ZenML's numbering."""
    workdir = tmp_path_factory.mktemp("local-chain")
    store = Store(local_env(workdir), workdir)
    ok(store.job("feature_engineering", "--version", "raw_2023", "--tags", "[raw, y2023]"))
    ok(store.job("feature_engineering", "--random-state", "7"))
    yield store
    stop_local_serving(workdir / ".handoff" / "serving")


def test_datasets_are_named_versioned_and_stored_as_parquet(store: Store):
    for name, rows in (("iris_training_dataset", 120), ("iris_testing_dataset", 30)):
        versions = store.probe("artifacts", name)
        assert [v["version"] for v in versions] == ["raw_2023", "1"]
        assert versions[0]["tags"] == ["raw", "y2023"]
        assert versions[0]["metadata"]["rows"] == rows
        assert versions[0]["metadata"]["target_column"] == "species"
        assert list(Path(versions[0]["uri"]).glob("*.parquet*")), "DataFrames go to parquet"


def test_a_taken_custom_version_is_refused(store: Store):
    result = store.job("feature_engineering", "--version", "raw_2023")
    assert result.returncode == 2
    assert "already has a version 'raw_2023'" in result.stderr


def test_training_takes_latest_by_default_and_a_pinned_version_on_request(store: Store):
    out = ok(store.job("training"))
    assert "-> production" in out and "no production version yet" in out
    first = store.probe("models", "iris_classifier")[-1]
    assert first["metadata"]["datasets"]["training"] == {
        "name": "iris_training_dataset",
        "version": "1",
    }
    assert first["metadata"]["feature_schema"] == {
        "sepal_length_cm": "float64",
        "sepal_width_cm": "float64",
        "petal_length_cm": "float64",
        "petal_width_cm": "float64",
    }

    ok(store.job("training", "--train-version", "raw_2023", "--test-version", "raw_2023"))
    pinned = store.probe("models", "iris_classifier")[-1]
    assert pinned["metadata"]["datasets"]["training"]["version"] == "raw_2023"
    assert pinned["metadata"]["datasets"]["testing"]["version"] == "raw_2023"
    # judged against the first model, whichever way it went
    assert pinned["metadata"]["promotion"]["champion_version"] == str(first["number"])
    assert store.production() in (first["number"], pinned["number"])


def test_a_worse_model_stays_in_staging_and_says_why(store: Store):
    champion = store.production()
    out = ok(store.job("training", *WORSE))
    assert "-> staging" in out and f"worse than production version {champion}" in out
    latest = store.probe("models", "iris_classifier")[-1]
    assert latest["stage"] == "staging"
    record = latest["metadata"]["promotion"]
    assert record["decided_by"].startswith("training pipeline run")
    assert record["champion_version"] == str(champion) and 0.5 < record["candidate"] < 0.9
    assert store.production() == champion


def test_below_threshold_is_not_promoted_even_when_configured_by_env(store: Store):
    champion = store.production()
    store.env["HANDOFF_THRESHOLD"] = "1.01"
    try:
        result = store.job("training")
    finally:
        del store.env["HANDOFF_THRESHOLD"]
    assert result.returncode == 2 and "'threshold'" in result.stderr  # 1.01 is not a fraction
    assert store.production() == champion


def test_inference_follows_production_through_promote_and_rollback(store: Store, tmp_path: Path):
    champion = store.production()
    output = tmp_path / "predictions.csv"
    out = ok(store.job("batch_inference", "--output", str(output)))
    assert f"iris_classifier version {champion}" in out
    first = store.probe("last_output", "batch_inference:predict")[0]
    assert first["metadata"]["model_version"] == str(champion)
    good_predictions = output.read_text()

    staging = max(n for n, stage in store.stages().items() if stage == "staging")
    out = ok(store.handoff("promote", "iris_classifier", str(staging)))
    assert f"version {staging} -> production (was: version {champion})" in out
    assert store.production() == staging

    ok(store.job("batch_inference", "--output", str(output)))
    second = store.probe("last_output", "batch_inference:predict")[0]
    assert second["metadata"]["model_version"] == str(staging)
    assert output.read_text() != good_predictions  # the stump predicts differently

    out = ok(store.handoff("rollback", "iris_classifier"))
    assert f"production is version {champion} again (was {staging})" in out
    assert store.production() == champion
    assert store.stages()[staging] == "archived"
    out = ok(store.job("batch_inference"))
    assert f"with iris_classifier version {champion} -> iris_predictions" in out
    again = store.probe("last_output", "batch_inference:predict")[0]
    assert again["metadata"]["model_version"] == str(champion)
    assert again["cached"] == "cached"  # same rows, same model: ZenML's cache answered


def test_deployment_serves_production_and_is_idempotent(store: Store):
    port = str(free_port())
    state = str(store.workdir / ".handoff" / "serving")
    out = ok(store.job("deployment", "--port", port, "--state-dir", state))
    production = store.production()
    assert f"deployed iris_classifier version {production}" in out

    rows = [
        {
            "sepal_length_cm": 5.1,
            "sepal_width_cm": 3.5,
            "petal_length_cm": 1.4,
            "petal_width_cm": 0.2,
        },
        {
            "sepal_length_cm": 6.7,
            "sepal_width_cm": 3.0,
            "petal_length_cm": 5.2,
            "petal_width_cm": 2.3,
        },
    ]
    answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"records": rows}).json()
    assert answer == {
        "predictions": ["setosa", "virginica"],
        "model": "iris_classifier",
        "version": str(production),
    }
    bad = httpx.post(
        f"http://127.0.0.1:{port}/predict",
        json={"records": [{**rows[0], "petal_width_cm": "wide"}]},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "petal_width_cm"

    started = time.monotonic()
    again = ok(store.job("deployment", "--port", port, "--state-dir", state))
    assert "nothing to do" in again
    assert time.monotonic() - started < 30
    record = [v for v in store.probe("models", "iris_classifier") if v["number"] == production][0][
        "metadata"
    ]["deployment_local"]
    assert record["status"] == "deployed" and record["endpoint"].endswith(port)
    assert record["smoke_rows"] == 5

    status = ok(store.handoff("status"))
    assert f"serves version {production}" in status
    assert "iris_training_dataset: 1, raw_2023" in status


def test_the_seed_consumer_patterns_work_against_our_outputs(store: Store):
    script = Path(__file__).with_name("seed_consumers.py")
    out = ok(store._run(["python", str(script)], 300))
    assert "fetched iris_training_dataset by name: 120 rows" in out
    assert f"do_predictions used production version {store.production()}" in out


def test_cold_start_is_a_precondition_with_the_job_to_run_first(tmp_path: Path):
    cold = Store(local_env(tmp_path), tmp_path)
    result = cold.job("training")
    assert result.returncode == 3 and "run the feature-engineering job first" in result.stderr
    for job in ("batch_inference", "deployment"):
        result = cold.job(job)
        assert result.returncode == 3, result.stderr
        assert "no production version yet; run the training job first" in result.stderr
    assert len(result.stderr.strip().splitlines()[-1]) < 300
    rollback = cold.handoff("rollback", "iris_classifier")
    assert rollback.returncode == 3 and "no production version yet" in rollback.stderr


def _bad_inputs(tmp: Path) -> list[tuple[str, list[str], str]]:
    good = "a,b,label\n1.0,2.0,x\n2.0,1.0,y\n3.0,1.5,x\n4.0,0.5,y\n"
    files = {
        "empty.csv": "",
        "no_target.csv": "a,b\n1,2\n3,4\n",
        "nan.csv": "a,b,label\n1.0,,x\n2.0,1.0,y\n",
        "text.csv": "a,b,label\n1.0,high,x\n2.0,low,y\n",
        "good.csv": good,
        "extra.csv": "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,colour\n"
        "5.1,3.5,1.4,0.2,1\n",
        "missing.csv": "sepal_length_cm,sepal_width_cm,petal_length_cm\n5.1,3.5,1.4\n",
        "unknown_key.yaml": "dataset: iris\nthreshhold: 0.5\n",
    }
    for name, text in files.items():
        (tmp / name).write_text(text)
    (tmp / "broken.parquet").write_bytes(b"PAR1 but not really")
    fe = ["--target-column", "label", "--source"]
    return [
        ("feature_engineering", [*fe, str(tmp / "empty.csv")], "empty.csv"),
        ("feature_engineering", [*fe, str(tmp / "no_target.csv")], "'label' is missing"),
        ("feature_engineering", [*fe, str(tmp / "nan.csv")], "column 'b' has 1 missing"),
        ("feature_engineering", [*fe, str(tmp / "text.csv")], "column 'b' has dtype object"),
        ("feature_engineering", [*fe, str(tmp / "absent.csv")], "absent.csv"),
        ("feature_engineering", [*fe, str(tmp / "broken.parquet")], "broken.parquet"),
        ("feature_engineering", ["--config", str(tmp / "unknown_key.yaml")], "'threshhold'"),
        ("training", ["--config", str(tmp / "unknown_key.yaml")], "'threshhold'"),
        ("training", ["--train-version", "raw_1999"], "no version 'raw_1999'"),
        ("training", ["--hyperparameters", "{depth: 2}"], "hyperparameters for"),
        ("batch_inference", ["--input", str(tmp / "extra.csv")], "unexpected column(s) 'colour'"),
        ("batch_inference", ["--input", str(tmp / "missing.csv")], "'petal_width_cm'"),
        ("batch_inference", ["--input", str(tmp / "good.csv")], "missing column(s)"),
        ("deployment", ["--smoke-rows", "0"], "'smoke_rows'"),
    ]


def test_bad_input_exits_2_naming_the_problem_and_changes_nothing(store: Store, tmp_path: Path):
    artifact_root = store.workdir / "zenml" / "local_stores"
    before_files = files_under(artifact_root)
    before_stages = store.stages()
    before_datasets = store.probe("artifacts", "iris_training_dataset")
    failures = []
    for job, args, expected in _bad_inputs(tmp_path):
        result = store.job(job, *args)
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        if result.returncode != 2 or expected not in message:
            failures.append(f"{job} {args}: exit {result.returncode}: {message}")
    assert not failures, "\n".join(failures)
    assert files_under(artifact_root) == before_files
    assert store.stages() == before_stages
    assert store.probe("artifacts", "iris_training_dataset") == before_datasets


def test_status_json_validates_against_its_schema_and_says_what_the_text_says(store: Store):
    import json

    import jsonschema

    from jobs.cli.status import SCHEMA

    text = ok(store.handoff("status"))
    status = json.loads(ok(store.handoff("status", "--json")))
    jsonschema.validate(status, json.loads(SCHEMA.read_text()))
    assert status["model"] == "iris_classifier" and f"model {status['model']}" in text
    for dataset in status["datasets"]:
        assert dataset["newest"], "the store fixture publishes both datasets"
        assert f"{dataset['name']}: {', '.join(dataset['newest'])} " in text
    for version in status["versions"]:
        assert f"{version['number']:>3}  {version['stage'] or 'none':<10}" in text
    if status["predictions"]:
        assert f"{status['predictions']['name']} version {status['predictions']['version']}" in text
