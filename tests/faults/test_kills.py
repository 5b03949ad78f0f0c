"""SIGKILL at every step boundary of every job, while holding the promotion lock, and in the
middle of writing each job's largest artifact — on ZenML's local store, each job its own process
as in the cluster. After each kill: production has exactly one version, every artifact visible
by name loads, no lock is left, and the rerun succeeds at once. At the end, every run a killed job
left `running` has been marked failed with the reason."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs.common.store.leases import STALE_S
from tests.faults.conftest import Case, assert_nothing_half_done, state, unfinished
from tests.harness.runner import REPO, JobRunner, local_runner, ok, stop_local_serving
from tests.harness.servers import free_port

ARTIFACTS = [
    "iris_training_dataset",
    "iris_testing_dataset",
    "trained_model",
    "iris_predictions",
]
PIPELINES = ["feature_engineering", "training", "batch_inference", "deployment", "gc"]
# (job, kill point): each boundary before a step, after the last step, and the largest write.
POINTS = [
    ("feature_engineering", "before:build_datasets"),
    ("feature_engineering", "mid-write:part-00000.parquet"),  # iris_training_dataset's part
    ("feature_engineering", "after:build_datasets"),
    ("training", "before:train_model"),
    ("training", "mid-write:artifact.pkl"),  # the trained model
    ("training", "before:evaluate_model"),
    ("training", "before:promote_model"),
    ("training", "holding-lock"),
    ("training", "after:promote_model"),
    # gc before batch inference's kills: its --keep-last 1 would delete the partitions those
    # killed runs produced, and their runs with them, which the last case judges.
    ("gc", "before:collect_garbage"),
    ("gc", "before-record-delete"),  # a version's data and run deleted, its record not yet
    ("gc", "after:collect_garbage"),
    ("batch_inference", "before:commit_predictions"),
    ("batch_inference", "mid-write:part-00000.parquet"),  # the predictions, streamed
    ("batch_inference", "after:commit_predictions"),
    ("deployment", "before:deploy_model"),
    ("deployment", "after:deploy_model"),
]
KILLED: list[tuple[str, str]] = []  # (pipeline, run name)
LAST_KILL = {"at": 0.0}
PORT: dict[str, int] = {}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobRunner]:
    workdir = tmp_path_factory.mktemp("kills")
    store = local_runner(workdir)
    PORT["serving"] = free_port()
    for job in ("feature_engineering", "training", "batch_inference"):
        ok(store.job(job))
    ok(store.job("deployment", *deploy_flags(store)))
    yield store
    stop_local_serving(workdir / ".handoff" / "serving")


def deploy_flags(store: JobRunner) -> list[str]:
    return ["--port", str(PORT["serving"])]


def new_rows(store: JobRunner, tag: str) -> str:
    """A table batch inference has not scored yet (scored rows would be "nothing to do")."""
    rows = 20 + len(KILLED)
    table = Path(store.workdir) / f"rows-{rows}-{tag}.csv"
    lines = ["sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm"]
    lines += [f"{5 + i / 100:.2f},3.0,{1 + i / 50:.2f},0.2" for i in range(rows)]
    table.write_text("\n".join(lines) + "\n")
    return str(table)


def flags(store: JobRunner, job: str, point: str) -> list[str]:
    if job == "batch_inference":
        return ["--input", new_rows(store, "killed")]
    if job == "gc":  # give it work: a partition older than the newest one
        ok(store.job("batch_inference", "--input", new_rows(store, "for-gc")))
        # Partitions and leftovers only: model versions (and the training runs the battery
        # killed, which the last case judges) are kept.
        return ["--apply", "--keep-last", "1", "--keep-archived", "1000", "--orphan-age", "0m"]
    if job == "deployment":  # give it work: serve a version other than the one it serves
        versions = sorted(store.stages())
        current = store.production()
        other = next(v for v in reversed(versions) if v != current)
        ok(store.handoff("promote", "iris_classifier", str(other), "--reason", "fault battery"))
        return deploy_flags(store)
    return []


@pytest.mark.parametrize(("job", "point"), POINTS, ids=[f"{j}-{p}" for j, p in POINTS])
def test_sigkill_loses_nothing_and_the_rerun_succeeds_at_once(
    store: JobRunner, case: Case, job: str, point: str
):
    case.fault = f"SIGKILL {job.replace('_', '-')} at {point}"
    args = flags(store, job, point)
    killed = store._run(
        [sys.executable, "-m", "tests.faults.killpoint", point, job, *args], PYTHONPATH=str(REPO)
    )
    LAST_KILL["at"] = time.monotonic()
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert f"KILLPOINT {point}" in killed.stderr
    seen = state(store, ARTIFACTS, PIPELINES)
    if point == "before-record-delete":
        # Data first, record last: the version being deleted has lost its data, not yet its
        # record (its run is gone too). Nothing kept is touched; the rerun removes the record.
        dangling = [v["version"] for v in seen["artifacts"]["iris_predictions"] if v["error"]]
        assert len(dangling) == 1, dangling
        case.saw(f"killed with {dangling[0]}'s data deleted and its record not yet")
        seen["artifacts"]["iris_predictions"] = [
            v for v in seen["artifacts"]["iris_predictions"] if not v["error"]
        ]
    assert_nothing_half_done(seen)
    run = seen["runs"][job][0]
    KILLED.append((job, run["name"]))
    case.saw(f"killed; right after: production {seen['production']}, run {run['status']}")

    started = time.monotonic()
    ok(store.job(job, *args))
    seconds = time.monotonic() - started
    after = state(store, ARTIFACTS, PIPELINES)
    assert_nothing_half_done(after)
    assert not after["locks"], f"promotion lock left behind: {after['locks']}"
    status = next(r for r in after["runs"][job] if r["name"] == run["name"])
    case.saw(
        f"rerun exit 0 in {seconds:.0f}s; production {after['production']}; "
        f"killed run now {status['status']}"
    )
    case.nothing_lost()


def test_runs_killed_jobs_left_running_are_marked_failed_with_the_reason(
    store: JobRunner, case: Case
):
    case.fault = f"runs left `running` by the {len(KILLED)} killed jobs"
    if not KILLED:
        pytest.skip("run with the kill cases: it judges the runs they left")
    # A dead job's lease is judged expired at first sight once STALE_S old on the server clock.
    time.sleep(max(0.0, LAST_KILL["at"] + STALE_S + 2 - time.monotonic()))
    status = ok(store.handoff("status"))
    seen = state(store, ARTIFACTS, PIPELINES)
    assert not unfinished(seen), f"still running: {unfinished(seen)}"
    runs = {(p, r["name"]): r for p, rs in seen["runs"].items() for r in rs}
    reasons = [runs[key]["reason"] or "" for key in KILLED if runs[key]["status"] == "failed"]
    finished = [key for key in KILLED if runs[key]["status"] == "completed"]
    assert all(
        "stopped renewing its lease" in r or "ended without finishing" in r for r in reasons
    ), reasons
    assert len(reasons) + len(finished) == len(KILLED)
    by_status = "by `handoff status`" if "now marked failed" in status else "by the next job"
    case.saw(
        f"{len(reasons)} marked failed with the reason (lease expired) {by_status} or by the "
        f"next job; {len(finished)} had completed before the kill (killed after the last step)"
    )
    case.nothing_lost()
