"""Event chaining in a cluster: the Jobs made from the rendered CronJobs are valid, keep the pod
contract and carry the pinned version; and the official client's real requests, sent to a
local HTTP server that answers as the API server does (201, then 409 AlreadyExists), create
one Job per upstream version with exactly the permissions the Role grants."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from jobs.common import chaining
from jobs.common.chaining import KubernetesLauncher, Outcome, Start, Upstream
from jobs.common.chaining import kubernetes as chaining_kubernetes

from .manifests import CHAINING_JOBS, JOBS, NAMESPACE, find, overlays, render
from .test_render import supported_versions
from .test_workloads import _restricted_problems

PINS = {
    "training": {"train_version": "raw_2023", "test_version": "raw_2023"},
    "batch-inference": {"model_version": "7"},
    "deployment": {"model_version": "7"},
    "stack-bootstrap": {},
    "feature-engineering": {},
    "gc": {},  # never chained; `kubectl create job --from` makes the same Job
    "monitoring": {},  # never chained either
}
UPSTREAM = Upstream("training", "7", str(uuid.UUID(int=7)))


def ignore(upstream: Upstream, outcomes: Any) -> None:
    """start_next's ``record``, without a ZenML store (tests/unit/common/test_chaining.py
    checks what is recorded)."""


def cronjobs(overlay: str) -> list[dict[str, Any]]:
    found = []
    for obj in render(overlay):
        if obj["kind"] == "CronJob":
            obj["metadata"]["uid"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, obj["metadata"]["name"]))
            found.append(obj)
    return found


def start_for(cronjob: dict[str, Any]) -> Start:
    job = cronjob["metadata"]["name"].removeprefix(chaining.CRONJOB_PREFIX)
    return Start(job, UPSTREAM, PINS[job])


@pytest.mark.parametrize("version", supported_versions())
@pytest.mark.parametrize("overlay", overlays())
def test_the_job_made_from_every_cronjob_validates_strictly(overlay: str, version: str) -> None:
    problems = []
    for cronjob in cronjobs(overlay):
        job = chaining.job_from_cronjob(cronjob, start_for(cronjob))
        try:
            kubernetes_validate.validate(job, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            problems.append(f"{job['metadata']['name']}: {list(err.path)}: {err.message}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", overlays())
def test_the_job_keeps_the_pod_contract_and_gets_the_pins(overlay: str) -> None:
    for cronjob in cronjobs(overlay):
        start = start_for(cronjob)
        job = chaining.job_from_cronjob(cronjob, start)
        where = job["metadata"]["name"]
        assert len(where) <= 63 and job["metadata"]["namespace"] == NAMESPACE
        expected = copy.deepcopy(cronjob["spec"]["jobTemplate"]["spec"])
        [container] = expected["template"]["spec"]["containers"]
        container["args"] = [*container["args"], *start.args]
        # Everything the CronJob's jobTemplate says (pod hardening, env, retries, exit-code
        # policy, deadlines, service account), plus only the pins.
        assert job["spec"] == expected, where
        assert not _restricted_problems(where, job["spec"]["template"]["spec"])
        [owner] = job["metadata"]["ownerReferences"]
        assert owner["name"] == cronjob["metadata"]["name"] and not owner.get("controller")
        assert job["metadata"]["labels"]["handoff.dev/upstream-run"] == UPSTREAM.run


def test_the_pinned_version_reaches_the_downstream_jobs_arguments() -> None:
    objects = cronjobs("dev")
    for upstream, downstream in CHAINING_JOBS.items():
        for job in downstream:
            dashed = job.replace("_", "-")
            cronjob = find(objects, "CronJob", JOBS[job])
            made = chaining.job_from_cronjob(cronjob, Start(dashed, UPSTREAM, PINS[dashed]))
            [container] = made["spec"]["template"]["spec"]["containers"]
            assert container["args"][:2] == ["--config", f"/etc/handoff/{job}.yaml"]
            flags = dict(zip(container["args"][2::2], container["args"][3::2], strict=True))
            assert flags == {"--" + k.replace("_", "-"): v for k, v in PINS[dashed].items()}
            # and the job's own settings know those flags
            settings = __import__(f"jobs.{job}.settings", fromlist=["Settings"]).Settings
            assert set(PINS[dashed]) <= set(settings.model_fields), (upstream, job)


def test_the_chaining_jobs_are_configured_with_their_downstream_jobs() -> None:
    objects = render("dev")
    config = yaml.safe_load
    data = next(o for o in objects if o["metadata"]["name"].startswith("handoff-config"))["data"]
    for upstream, downstream in CHAINING_JOBS.items():
        dashed = [job.replace("_", "-") for job in downstream]
        assert config(data[f"{upstream}.yaml"])["downstream"] == ",".join(dashed)
    # The schedules stay, as the fallback.
    for job in JOBS.values():
        if job != JOBS["serving"]:
            assert len(find(objects, "CronJob", job)["spec"]["schedule"].split()) == 5


# --- The official client's real requests ---------------------------------------------------------


class FakeApiServer:
    """Answers GET of the CronJobs it holds and POST of Jobs (201, or 409 AlreadyExists for a
    name it has) and Events, and records every request's method, path and JSON body. With
    ``hang`` set it answers nothing until ``release`` is set (a blackholed connection)."""

    def __init__(self, cronjobs: list[dict[str, Any]]) -> None:
        self.cronjobs = {c["metadata"]["name"]: c for c in cronjobs}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, Any]] = []
        self.hang = False
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(("GET", self.path, None))
                if server.hang:
                    server.release.wait(60)
                    return
                prefix = f"/apis/batch/v1/namespaces/{NAMESPACE}/cronjobs/"
                name = self.path.removeprefix(prefix)
                if self.path.startswith(prefix) and name in server.cronjobs:
                    self.answer(200, server.cronjobs[name])
                else:
                    self.answer(404, status(404, "NotFound", f"{self.path} not found"))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(("POST", self.path, body))
                if self.path == f"/api/v1/namespaces/{NAMESPACE}/events":
                    server.events.append(body)
                    self.answer(201, body)
                    return
                if self.path != f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs":
                    self.answer(404, status(404, "NotFound", self.path))
                    return
                name = body["metadata"]["name"]
                if name in server.jobs:
                    message = f'jobs.batch "{name}" already exists'
                    self.answer(409, status(409, "AlreadyExists", message))
                    return
                server.jobs[name] = body
                self.answer(201, {**body, "status": {}})

            def answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    server = FakeApiServer(cronjobs("dev"))
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join()


@pytest.fixture
def kubeconfig(api_server: FakeApiServer, tmp_path: Path, monkeypatch) -> Path:
    """A kubeconfig for the local server, as `kind` writes one, with namespace handoff."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "local", "cluster": {"server": api_server.url}}],
                "users": [{"name": "jobs", "user": {"token": "not-a-real-token"}}],
                "contexts": [
                    {
                        "name": "local",
                        "context": {"cluster": "local", "user": "jobs", "namespace": NAMESPACE},
                    }
                ],
                "current-context": "local",
            }
        )
    )
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return path


