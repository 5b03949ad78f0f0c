"""Faults in what the jobs depend on, against a real ZenML server and a real S3 server (moto) on
loopback: the ZenML server SIGKILLed and restarted in the middle of a run, the S3 server stopped
(SIGKILL) while a job writes an artifact. Each: the job ends (0, or 1 with one line naming what
failed), nothing half-done is visible by name, and the rerun completes.

Not covered, and not bounded today: an S3 server that accepts connections and never answers
(frozen) hangs the write inside s3fs/aiobotocore for as long as it stays frozen; the Job's
activeDeadlineSeconds is what bounds it in the cluster."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jobs.common.store.leases import EXPIRY_S
from tests.faults.conftest import Case, assert_nothing_half_done, state
from tests.harness import servers
from tests.harness.runner import REPO, JobRunner, bootstrap_stack, ok, server_runner

BUCKET = "handoff-faults"
ARTIFACTS = ["iris_training_dataset", "iris_testing_dataset", "trained_model"]
PIPELINES = ["feature_engineering", "training"]


@pytest.fixture(scope="module")
def remote(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[JobRunner, servers.ZenMLServer, servers.S3Server]]:
    """A server pair of this module's own: the tests stop them, which must not touch others."""
    with (
        servers.zenml_server(tmp_path_factory.mktemp("zenml-restart")) as zenml,
        servers.s3_server(tmp_path_factory.mktemp("s3-freeze")) as s3,
    ):
        workdir = tmp_path_factory.mktemp("dependencies")
        store = server_runner(zenml, workdir)
        bootstrap_stack(store, s3, BUCKET, HANDOFF_CREATE_BUCKET="true")
        ok(store.job("feature_engineering"))
        ok(store.job("training"))
        yield store, zenml, s3


def start_paused(
    store: JobRunner, point: str, job: str, pause_s: float, *args: str
) -> tuple[subprocess.Popen[str], threading.Event, list[str]]:
    """Start a job (with its flags `args`) that pauses at `point`; the event is set when it
    got there."""
    env = {**store.env, "PYTHONPATH": str(REPO), "KILLPOINT_PAUSE_S": str(pause_s)}
    env["ZENML_CONFIG_PATH"] = str(store.workdir / f"config-{job}-{time.monotonic_ns()}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.killpoint", point, job, *args],
        env=env, cwd=store.workdir, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    there, lines = threading.Event(), []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith(f"KILLPOINT {point}"):
                there.set()

    threading.Thread(target=read, daemon=True).start()
    return proc, there, lines


def finish(proc: subprocess.Popen[str], lines: list[str]) -> tuple[int, str, float]:
    started = time.monotonic()
    proc.wait(timeout=900)
    time.sleep(0.2)  # the reader thread drains the pipe
    return proc.returncode, "".join(lines), time.monotonic() - started


def last_line(stderr: str) -> str:
    return [line for line in stderr.strip().splitlines() if line.strip()][-1]


def test_zenml_server_killed_and_restarted_mid_run(remote, case: Case):
    store, zenml, _ = remote
    case.fault = "ZenML server SIGKILLed before training's evaluate step, restarted"
    assert zenml.control is not None
    proc, there, lines = start_paused(store, "pause-before:evaluate_model", "training", 5)
    assert there.wait(timeout=600), "".join(lines)[-2000:]
    down = time.monotonic()
    zenml.control.kill()
    time.sleep(3)
    up_after = zenml.control.start() + 3
    code, stderr, _ = finish(proc, lines)
    total = time.monotonic() - down
    if code == 0:
        case.saw(f"server down {up_after:.0f}s; the job's retries outlasted it: exit 0")
    else:
        assert code == 1, stderr[-2000:]
        line = last_line(stderr)
        assert line.startswith("training: ") and len(line) < 400, line
        case.saw(f"server down {up_after:.0f}s; exit 1 {total:.0f}s after the kill: {line[:120]}")
    ok(store.job("training"))
    seen = state(store, ARTIFACTS, PIPELINES)
    assert_nothing_half_done(seen)
    assert not seen["locks"]
    case.saw(f"rerun exit 0; production {seen['production']}")
    case.nothing_lost()


