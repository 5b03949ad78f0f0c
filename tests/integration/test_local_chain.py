"""The four jobs handing work to each other on ZenML's embedded local store, each job its own
process — what `make run` does — plus promotion by hand, rollback, cold start and bad input.

The tests share one store per module to stay quick, but none relies on another having run: each
asks `chain` for the state it needs (datasets, a production model, a staging one), which builds
it when it is missing, and reads the store's current state instead of assuming it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from tests.harness import iris
from tests.harness.chain import LocalChain
from tests.harness.runner import (
    REPO,
    WORSE,
    files_under,
    last_line,
    local_runner,
    ok,
)
from tests.harness.servers import free_port

pytestmark = pytest.mark.integration


def test_datasets_are_named_versioned_and_stored_as_parquet(chain: LocalChain):
    chain.datasets()
    for name, rows in (("iris_training_dataset", 120), ("iris_testing_dataset", 30)):
        versions = chain.jobs.probe("artifacts", name)
        assert [v["version"] for v in versions] == ["raw_2023", "1"]
        assert versions[0]["tags"] == ["raw", "y2023"]
        assert versions[0]["metadata"]["rows"] == rows
        assert versions[0]["metadata"]["target_column"] == "species"
        assert list(Path(versions[0]["uri"]).glob("*.parquet*")), "DataFrames go to parquet"


def test_a_taken_custom_version_is_refused(chain: LocalChain):
    chain.datasets()
    result = chain.jobs.job("feature_engineering", "--version", "raw_2023")
    assert result.returncode == 2
    assert "already has a version 'raw_2023'" in result.stderr


def test_training_takes_latest_by_default_and_a_pinned_version_on_request(chain: LocalChain):
    chain.datasets()
    ok(chain.jobs.job("training"))
    latest = chain.jobs.probe("models", "iris_classifier")[-1]
    assert latest["metadata"]["datasets"]["training"] == {
        "name": "iris_training_dataset",
        "version": "1",
    }
    assert latest["metadata"]["feature_schema"] == {feature: "float64" for feature in iris.FEATURES}

    champion = chain.jobs.production()
    ok(chain.jobs.job("training", "--train-version", "raw_2023", "--test-version", "raw_2023"))
    pinned = chain.jobs.probe("models", "iris_classifier")[-1]
    assert pinned["metadata"]["datasets"]["training"]["version"] == "raw_2023"
    assert pinned["metadata"]["datasets"]["testing"]["version"] == "raw_2023"
    assert pinned["metadata"]["promotion"]["champion_version"] == str(champion)


def test_a_scheduled_training_on_the_datasets_production_has_does_nothing(chain: LocalChain):
    """Training's schedule (skip_if_trained, as the CronJob's config sets it) is the fallback for
    a failed chained start: it must not train and promote an identical version again."""
    chain.datasets()
    ok(chain.jobs.job("training"))  # ties promote: production is trained on the newest datasets
    versions = chain.jobs.stages()
    out = ok(chain.jobs.job("training", "--skip-if-trained", "true"))
    assert "already; nothing to do" in out, out
    assert chain.jobs.stages() == versions
    # Pinned (a chained start, or by hand), it trains whatever production was trained on.
    out = ok(chain.jobs.job("training", "--skip-if-trained", "true", "--train-version", "1"))
    assert "trained iris_classifier version" in out


def test_a_scheduled_training_after_a_chained_one_left_staging_does_nothing(chain: LocalChain):
    """The chained start trained on the newest datasets but did not beat production: the
    schedule must not train a second, identical challenger on them (issue 21, item 6)."""
    chain.champion()
    # Production trained on raw_2023 (promoted by hand); the chained start on "1", the newest.
    ok(chain.jobs.job("training", "--train-version", "raw_2023", "--test-version", "raw_2023"))
    older = chain.jobs.probe("models", "iris_classifier")[-1]["number"]
    ok(chain.jobs.handoff("promote", "iris_classifier", str(older)))
    ok(chain.jobs.job("training", *WORSE, "--train-version", "1", "--test-version", "1"))
    versions = chain.jobs.stages()
    assert versions[max(versions)] == "staging"
    out = ok(chain.jobs.job("training", "--skip-if-trained", "true"))
    assert f"version {max(versions)} (staging) was trained on" in out, out
    assert chain.jobs.stages() == versions


def test_a_worse_model_stays_in_staging_and_says_why(chain: LocalChain):
    champion = chain.champion()
    out = ok(chain.jobs.job("training", *WORSE))
    assert "-> staging" in out and f"worse than production version {champion}" in out
    latest = chain.jobs.probe("models", "iris_classifier")[-1]
    assert latest["stage"] == "staging"
    record = latest["metadata"]["promotion"]
    assert record["decided_by"].startswith("training pipeline run")
    assert record["champion_version"] == str(champion) and 0.5 < record["candidate"] < 0.9
    assert chain.jobs.production() == champion


def test_deployment_serves_production_and_is_idempotent(chain: LocalChain):
    production = chain.champion()
    port = str(free_port())
    state = chain.serving_state
    out = ok(chain.jobs.job("deployment", "--port", port, "--state-dir", str(state)))
    assert f"deployed iris_classifier version {production}" in out

    endpoint = f"http://127.0.0.1:{port}/predict"
    answer = httpx.post(endpoint, json={"records": iris.ROWS}, trust_env=False).json()
    assert answer == {
        "predictions": iris.SPECIES,
        "model": "iris_classifier",
        "version": str(production),
    }
    bad = httpx.post(
        endpoint,
        json={"records": [{**iris.ROWS[0], "petal_width_cm": "wide"}]},
        trust_env=False,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "petal_width_cm"

    server = json.loads((state / f"local-{port}.json").read_text())["pid"]
    again = ok(chain.jobs.job("deployment", "--port", port, "--state-dir", str(state)))
    assert "nothing to do" in again
    # The same server process still serves: nothing was restarted.
    assert json.loads((state / f"local-{port}.json").read_text())["pid"] == server
    record = [
        v for v in chain.jobs.probe("models", "iris_classifier") if v["number"] == production
    ][0]["metadata"]["deployment_local"]
    assert record["status"] == "deployed" and record["endpoint"].endswith(port)
    assert record["smoke_rows"] == 5

    status = ok(chain.jobs.handoff("status"))
    assert f"serves version {production}" in status
    assert "iris_training_dataset: 1, raw_2023" in status


def test_the_seed_consumer_patterns_work_against_our_outputs(chain: LocalChain):
    production = chain.champion()
    script = Path(__file__).with_name("seed_consumers.py")
    out = ok(chain.jobs.run("python", script))
    assert "fetched iris_training_dataset by name: 120 rows" in out
    assert f"do_predictions used production version {production}" in out


def test_cold_start_is_a_precondition_naming_the_job_to_run_first(tmp_path: Path):
    cold = local_runner(tmp_path)
    result = cold.job("training")
    assert result.returncode == 3 and "run the feature-engineering job first" in result.stderr
    # The deployment job's cold start, per target: test_deployment_preconditions.py.
    result = cold.job("batch_inference")
    assert result.returncode == 3, result.stderr
    assert "no production version yet; run the training job first" in last_line(result)
    assert len(last_line(result)) < 300
    rollback = cold.handoff("rollback", "iris_classifier")
    assert rollback.returncode == 3 and "no production version yet" in rollback.stderr


def test_bad_input_exits_2_naming_the_problem_and_changes_nothing(
    chain: LocalChain, tmp_path: Path
):
    """One bad input per job, end to end; every other kind is a unit test of the data contract
    (tests/unit/common/test_data_contract.py) or of the settings (test_settings.py)."""
    chain.champion()
    nan, extra = tmp_path / "nan.csv", tmp_path / "extra.csv"
    nan.write_text("a,b,label\n1.0,,x\n2.0,1.0,y\n")
    row = {**iris.ROWS[0], "colour": 1.0}
    extra.write_text(f"{','.join(row)}\n{','.join(map(str, row.values()))}\n")
    bad_inputs = [
        ("feature_engineering",
         ["--target-column", "label", "--source", str(nan), "--missing", "reject"],
         "column 'b' has 1 missing"),
        ("training", ["--train-version", "raw_1999"], "no version 'raw_1999'"),
        ("batch_inference", ["--input", str(extra)], "unexpected column(s) 'colour'"),
        ("deployment", ["--smoke-rows", "0"], "'smoke_rows'"),
    ]  # fmt: skip
    artifact_root = chain.jobs.workdir / "zenml" / "local_stores"
    before_files = files_under(artifact_root)
    before_stages = chain.jobs.stages()
    before_datasets = chain.jobs.probe("artifacts", "iris_training_dataset")
    failures = []
    for job, args, expected in bad_inputs:
        result = chain.jobs.job(job, *args)
        if result.returncode != 2 or expected not in last_line(result):
            failures.append(f"{job} {args}: exit {result.returncode}: {last_line(result)}")
    assert not failures, "\n".join(failures)
    assert files_under(artifact_root) == before_files
    assert chain.jobs.stages() == before_stages
    assert chain.jobs.probe("artifacts", "iris_training_dataset") == before_datasets


def test_status_json_validates_against_its_schema_and_says_what_the_text_says(chain: LocalChain):
    import jsonschema

    from jobs.cli.status import SCHEMA

    chain.champion()
    text = ok(chain.jobs.handoff("status"))
    status = json.loads(ok(chain.jobs.handoff("status", "--json")))
    jsonschema.validate(status, json.loads(SCHEMA.read_text()))
    assert status["model"] == "iris_classifier" and f"model {status['model']}" in text
    for dataset in status["datasets"]:
        assert dataset["newest"], "chain.champion() published both datasets"
        assert f"{dataset['name']}: {', '.join(dataset['newest'])} " in text
    for version in status["versions"]:
        assert f"{version['number']:>3}  {version['stage'] or 'none':<10}" in text
    if status["predictions"]:
        assert f"{status['predictions']['name']} version {status['predictions']['version']}" in text


def test_values_an_estimator_rejects_are_bad_input_in_every_job(chain: LocalChain, tmp_path: Path):
    """One process per job, each with a value class the old contract let through: a non-finite
    value published a poisoned dataset, and batch inference crashed after writing."""
    chain.champion()
    store = chain.jobs
    poisoned = tmp_path / "poisoned.csv"
    poisoned.write_text("a,b,label\n1.0,inf,x\n2.0,1.0,y\n3.0,-inf,x\n4.0,0.5,y\n")
    for name in ("poison_training_dataset", "poison_testing_dataset"):
        publish = [sys.executable, "-m", "tests.harness.publish", name, "old", "label"]
        ok(store._run([*publish, str(poisoned)], PYTHONPATH=str(REPO)))
    rows = "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n"
    inputs = tmp_path / "inputs.csv"
    inputs.write_text(rows + "5.1,3.5,1.4,0.2\n5.1,1e39,1.4,0.2\n6.0,3.0,4.8,1.8\n")
    # Nothing visible by name changes (streaming batch inference may leave unregistered staging
    # parts behind, which no name reaches).
    before = (
        store.stages(),
        store.probe("artifacts", "iris_predictions"),
    )
    cases = [
        (
            ["feature_engineering", "--target-column", "label", "--source", str(poisoned)],
            "poisoned.csv (rows 0-3): column 'b' has 2 non-finite value(s)",
        ),
        (
            [
                "training",
                "--training-dataset",
                "poison_training_dataset",
                "--testing-dataset",
                "poison_testing_dataset",
            ],
            "poison_training_dataset version old: column 'b' has 2 non-finite value(s)",
        ),
        (
            ["batch_inference", "--input", str(inputs)],
            "column 'sepal_width_cm' has 1 value(s) beyond float32's range",
        ),
    ]
    for (job, *args), expected in cases:
        result = store.job(job, *args)
        last = result.stderr.strip().splitlines()[-1]
        assert result.returncode == 2 and expected in last, (job, result.returncode, last)
    after = (
        store.stages(),
        store.probe("artifacts", "iris_predictions"),
    )
    assert after == before
