"""Self-test of the server harness: real ZenML server, real moto S3, real client subprocesses.

The last test is also the spike for `handoff stack bootstrap`: it registers an S3 artifact store
through ZenML's own s3 integration against moto and checks a pipeline run lands in the bucket.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.harness import servers

pytestmark = pytest.mark.server

BUCKET = "handoff-artifacts"

CONNECT = """
from zenml.client import Client
client = Client()
print("SERVER", client.zen_store.get_store_info().id)
print("USER", client.active_user.name)
"""

TINY_PIPELINE = """
import os

from zenml import pipeline, step
from zenml.client import Client


@step
def make_number() -> int:
    return 21


@step
def double(number: int) -> int:
    return 2 * number


@pipeline(enable_cache=False)
def tiny() -> None:
    double(make_number())


if __name__ == "__main__":
    Client().activate_stack(os.environ["HANDOFF_STACK"])
    run = tiny()
    print("STATUS", run.status.value)
    print("URI", run.steps["double"].output.uri)
    print("VALUE", run.steps["double"].output.load())
"""


def _lines(output: str, tag: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in output.splitlines() if line.startswith(f"{tag} ")]


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return servers.run([servers.VENV_BIN / "python", "-c", code], env, check=False)


def test_job_env_carries_only_the_contract_variables(
    zenml_server: servers.ZenMLServer, tmp_path: Path
) -> None:
    env = servers.job_env(zenml_server, tmp_path / "config", stack="other")

    assert set(env) == {
        "PATH",
        "HOME",
        "ZENML_STORE_URL",
        "ZENML_STORE_API_KEY",
        "ZENML_CONFIG_PATH",
        "HANDOFF_STACK",
        "ZENML_ANALYTICS_OPT_IN",
    }
    assert env["HANDOFF_STACK"] == "other"
    assert Path(env["ZENML_CONFIG_PATH"]).is_dir()


def test_client_with_api_key_reaches_the_server(
    zenml_server: servers.ZenMLServer, tmp_path: Path
) -> None:
    with httpx.Client(trust_env=False) as http:
        server_id = http.get(f"{zenml_server.url}/api/v1/info").json()["id"]

    result = _python(CONNECT, servers.job_env(zenml_server, tmp_path / "config"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert _lines(result.stdout, "SERVER") == [server_id]
    assert _lines(result.stdout, "USER") == [zenml_server.service_account]


def test_client_with_wrong_api_key_is_rejected(
    zenml_server: servers.ZenMLServer, tmp_path: Path
) -> None:
    # Same key id, wrong secret: the server, not a client-side format check, must refuse it.
    encoded = zenml_server.api_key.removeprefix("ZENKEY_")
    key = json.loads(base64.b64decode(encoded))
    key["key"] = secrets.token_hex(32)
    wrong = "ZENKEY_" + base64.b64encode(json.dumps(key).encode()).decode()
    env = servers.job_env(zenml_server, tmp_path / "config") | {"ZENML_STORE_API_KEY": wrong}

    result = _python(CONNECT, env)

    assert result.returncode != 0
    assert not _lines(result.stdout, "SERVER")
    assert "authentication error" in (result.stdout + result.stderr).lower()


def test_pipeline_on_s3_stack_writes_artifacts_to_the_bucket(
    zenml_server: servers.ZenMLServer, s3_server: servers.S3Server, tmp_path: Path
) -> None:
    servers.create_bucket(s3_server, BUCKET)
    env = servers.job_env(zenml_server, tmp_path / "config", stack="s3-spike")
    client_kwargs = {"endpoint_url": s3_server.endpoint_url, "region_name": s3_server.region}

    servers.zenml_cli(
        env,
        "secret",
        "create",
        "s3-spike-credentials",
        f"--aws_access_key_id={s3_server.access_key}",
        f"--aws_secret_access_key={s3_server.secret_key}",
    )
    servers.zenml_cli(
        env,
        "artifact-store",
        "register",
        "s3-spike-store",
        "--flavor=s3",
        f"--path=s3://{BUCKET}",
        "--authentication_secret=s3-spike-credentials",
        f"--client_kwargs={json.dumps(client_kwargs)}",
    )
    servers.zenml_cli(env, "stack", "register", "s3-spike", "-o", "default", "-a", "s3-spike-store")
    script = tmp_path / "tiny_pipeline.py"
    script.write_text(TINY_PIPELINE)

    result = servers.run([servers.VENV_BIN / "python", script], env, cwd=tmp_path)

    assert _lines(result.stdout, "STATUS") == ["completed"]
    assert _lines(result.stdout, "VALUE") == ["42"]
    [uri] = _lines(result.stdout, "URI")
    assert uri.startswith(f"s3://{BUCKET}/double/")
    keys = servers.list_objects(s3_server, BUCKET)
    assert any(key.startswith(uri.removeprefix(f"s3://{BUCKET}/")) for key in keys), keys
    assert any(key.startswith("make_number/") for key in keys), keys
