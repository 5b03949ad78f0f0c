"""Real servers on loopback for the `server` test tier.

`zenml_server` runs ZenML's own FastAPI app under uvicorn with a private SQLite database and hands
back a service-account API key; `s3_server` runs moto in server mode as the S3-speaking object
store. Both are subprocesses (a crash or a leaked global in one cannot poison the test process)
and both are stopped on exit, also when the test body fails.

`job_env` (and `local_env`, for ZenML's embedded store) builds the only environment a job
subprocess gets, so a passing test proves that a job reaches the server through the contract's
environment variables and nothing else.

The session fixtures `zenml_server` and `s3_server` are in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

LOOPBACK = "127.0.0.1"
SERVICE_ACCOUNT = "handoff-ci"
VENV_BIN = Path(sys.executable).parent

# ZenML's server imports half the world on a cold start; 20 s on a quiet machine, more on CI.
ZENML_STARTUP_TIMEOUT = 180.0
S3_STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class ZenMLServer:
    url: str
    api_key: str
    service_account: str
    admin_username: str
    admin_password: str
    database_path: Path
    log_path: Path
    startup_seconds: float
    control: ServerControl | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    log_path: Path
    control: ServerControl | None = field(default=None, compare=False, repr=False)

    def client(self) -> Any:
        """A boto3 S3 client for this server (path-style: moto has no DNS for bucket hosts)."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}),
        )


