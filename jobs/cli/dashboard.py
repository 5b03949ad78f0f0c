"""`handoff dashboard` and `handoff stop`: what a developer's machine keeps running in the
background, started once and stopped together.

The dashboard is ZenML's own: it ships with ZenML's server (`zenml[server]`), so this runs that
server (`uvicorn zenml.zen_server.zen_server_api:app`) on loopback over the SQLite database of
the local store `make run` used. The jobs wrote their HTML visualizations (the evaluation report,
the drift pictures) into that store's local artifact store; ZenML's server refuses to read a
local artifact store unless told it may (`ZENML_SERVER_ALLOW_LOCAL_FILE_ACCESS`), which is safe
here because it listens on 127.0.0.1 only.

The server outlives the command; its pid is recorded in `.handoff/dashboard.json`, which `handoff
stop` reads, with the local deployment target's state files (the endpoint `make run` left on
:8000), to stop every process and wait until each is gone.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from jobs.common.runtime.errors import PreconditionNotMet, Unavailable

HOST = "127.0.0.1"
START_TIMEOUT_S = 180.0
"""ZenML's server imports half the world on a cold start: ~20 s on a quiet machine."""


@dataclass(frozen=True)
class Dashboard:
    pid: int
    url: str


def local_store_database(config_path: Path) -> Path:
    """The SQLite file of the local ZenML store whose client config is in ``config_path``
    (ZENML_CONFIG_PATH): ZenML records it in that directory's config.yaml as ``store.url``."""
    config = config_path / "config.yaml"
    try:
        store = (yaml.safe_load(config.read_text()) or {}).get("store") or {}
    except OSError:
        store = {}
    url = str(store.get("url", ""))
    if not url.startswith("sqlite:///"):
        raise PreconditionNotMet(
            f"no local ZenML store in {config_path} (config.yaml has no sqlite store): "
            "run `make run` first; a ZenML server has a dashboard of its own"
        )
    database = Path(url.removeprefix("sqlite:///"))
    if not database.is_file():
        raise PreconditionNotMet(f"the local store's database {database} is missing: `make run`")
    return database


def running(state_dir: Path) -> Dashboard | None:
    """The dashboard recorded in ``state_dir`` if its process still runs."""
    from jobs.deployment.targets.local import is_running

    try:
        recorded = json.loads((state_dir / "dashboard.json").read_text())
    except (OSError, ValueError):
        return None
    found = Dashboard(int(recorded["pid"]), str(recorded["url"]))
    return found if is_running(found.pid) else None


def start(config_path: Path, state_dir: Path, port: int) -> Dashboard:
    """Start ZenML's server over the local store in ``config_path``, record it in ``state_dir``
    and return once its /health answers."""
    database = local_store_database(config_path)
    state_dir.mkdir(parents=True, exist_ok=True)
    server_config = state_dir / "zenml-server"
    server_config.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "ZENML_STORE_URL": f"sqlite:///{database}",
        # The server's own client config, never the jobs' (it writes nothing there).
        "ZENML_CONFIG_PATH": str(server_config),
        # Where the default stack's local artifact store keeps the jobs' artifacts.
        "ZENML_LOCAL_STORES_PATH": str(config_path / "local_stores"),
        "ZENML_SERVER": "true",
        "ZENML_SERVER_ALLOW_LOCAL_FILE_ACCESS": "true",
        # The local store's user `default` (no password) logs in; no onboarding form.
        "ZENML_SERVER_AUTO_ACTIVATE": "true",
        "ZENML_SERVER_JWT_SECRET_KEY": secrets.token_hex(32),  # sessions end with the server
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
    env.pop("ZENML_STORE_API_KEY", None)
    url = f"http://{HOST}:{port}"
    log_path = state_dir / "dashboard.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "zenml.zen_server.zen_server_api:app",
             "--host", HOST, "--port", str(port), "--timeout-graceful-shutdown", "5"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command, stopped as a group by `stop`
        )  # fmt: skip
    dashboard = Dashboard(process.pid, url)
    (state_dir / "dashboard.json").write_text(json.dumps({"pid": process.pid, "url": url}))
    _wait_healthy(dashboard, process, log_path)
    return dashboard


def _wait_healthy(dashboard: Dashboard, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(empty log)"]
            raise Unavailable(
                f"ZenML's server exited with code {process.returncode} before it answered at "
                f"{dashboard.url} (is the port taken?); last line of {log}: {tail[0]}"
            )
        try:
            with urllib.request.urlopen(dashboard.url + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    stop(dashboard.pid)
    raise Unavailable(f"ZenML's server did not answer at {dashboard.url} in {START_TIMEOUT_S}s")


def stop(pid: int) -> None:
    from jobs.deployment.targets.local import stop_process_group

    stop_process_group(pid)


def stop_all(state_dir: Path, serving_state_dir: Path) -> list[str]:
    """Stop the dashboard recorded in ``state_dir`` and every endpoint the local deployment
    target started from ``serving_state_dir``; wait until each is gone. What was stopped."""
    from jobs.deployment.targets.local import stop_every_endpoint

    stopped = [f"endpoint {endpoint}" for endpoint in stop_every_endpoint(serving_state_dir)]
    dashboard = running(state_dir)
    if dashboard is not None:
        stop(dashboard.pid)
        stopped.append(f"dashboard {dashboard.url}")
    (state_dir / "dashboard.json").unlink(missing_ok=True)
    return stopped