def test_the_same_upstream_version_twice_creates_one_job(
    api_server: FakeApiServer, kubeconfig: Path, monkeypatch
) -> None:
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    first = chaining.after_training(
        ["batch-inference", "deployment"], UPSTREAM.run, "7", "production", record=ignore
    )
    again = chaining.after_training(
        ["batch-inference", "deployment"], UPSTREAM.run, "7", "production", record=ignore
    )
    assert all(line.startswith("started ") for line in first), first
    assert all(line.startswith("already started ") for line in again), again
    assert sorted(api_server.jobs) == sorted(
        chaining.start_name(job, Upstream("training", "7", UPSTREAM.run))
        for job in ("batch-inference", "deployment")
    )
    assert_the_role_allows(api_server)


def assert_the_role_allows(api_server: FakeApiServer) -> None:
    """Nothing but what the Role handoff-chainer allows: get those CronJobs, create Jobs and
    Events."""
    role = find(render("dev"), "Role", "handoff-chainer")["rules"]
    readable = {
        name for rule in role if "get" in rule["verbs"] for name in rule.get("resourceNames", [])
    }
    creatable = {
        (group, resource)
        for rule in role
        if "create" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    paths = {
        ("batch", "jobs"): f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs",
        ("", "events"): f"/api/v1/namespaces/{NAMESPACE}/events",
    }
    for method, path, _body in api_server.requests:
        if method == "GET":
            assert path.rsplit("/", 1)[1] in readable, path
        else:
            assert method == "POST" and path in {paths[c] for c in creatable}, (method, path)


@pytest.mark.parametrize("version", supported_versions())
def test_the_request_body_the_client_sends_is_a_valid_job(
    api_server: FakeApiServer, kubeconfig: Path, version: str
) -> None:
    launcher = KubernetesLauncher.from_environment()
    assert launcher.namespace == NAMESPACE
    upstream = Upstream("feature-engineering", "raw_2023", str(uuid.UUID(int=1)))
    assert launcher.start(Start("training", upstream, PINS["training"])) is Outcome.STARTED
    [(_, _, body)] = [r for r in api_server.requests if r[0] == "POST"]
    kubernetes_validate.validate(body, version, strict=True)
    [container] = body["spec"]["template"]["spec"]["containers"]
    assert container["args"][-4:] == ["--train-version", "raw_2023", "--test-version", "raw_2023"]
    assert body["metadata"]["annotations"]["handoff.dev/upstream-version"] == "raw_2023"
    assert body["spec"]["template"]["spec"]["serviceAccountName"] == "handoff-chainer"


def test_nothing_starts_after_a_non_promotion(
    api_server: FakeApiServer, kubeconfig: Path, monkeypatch
) -> None:
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    assert (
        chaining.after_training(["batch-inference"], UPSTREAM.run, "8", "staging", record=ignore)
        == []
    )
    assert api_server.requests == []


def test_a_missing_cronjob_is_reported_and_the_others_still_start(
    api_server: FakeApiServer, kubeconfig: Path, monkeypatch
) -> None:
    del api_server.cronjobs[JOBS["batch_inference"]]
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    lines = chaining.after_training(
        ["batch-inference", "deployment"], UPSTREAM.run, "9", "production", record=ignore
    )
    assert lines[0].startswith("failed: could not start batch-inference") and "404" in lines[0]
    assert lines[1].startswith("started deployment")
    assert [
        body["metadata"]["labels"]["app.kubernetes.io/name"] for body in api_server.jobs.values()
    ] == [JOBS["deployment"]]


def test_a_suspended_cronjob_gets_no_chained_job_and_an_event_says_so(
    api_server: FakeApiServer, kubeconfig: Path, monkeypatch
) -> None:
    """Suspending the downstream CronJob is the kill switch for chained starts too."""
    api_server.cronjobs[JOBS["batch_inference"]]["spec"]["suspend"] = True
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    monkeypatch.setenv("HANDOFF_CHAIN_JOB", "handoff-training-29000000")
    monkeypatch.setenv("HANDOFF_CHAIN_JOB_UID", str(uuid.UUID(int=3)))
    lines = chaining.after_training(
        ["batch-inference", "deployment"], UPSTREAM.run, "7", "production", record=ignore
    )
    assert lines[0].startswith("suspended: not starting batch-inference")
    assert lines[1].startswith("started deployment")
    assert [
        j["metadata"]["labels"]["app.kubernetes.io/name"] for j in api_server.jobs.values()
    ] == [JOBS["deployment"]]
    [event] = api_server.events
    assert event["reason"] == "ChainingSuspended" and event["type"] == "Normal"
    assert event["involvedObject"] == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": "handoff-training-29000000",
        "namespace": NAMESPACE,
        "uid": str(uuid.UUID(int=3)),
    }
    assert_the_role_allows(api_server)


