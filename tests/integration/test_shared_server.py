"""One shared ZenML server and S3 artifact store, every job its own process — as in the cluster.

A real ZenML server (uvicorn, its own SQLite) and a real S3-speaking server (moto) run on
loopback; `handoff stack bootstrap` registers the stack; then each job runs as a separate
`python -m jobs.<job>` with a fresh ZENML_CONFIG_PATH and nothing but environment variables.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import servers
from tests.integration.chain import BETTER, FAIR, WORSE, Store, ok, stop_local_serving

pytestmark = pytest.mark.server
BUCKET = "handoff-artifacts"


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Store]:
    workdir = tmp_path_factory.mktemp("shared-server")
    env = servers.job_env(zenml_server, workdir / "unused-config")
    store = Store(env, workdir, fresh_config=True)
    boot = {**servers.object_store_env(s3_server, BUCKET), "HANDOFF_CREATE_BUCKET": "true"}
    store.env.update(boot)
    out = ok(store.handoff("stack", "bootstrap"))
    for key in boot:
        del store.env[key]
    assert "stack handoff: created" in out
    yield store
    stop_local_serving(workdir / ".handoff" / "serving")


def bootstrap(store: Store, s3: servers.S3Server, **overrides: str) -> str:
    env = {**servers.object_store_env(s3, BUCKET), **overrides}
    store.env.update(env)
    try:
        return ok(store.handoff("stack", "bootstrap"))
    finally:
        for key in env:
            store.env.pop(key, None)


def test_bootstrap_twice_changes_nothing_and_a_new_endpoint_updates(
    remote: Store, s3_server: servers.S3Server
):
    def ours() -> list[dict]:
        return [
            c for c in remote.probe("components", "artifact_store") if c["name"] == "handoff-s3"
        ]

    before = remote.probe("stacks")
    again = bootstrap(remote, s3_server)
    assert "nothing to do" in again and "created" not in again and "updated" not in again
    assert remote.probe("stacks") == before  # no duplicate stack or component
    assert len(ours()) == 1

    other = s3_server.endpoint_url.replace("127.0.0.1", "localhost")
    changed = bootstrap(remote, s3_server, HANDOFF_S3_ENDPOINT_URL=other)
    assert "artifact store handoff-s3: updated" in changed
    assert "stack handoff: unchanged" in changed
    (updated,) = ours()
    assert updated["configuration"]["client_kwargs"]["endpoint_url"] == other
    bootstrap(remote, s3_server)  # back to the original endpoint


def test_credentials_stay_out_of_config_and_output(remote: Store, s3_server: servers.S3Server):
    out = bootstrap(remote, s3_server)
    (store,) = [
        c for c in remote.probe("components", "artifact_store") if c["name"] == "handoff-s3"
    ]
    assert s3_server.secret_key not in str(store["configuration"])
    assert s3_server.secret_key not in out
    assert store["configuration"]["authentication_secret"] == "handoff-object-store"


def test_the_whole_chain_across_processes_lands_in_the_bucket(
    remote: Store, s3_server: servers.S3Server
):
    ok(remote.job("feature_engineering", "--version", "raw_2023"))
    out = ok(remote.job("training", *FAIR))
    assert "-> production" in out
    out = ok(remote.job("batch_inference"))
    assert "iris_predictions" in out
    port = str(servers.free_port())
    state = str(remote.workdir / ".handoff" / "serving")
    out = ok(remote.job("deployment", "--port", port, "--state-dir", state))
    production = remote.production()
    assert f"deployed iris_classifier version {production}" in out
    answer = httpx.post(
        f"http://127.0.0.1:{port}/predict",
        json={
            "records": [
                {
                    "sepal_length_cm": 5.1,
                    "sepal_width_cm": 3.5,
                    "petal_length_cm": 1.4,
                    "petal_width_cm": 0.2,
                }
            ]
        },
    ).json()
    assert answer["predictions"] == ["setosa"] and answer["version"] == str(production)

    objects = servers.list_objects(s3_server, BUCKET)
    for name in ("iris_training_dataset", "iris_testing_dataset", "iris_predictions"):
        (artifact,) = remote.probe("artifacts", name)[-1:]
        assert artifact["uri"].startswith(f"s3://{BUCKET}/"), artifact["uri"]
        prefix = artifact["uri"].removeprefix(f"s3://{BUCKET}/")
        assert any(key.startswith(prefix) and ".parquet" in key for key in objects), name
    model_uri = [v for v in remote.probe("artifacts", "trained_model")][-1]["uri"]
    assert any(key.startswith(model_uri.removeprefix(f"s3://{BUCKET}/")) for key in objects)
    # Nothing went to a local artifact store in any job's (pod's) config directory.
    local = [p for d in remote.config_dirs for p in (d / "local_stores").rglob("*") if p.is_file()]
    assert not local, local


def test_tables_in_the_bucket_are_read_and_written_by_uri(
    remote: Store, s3_server: servers.S3Server, tmp_path: Path
):
    from jobs.common import iris

    client = s3_server.client()
    client.put_object(
        Bucket=BUCKET, Key="raw/flowers.csv", Body=iris.labelled().to_csv(index=False)
    )
    features = iris.features().head(7)
    client.put_object(Bucket=BUCKET, Key="raw/new.csv", Body=features.to_csv(index=False))
    source = f"s3://{BUCKET}/raw/flowers.csv"
    out = ok(remote.job("feature_engineering", "--dataset", "flowers", "--source", source))
    assert "published flowers_training_dataset version 1 (120 rows)" in out
    ok(remote.job("training", "--dataset", "flowers"))
    output = f"s3://{BUCKET}/predictions/flowers.parquet"
    out = ok(
        remote.job(
            "batch_inference",
            "--dataset",
            "flowers",
            "--input",
            f"s3://{BUCKET}/raw/new.csv",
            "--output",
            output,
        )
    )
    assert "predicted 7 rows with flowers_classifier version 1" in out
    body = client.get_object(Bucket=BUCKET, Key="predictions/flowers.parquet")["Body"].read()
    (tmp_path / "p.parquet").write_bytes(body)
    import pandas as pd

    assert list(pd.read_parquet(tmp_path / "p.parquet")["prediction"][:1]) == ["setosa"]


def test_worse_keeps_production_and_better_takes_it(remote: Store):
    champion = remote.production()
    out = ok(remote.job("training", *WORSE))
    assert "-> staging" in out and remote.production() == champion
    out = ok(remote.job("training", *BETTER))
    assert "-> production" in out
    better = remote.production()
    assert better != champion
    out = ok(remote.job("batch_inference"))
    assert f"with iris_classifier version {better}" in out


@pytest.mark.parametrize("attempt", range(3))
def test_simultaneous_trainings_end_with_exactly_one_production(remote: Store, attempt: int):
    before = {n for n in remote.stages()}
    racers = [remote.start("training", *BETTER, "--threshold", "0.5") for _ in range(2)]
    for racer in racers:
        _, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err[-2000:]
    stages = remote.stages()
    assert len(set(stages) - before) == 2
    assert list(stages.values()).count("production") == 1, stages


def test_a_rejected_api_key_fails_fast_with_one_line(remote: Store):
    env = dict(remote.env, ZENML_STORE_API_KEY="ZENKEY_" + "x" * 60)
    started = time.monotonic()
    result = Store(env, remote.workdir, fresh_config=True).job("training")
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert remote.env["ZENML_STORE_URL"] in line and "API key" in line, result.stderr[-1500:]
    assert time.monotonic() - started < 60


def test_an_unreachable_server_fails_fast_with_one_line(remote: Store):
    url = f"http://127.0.0.1:{servers.free_port()}"
    env = dict(remote.env, ZENML_STORE_URL=url)
    started = time.monotonic()
    result = Store(env, remote.workdir, fresh_config=True).job("batch_inference")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"batch_inference: cannot reach the ZenML server at {url}")
    )
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("default", "has a local artifact store"),
        ("no-such-stack", "no stack named 'no-such-stack'"),
    ],
)
def test_a_job_without_a_remote_artifact_store_refuses_to_run(
    remote: Store, stack: str, message: str, tmp_path: Path
):
    runs_before = remote.stages()
    env = dict(remote.env, HANDOFF_STACK=stack)
    result = Store(env, remote.workdir, fresh_config=True).job("training")
    assert result.returncode == 2, result.stderr[-1500:]
    assert message in result.stderr.strip().splitlines()[-1]
    assert remote.stages() == runs_before