class ServerStartError(RuntimeError):
    """A test server did not become ready; the message carries its log tail."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "<no log written>"
    return "\n".join(text.splitlines()[-lines:]) or "<log is empty>"


def _http() -> httpx.Client:
    # trust_env=False: loopback traffic must never go through a proxy from the environment.
    return httpx.Client(trust_env=False, timeout=10.0)


def _responds(url: str) -> bool:
    try:
        with _http() as http:
            return http.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, wait, then kill: the process group, which we own (start_new_session=True)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT)


def _wait_until_ready(
    name: str, proc: subprocess.Popen[bytes], url: str, log_path: Path, timeout: float
) -> float | None:
    """Seconds until `url` answered 200; None if the port was taken before the server bound it."""
    started = time.monotonic()
    while not _responds(url):
        if proc.poll() is not None:
            tail = log_tail(log_path)
            if "address already in use" in tail.lower():
                return None
            raise ServerStartError(
                f"{name} exited with code {proc.returncode} before it was ready; "
                f"log {log_path}:\n{tail}"
            )
        if time.monotonic() - started > timeout:
            raise ServerStartError(
                f"{name} was not ready at {url} after {timeout:.0f}s; "
                f"log {log_path}:\n{log_tail(log_path)}"
            )
        time.sleep(0.2)
    return time.monotonic() - started


@dataclass
class ServerControl:
    """Stop, freeze and start a test server again on the same port with the same data (the
    fault tests restart the ZenML server mid-run and freeze the S3 server mid-write)."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str]
    ready_url: str
    log_path: Path
    timeout: float
    proc: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL the whole server, as a crashed node would; wait until it is gone."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def start(self) -> float:
        """Start it again on its port; seconds until it answered."""
        self.proc = _spawn(self.command, self.env, self.log_path)
        seconds = _wait_until_ready(
            self.name, self.proc, self.ready_url, self.log_path, self.timeout
        )
        if seconds is None:
            raise ServerStartError(f"{self.name} could not get its port back; log {self.log_path}")
        return seconds

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel and never answered."""
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self.proc.pid, signal.SIGCONT)


def _spawn(
    command: Sequence[str], env: Mapping[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=log_path.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@contextlib.contextmanager
def _serve(
    name: str,
    command: Callable[[int], Sequence[str]],
    env: Mapping[str, str],
    ready_url: Callable[[int], str],
    log_path: Path,
    timeout: float,
) -> Iterator[tuple[int, float, ServerControl]]:
    """Run `command(port)` until the block exits; yield (port, seconds until ready, control).

    free_port() can race with another process grabbing the same port before the server binds
    it, so a server that dies with "address already in use" gets another port.
    """
    for _ in range(3):
        port = free_port()
        control = ServerControl(
            name, command(port), env, ready_url(port), log_path, timeout,
            _spawn(command(port), env, log_path),
        )  # fmt: skip
        try:
            seconds = _wait_until_ready(name, control.proc, ready_url(port), log_path, timeout)
            if seconds is None:
                continue
            yield port, seconds, control
            return
        finally:
            with contextlib.suppress(ProcessLookupError):  # a frozen server cannot stop
                os.killpg(control.proc.pid, signal.SIGCONT)
            _stop(control.proc)
    raise ServerStartError(f"{name} lost its port three times; log {log_path}")


def _create_api_key(url: str, username: str, password: str) -> str:
    """Log in as the admin and mint an API key for a fresh service account (ZenML REST API)."""
    with _http() as http:
        login = http.post(f"{url}/api/v1/login", data={"username": username, "password": password})
        login.raise_for_status()
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        account = http.post(
            f"{url}/api/v1/service_accounts",
            json={"name": SERVICE_ACCOUNT, "active": True},
            headers=auth,
        )
        account.raise_for_status()
        key = http.post(
            f"{url}/api/v1/service_accounts/{account.json()['id']}/api_keys",
            json={"name": "tests"},
            headers=auth,
        )
        key.raise_for_status()
        return str(key.json()["body"]["key"])


@contextlib.contextmanager
def zenml_server(
    tmp_dir: Path, *, startup_timeout: float = ZENML_STARTUP_TIMEOUT
) -> Iterator[ZenMLServer]:
    """A ZenML 0.98 server on loopback with its own SQLite database under `tmp_dir`."""
    tmp_dir = Path(tmp_dir)
    home = tmp_dir / "home"
    config = tmp_dir / "server-config"
    for directory in (home, config):
        directory.mkdir(parents=True, exist_ok=True)
    database = tmp_dir / "zenml.db"
    username, password = "admin", secrets.token_urlsafe(16)
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "ZENML_CONFIG_PATH": str(config),
        "ZENML_LOCAL_STORES_PATH": str(tmp_dir / "server-local-stores"),
        "ZENML_STORE_URL": f"sqlite:///{database}",
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_SERVER": "true",
        # Skip the dashboard onboarding: activate on first start and create this admin user.
        "ZENML_SERVER_AUTO_ACTIVATE": "true",
        "ZENML_DEFAULT_USER_NAME": username,
        "ZENML_DEFAULT_USER_PASSWORD": password,
        "ZENML_SERVER_JWT_SECRET_KEY": secrets.token_hex(32),
    }

    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "zenml.zen_server.zen_server_api:app",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--timeout-graceful-shutdown",
            "5",
        ]

    log_path = tmp_dir / "zenml-server.log"
    with _serve(
        "ZenML server",
        command,
        env,
        lambda port: f"http://{LOOPBACK}:{port}/health",
        log_path,
        startup_timeout,
    ) as (port, startup_seconds, control):
        url = f"http://{LOOPBACK}:{port}"
        yield ZenMLServer(
            url=url,
            api_key=_create_api_key(url, username, password),
            service_account=SERVICE_ACCOUNT,
            admin_username=username,
            admin_password=password,
            database_path=database,
            log_path=log_path,
            startup_seconds=startup_seconds,
            control=control,
        )


@contextlib.contextmanager
def s3_server(
    tmp_dir: Path, *, region: str = "us-east-1", startup_timeout: float = S3_STARTUP_TIMEOUT
) -> Iterator[S3Server]:
    """moto in server mode on loopback: an S3 endpoint that accepts any credentials."""
    tmp_dir = Path(tmp_dir)
    (tmp_dir / "home").mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_dir / "home"),
    }
    log_path = tmp_dir / "s3-server.log"
    with _serve(
        "moto S3 server",
        lambda port: [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
        env,
        lambda port: f"http://{LOOPBACK}:{port}/moto-api/",
        log_path,
        startup_timeout,
    ) as (port, _, control):
        yield S3Server(
            endpoint_url=f"http://{LOOPBACK}:{port}",
            access_key="handoff-test-key",
            secret_key=secrets.token_hex(16),
            region=region,
            log_path=log_path,
            control=control,
        )


def create_bucket(s3: S3Server, bucket: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if s3.region != "us-east-1":  # S3 rejects an explicit us-east-1 location constraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": s3.region}
    s3.client().create_bucket(**kwargs)


def list_objects(s3: S3Server, bucket: str, prefix: str = "") -> list[str]:
    """Every key in `bucket` under `prefix`, sorted."""
    pages = s3.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def _process_env(config_dir: Path, home: Path) -> dict[str, str]:
    """What every job process gets, whatever its store: PATH, HOME, its ZenML config directory."""
    for directory in (config_dir, home):
        directory.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "ZENML_CONFIG_PATH": str(config_dir),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }


def local_env(workdir: Path) -> dict[str, str]:
    """A job's whole environment on ZenML's embedded local store in `workdir`."""
    workdir = Path(workdir)
    return _process_env(workdir / "zenml", workdir / "home")


def job_env(
    zenml: ZenMLServer, config_dir: Path, stack: str = "handoff", *, home: Path | None = None
) -> dict[str, str]:
    """The whole environment of a job subprocess: the contract's variables and PATH, nothing else.

    `config_dir` becomes ZENML_CONFIG_PATH (created if missing); HOME defaults to a directory
    inside it. No CA bundle variables (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, ...), no AWS_*, no
    ZENML_* from the test process leak in.
    """
    config_dir = Path(config_dir)
    home = Path(home) if home is not None else config_dir / "home"
    return {
        **_process_env(config_dir, home),
        "ZENML_STORE_URL": zenml.url,
        "ZENML_STORE_API_KEY": zenml.api_key,
        "HANDOFF_STACK": stack,
    }


def object_store_env(s3: S3Server, bucket: str) -> dict[str, str]:
    """The contract's object-store variables for `handoff stack bootstrap`, pointing at `s3`."""
    return {
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "HANDOFF_S3_PATH": f"s3://{bucket}",
        "HANDOFF_S3_ENDPOINT_URL": s3.endpoint_url,
        "HANDOFF_S3_REGION": s3.region,
    }