@pytest.mark.parametrize("version", supported_versions())
def test_a_failed_start_is_a_valid_warning_event_on_the_upstreams_job(
    api_server: FakeApiServer, kubeconfig: Path, monkeypatch, version: str
) -> None:
    del api_server.cronjobs[JOBS["deployment"]]
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    monkeypatch.setenv("HANDOFF_CHAIN_JOB", "handoff-training-29000000")
    [line] = chaining.after_training(["deployment"], UPSTREAM.run, "7", "production", record=ignore)
    [event] = api_server.events
    kubernetes_validate.validate(event, version, strict=True)
    assert event["type"] == "Warning" and event["reason"] == "ChainingFailed"
    assert (
        event["message"] == line and event["involvedObject"]["name"] == "handoff-training-29000000"
    )
    assert_the_role_allows(api_server)


def test_a_blackholed_api_server_fails_the_start_not_the_upstream(
    api_server: FakeApiServer, kubeconfig: Path, monkeypatch
) -> None:
    """Every call carries a timeout: the promotion's job ends with its starts failed."""
    monkeypatch.setattr(chaining_kubernetes, "REQUEST_TIMEOUT", (1, 1))
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    api_server.hang = True
    outcome: list[list[str]] = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            chaining.after_training(
                ["batch-inference", "deployment"], UPSTREAM.run, "7", "production", record=ignore
            )
        ),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "a chaining call waited on a blackholed API server"
    [lines] = outcome
    assert all(line.startswith("failed: could not start") for line in lines), lines
