"""One shared ZenML server and S3 artifact store, every job its own process — as in the cluster.

A real ZenML server (uvicorn, its own SQLite) and a real S3-speaking server (moto) run on
loopback; `handoff stack bootstrap` registers the stack; then each job runs as a separate
`python -m jobs.<job>` with a fresh ZENML_CONFIG_PATH and nothing but environment variables.

No test relies on another having run: the `remote` fixture bootstraps the stack, and a test that
needs a model in production asks `champion`, which trains one when there is none.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import iris, servers
from tests.harness.runner import (
    BETTER,
    FAIR,
    WORSE,
    JobRunner,
    bootstrap_stack,
    bucket_runner,
    last_line,
    ok,
    stop_local_serving,
)

pytestmark = pytest.mark.server
BUCKET = "handoff-artifacts"


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    """Jobs on the shared server, with the handoff stack bootstrapped (idempotent)."""
    jobs = bucket_runner(zenml_server, s3_server, tmp_path_factory.mktemp("shared-server"), BUCKET)
    try:
        yield jobs
    finally:
        stop_local_serving(jobs.workdir / ".handoff" / "serving")


def champion(jobs: JobRunner) -> int:
    """The production version on the server, trained from fresh datasets if there is none."""
    production = jobs.production()
    if production is None:
        ok(jobs.job("feature_engineering"))
        ok(jobs.job("training"))
        production = jobs.production()
    assert production is not None
    return production


def test_bootstrap_twice_changes_nothing_and_a_new_endpoint_updates(
    remote: JobRunner, s3_server: servers.S3Server
):
    def ours() -> list[dict]:
        return [
            c for c in remote.probe("components", "artifact_store") if c["name"] == "handoff-s3"
        ]

    before = remote.probe("stacks")
    again = bootstrap_stack(remote, s3_server, BUCKET)
    assert "nothing to do" in again and "created" not in again and "updated" not in again
    assert remote.probe("stacks") == before  # no duplicate stack or component
    assert len(ours()) == 1

    other = s3_server.endpoint_url.replace("127.0.0.1", "localhost")
    try:
        changed = bootstrap_stack(remote, s3_server, BUCKET, HANDOFF_S3_ENDPOINT_URL=other)
        assert "artifact store handoff-s3: updated" in changed
        assert "stack handoff: unchanged" in changed
        (updated,) = ours()
        assert updated["configuration"]["client_kwargs"]["endpoint_url"] == other
    finally:
        bootstrap_stack(remote, s3_server, BUCKET)  # back to the original endpoint


def test_credentials_stay_out_of_config_and_output(remote: JobRunner, s3_server: servers.S3Server):
    out = bootstrap_stack(remote, s3_server, BUCKET)
    (store,) = [
        c for c in remote.probe("components", "artifact_store") if c["name"] == "handoff-s3"
    ]
    assert s3_server.secret_key not in str(store["configuration"])
    assert s3_server.secret_key not in out
    assert store["configuration"]["authentication_secret"] == "handoff-object-store"


def test_the_whole_chain_across_processes_lands_in_the_bucket(
    remote: JobRunner, s3_server: servers.S3Server
):
    ok(remote.job("feature_engineering"))
    ok(remote.job("training", *FAIR))
    out = ok(remote.job("batch_inference"))
    assert "iris_predictions" in out
    port = str(servers.free_port())
    state = str(remote.workdir / ".handoff" / "serving")
    out = ok(remote.job("deployment", "--port", port, "--state-dir", state))
    production = remote.production()
    assert f"deployed iris_classifier version {production}" in out
    answer = httpx.post(
        f"http://127.0.0.1:{port}/predict", json={"records": iris.ROWS}, trust_env=False
    ).json()
    assert answer["predictions"] == iris.SPECIES and answer["version"] == str(production)

    objects = servers.list_objects(s3_server, BUCKET)
    for name in ("iris_training_dataset", "iris_testing_dataset", "iris_predictions"):
        (artifact,) = remote.probe("artifacts", name)[-1:]
        assert artifact["uri"].startswith(f"s3://{BUCKET}/"), artifact["uri"]
        prefix = artifact["uri"].removeprefix(f"s3://{BUCKET}/")
        assert any(key.startswith(prefix) and ".parquet" in key for key in objects), name
    model_uri = remote.probe("artifacts", "trained_model")[-1]["uri"]
    assert any(key.startswith(model_uri.removeprefix(f"s3://{BUCKET}/")) for key in objects)
    # Nothing went to a local artifact store in any job's (pod's) config directory.
    local = [p for d in remote.config_dirs for p in (d / "local_stores").rglob("*") if p.is_file()]
    assert not local, local


def test_tables_in_the_bucket_are_read_and_written_by_uri(
    remote: JobRunner, s3_server: servers.S3Server, tmp_path: Path
):
    import pandas as pd

    from jobs.common.data.iris import labelled

    client = s3_server.client()
    client.put_object(Bucket=BUCKET, Key="raw/flowers.csv", Body=labelled().to_csv(index=False))
    # A day's partition as a prefix holding several files.
    features = pd.DataFrame(iris.ROWS)
    for key, rows in (("part-0.csv", features.iloc[:1]), ("part-1.csv", features.iloc[1:])):
        client.put_object(
            Bucket=BUCKET, Key=f"raw/dt=2026-11-25/{key}", Body=rows.to_csv(index=False)
        )
    source = f"s3://{BUCKET}/raw/flowers.csv"
    out = ok(remote.job("feature_engineering", "--dataset", "flowers", "--source", source))
    assert "published flowers_training_dataset version 1 (120 rows)" in out
    ok(remote.job("training", "--dataset", "flowers"))
    output = f"s3://{BUCKET}/predictions/flowers-{{partition}}.parquet"
    partition = f"s3://{BUCKET}/raw/dt={{partition}}/"
    args = ["--dataset", "flowers", "--input", partition, "--partition", "2026-11-25"]
    out = ok(remote.job("batch_inference", *args, "--output", output))
    assert f"predicted {len(iris.ROWS)} rows with flowers_classifier version 1" in out
    (stored,) = remote.probe("artifacts", "flowers_predictions")
    assert stored["metadata"]["input"]["files"] == 2
    assert stored["uri"].startswith(f"s3://{BUCKET}/")
    exported = [k for k in servers.list_objects(s3_server, BUCKET) if k.startswith("predictions/")]
    assert exported == ["predictions/flowers-2026-11-25.parquet"]  # no staging copy left
    body = client.get_object(Bucket=BUCKET, Key=exported[0])["Body"].read()
    (tmp_path / "p.parquet").write_bytes(body)
    assert list(pd.read_parquet(tmp_path / "p.parquet")["prediction"]) == iris.SPECIES


def test_worse_keeps_production_and_better_takes_it(remote: JobRunner):
    before = champion(remote)
    out = ok(remote.job("training", *WORSE))
    assert "-> staging" in out and remote.production() == before
    out = ok(remote.job("training", *BETTER))
    assert "-> production" in out
    better = remote.production()
    assert better != before
    out = ok(remote.job("batch_inference"))
    assert f"with iris_classifier version {better}" in out


def test_simultaneous_trainings_end_with_exactly_one_production(remote: JobRunner):
    champion(remote)
    before = set(remote.stages())
    racers = remote.race(4, "training", *BETTER, "--threshold", "0.5")
    for racer in racers:
        assert racer.returncode == 0, racer.stderr[-2000:]
    stages = remote.stages()
    assert len(set(stages) - before) == len(racers)
    assert list(stages.values()).count("production") == 1, stages


def test_a_rejected_api_key_fails_with_one_line(remote: JobRunner):
    result = remote.with_env(ZENML_STORE_API_KEY="ZENKEY_" + "x" * 60).job("training")
    assert result.returncode == 1
    line = last_line(result)
    assert remote.env["ZENML_STORE_URL"] in line and "API key" in line, result.stderr[-1500:]


def test_an_unreachable_server_fails_with_one_line(remote: JobRunner):
    url = f"http://127.0.0.1:{servers.free_port()}"
    result = remote.with_env(ZENML_STORE_URL=url).job("batch_inference")
    assert result.returncode == 1
    assert last_line(result).startswith(f"batch_inference: cannot reach the ZenML server at {url}")


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("default", "has a local artifact store"),
        ("no-such-stack", "no stack named 'no-such-stack'"),
    ],
)
def test_a_job_without_a_remote_artifact_store_refuses_to_run(
    remote: JobRunner, stack: str, message: str
):
    runs_before = remote.stages()
    result = remote.with_env(HANDOFF_STACK=stack).job("training")
    assert result.returncode == 2, result.stderr[-1500:]
    assert message in last_line(result)
    assert remote.stages() == runs_before