def test_a_live_slow_holder_keeps_the_lock_and_a_killed_one_frees_it(remote, case: Case):
    store, _, _ = remote
    case.fault = "promotion lock: held 3x its expiry by a live job; then its holder SIGKILLed"
    env = {**store.env, "PYTHONPATH": str(REPO)}
    env["ZENML_CONFIG_PATH"] = str(store.workdir / "config-holder")
    hold = [sys.executable, "-m", "tests.faults.hold_lock", "iris_classifier"]
    slow = subprocess.Popen(
        [*hold, str(EXPIRY_S * 3), "60"], env=env, cwd=store.workdir,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert slow.stdout is not None and held(slow.stdout)
        waiter = store._run([*hold, "0", str(EXPIRY_S * 2)], PYTHONPATH=str(REPO))
        assert waiter.returncode == 1, waiter.stdout + waiter.stderr
        assert "has held the promotion lock of iris_classifier" in waiter.stderr
        assert "is still alive" in waiter.stderr
        out, err = slow.communicate(timeout=600)
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()
    assert slow.returncode == 0 and "RELEASED" in out, err[-2000:]
    case.saw(f"a waiter gave up after {EXPIRY_S * 2:.0f}s naming the live holder; never broken")

    dead = subprocess.Popen(
        [*hold, "600", "60"], env=env, cwd=store.workdir,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert dead.stdout is not None and held(dead.stdout)
    dead.kill()
    dead.wait()
    started = time.monotonic()
    ok(store._run([*hold, "0", "300"], PYTHONPATH=str(REPO)))
    freed = time.monotonic() - started
    assert freed < EXPIRY_S * 3 + 30, freed  # not the quarter of an hour of the old lock
    case.saw(f"SIGKILLed holder: the next one got the lock {freed:.0f}s later")
    case.nothing_lost()


def test_the_scheduled_fallback_leaves_a_chained_training_at_work_alone(remote, case: Case):
    """Issue 21, item 6: training's 03:00 schedule fires while the chained start still trains."""
    store, _, _ = remote
    case.fault = "training's schedule fires while a chained (pinned) training is still at work"
    versions = store.stages()
    pinned = ["--train-version", "1", "--test-version", "1"]
    proc, there, lines = start_paused(store, "pause-before:evaluate_model", "training", 30, *pinned)
    try:
        assert there.wait(timeout=600), "".join(lines)[-2000:]
        out = ok(store.job("training", "--skip-if-trained", "true"))
        assert "is still at work (its job renews its lease)" in out, out
    finally:
        code, stderr, _ = finish(proc, lines)
    assert code == 0, stderr[-2000:]
    case.saw("the schedule's run said the chained run is at work and did nothing: exit 0")
    after = store.stages()
    assert len(after) == len(versions) + 1, (versions, after)  # the chained run's only
    case.saw(f"one new version ({max(after)}, {after[max(after)]}) for the night")
    case.nothing_lost()


def test_racing_promotions_end_with_exactly_one_production_version(remote, case: Case):
    store, _, _ = remote
    case.fault = "three `handoff promote` of different versions at once"
    ok(store.job("training", "--classifier", "decision_tree", "--threshold", "0.5"))
    versions = sorted(store.stages())[-3:]
    env = {**store.env}
    racers = []
    for number in versions:
        env["ZENML_CONFIG_PATH"] = str(store.workdir / f"config-promote-{number}")
        racers.append(
            subprocess.Popen(
                [sys.executable, "-m", "jobs.cli", "promote", "iris_classifier", str(number)],
                env=dict(env),
                cwd=store.workdir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    results = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in racers]
    assert all(code == 0 for code, _ in results), results
    seen = state(store, ARTIFACTS, PIPELINES)
    assert_nothing_half_done(seen)
    assert seen["production"][0] in versions and not seen["locks"]
    case.saw(f"all three exit 0; production {seen['production']} (exactly one)")
    case.nothing_lost()


def test_s3_server_stopped_during_an_artifact_write(remote, case: Case):
    """The S3 server is SIGKILLed as feature engineering writes a dataset. Last in the module:
    moto keeps its objects in memory, so the restarted server is empty (the bucket is created
    again, and only what the faulted run did is judged)."""
    store, _, s3 = remote
    case.fault = "S3 server SIGKILLed as feature engineering writes a dataset, then restarted"
    assert s3.control is not None
    before = {v["version"] for v in dataset_versions(store)}
    point = "pause-write:part-00000.parquet"
    proc, there, lines = start_paused(store, point, "feature_engineering", 1)
    assert there.wait(timeout=600), "".join(lines)[-2000:]
    s3.control.kill()
    try:
        code, stderr, seconds = finish(proc, lines)
    finally:
        s3.control.start()
        servers.create_bucket(s3, BUCKET)
    assert code == 1, stderr[-2000:]
    line = last_line(stderr)
    assert line.startswith("feature_engineering: ") and len(line) < 400, line
    case.saw(f"exit 1 {seconds:.0f}s after the stop: {line[:120]}")
    assert {v["version"] for v in dataset_versions(store)} == before, "a version was registered"
    ok(store.job("feature_engineering"))
    published = dataset_versions(store)
    newest = [v for v in published if v["version"] not in before]
    assert len(newest) == 1 and newest[0]["error"] is None, newest
    case.saw("no dataset version registered by the failed run; rerun exit 0 and its version loads")
    case.nothing_lost()


def dataset_versions(store: JobRunner) -> list[dict]:
    return state(store, ["iris_training_dataset"], PIPELINES)["artifacts"]["iris_training_dataset"]


def held(stdout: Any) -> bool:
    """True once the holder printed HELD (ZenML may print its own lines first)."""
    return any(line.strip() == "HELD" for line in stdout)
