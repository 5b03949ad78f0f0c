"""Serving under load and abuse, over real HTTP on loopback: concurrent clients while the served
version switches blue/green behind the router (what the docker target does, with processes in
place of containers), schemathesis against the service's own OpenAPI, and oversized or deeply
nested requests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import Case
from tests.harness.runner import JobRunner, local_runner, ok
from tests.harness.servers import free_port

CLIENTS = 8
LOAD_S = 24.0
ROW = {"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> JobRunner:
    """Two model versions to switch between."""
    workdir = tmp_path_factory.mktemp("serving-faults")
    store = local_runner(workdir)
    ok(store.job("feature_engineering"))
    ok(store.job("training"))
    ok(store.job("training", "--classifier", "decision_tree", "--threshold", "0.5"))
    return store


@contextlib.contextmanager
def process(store: JobRunner, args: list[str], name: str) -> Iterator[subprocess.Popen[bytes]]:
    log = (store.workdir / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], env=store.env, cwd=store.workdir, stdout=log,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        yield proc
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


def serving(store: JobRunner, port: int, version: str) -> contextlib.AbstractContextManager:
    args = ["jobs.serving", "--host", "127.0.0.1", "--port", str(port), "--model-version", version]
    return process(store, args, f"serving-{port}")


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        assert proc.poll() is None, f"{url} exited {proc.returncode}"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"{url} never became ready")


def test_no_request_fails_while_the_served_version_switches_under_load(
    store: JobRunner, case: Case
):
    case.fault = f"{CLIENTS} clients for {LOAD_S:.0f}s while blue/green switches versions twice"
    router_port, blue, green = free_port(), free_port(), free_port()
    url = f"http://127.0.0.1:{router_port}"
    latencies: list[float] = []
    failures: list[str] = []
    versions: set[str] = set()
    stop_load = threading.Event()

    def client() -> None:
        with httpx.Client(trust_env=False, timeout=10) as http:
            while not stop_load.is_set():
                started = time.perf_counter()
                try:
                    answer = http.post(f"{url}/predict", json={"records": [ROW]})
                    if answer.status_code != 200:
                        failures.append(f"HTTP {answer.status_code}: {answer.text[:100]}")
                    else:
                        versions.add(answer.json()["version"])
                except httpx.HTTPError as err:
                    failures.append(f"{type(err).__name__}: {err}")
                latencies.append(time.perf_counter() - started)

    router = ["jobs.deployment.targets.router", "--listen", f"127.0.0.1:{router_port}"]
    router += ["--upstream", f"127.0.0.1:{blue}", "--upstream", f"127.0.0.1:{green}"]
    with process(store, router, "router") as routing, serving(store, blue, "1") as first:
        wait_ready(f"http://127.0.0.1:{blue}", first)
        wait_ready(url, routing)  # the router answers once it forwards to blue
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        try:
            time.sleep(LOAD_S / 4)
            with serving(store, green, "2") as second:  # up, ready, then the old one goes
                wait_ready(f"http://127.0.0.1:{green}", second)
                stop(first)
                time.sleep(LOAD_S / 4)
                with serving(store, blue, "1") as third:  # and back again
                    wait_ready(f"http://127.0.0.1:{blue}", third)
                    stop(second)
                    time.sleep(max(0.0, LOAD_S - (time.monotonic() - started)))
                    stop_load.set()
                    for thread in threads:
                        thread.join(timeout=30)
        finally:
            stop_load.set()
    assert latencies and not failures, f"{len(failures)} failed: {failures[:5]}"
    assert versions == {"1", "2"}, versions
    cuts = statistics.quantiles(latencies, n=100)
    case.saw(
        f"{len(latencies)} requests, 0 failed, versions 1→2→1 served; "
        f"p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms"
    )
    case.nothing_lost()


def test_schemathesis_finds_no_500_and_no_crash(store: JobRunner, case: Case, tmp_path: Path):
    case.fault = "schemathesis against the service's own OpenAPI"
    st = os.environ.get("HANDOFF_SCHEMATHESIS") or shutil.which("st")
    if not st:
        pytest.skip(
            "schemathesis not found: `uv tool install schemathesis` or HANDOFF_SCHEMATHESIS"
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(store, port, "1") as proc:
        wait_ready(url, proc)
        result = subprocess.run(
            [st, "run", f"{url}/openapi.json", "--checks", "not_a_server_error",
             "--max-examples", "60", "--no-color", "--report", "junit",
             "--report-dir", str(tmp_path)],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
        )  # fmt: skip
        assert proc.poll() is None, "the service crashed"
        alive = httpx.get(f"{url}/readyz", timeout=5, trust_env=False).status_code
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert alive == 200
    summary = [ln for ln in result.stdout.splitlines() if "passed" in ln or "cases" in ln.lower()]
    case.saw(f"no server error; service alive after ({(summary or ['done'])[-1].strip()[:100]})")
    case.nothing_lost()


def test_oversized_and_deeply_nested_requests_are_refused_cleanly(store: JobRunner, case: Case):
    case.fault = "100 000 records; JSON nested 100 000 deep"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving(store, port, "1") as proc:
        wait_ready(url, proc)
        big = json.dumps({"records": [ROW] * 100_000})
        deep = '{"records": [' + "[" * 100_000 + "]" * 100_000 + "]}"
        headers = {"content-type": "application/json"}
        answers = [
            httpx.post(f"{url}/predict", content=body, headers=headers, timeout=30, trust_env=False)
            for body in (big, deep)
        ]
        normal = httpx.post(f"{url}/predict", json={"records": [ROW]}, timeout=10, trust_env=False)
        assert proc.poll() is None
    assert [a.status_code for a in answers] == [413, 413], [a.text for a in answers]
    assert normal.status_code == 200
    case.saw(
        f"413 '{answers[0].json()['detail']}' ({len(big) // 1024} KiB); "
        f"413 '{answers[1].json()['detail']}'; the next request answered 200"
    )
    case.nothing_lost()
