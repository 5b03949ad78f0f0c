"""`handoff gc` against the real ZenML server and S3, each job its own process: the dry run
changes nothing; --apply keeps the newest partitions, leaves no file outside a registered
version and loses nothing that is kept; a batch inference scoring meanwhile ends registered; a
collector killed between a version's data and its record reruns to the same end."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.e2e.test_shards import land_s3, rows
from tests.harness import servers
from tests.harness.runner import REPO, JobRunner, ok, own_stack_runner

STACK = BUCKET = "handoff-gc"
"""The stack and the bucket of this module's own (tests.harness.runner.own_stack_runner)."""
DATASET = "gcset"
PREDICTIONS = f"{DATASET}_predictions"
DAYS = [f"2026-09-0{d}" for d in range(1, 7)]


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    """Jobs on a stack of this module's own (its bucket is all the collector sees)."""
    yield own_stack_runner(zenml_server, s3_server, tmp_path_factory.mktemp("gc"), STACK, DATASET)


def land(s3: servers.S3Server, day: str, copies: int) -> None:
    land_s3(s3, day, rows(copies), bucket=BUCKET)


def score(jobs: JobRunner, day: str, *extra: str) -> str:
    return ok(jobs.job("batch_inference", *flags(day), *extra))


def flags(day: str) -> list[str]:
    return [
        "--dataset",
        DATASET,
        "--input",
        f"s3://{BUCKET}/incoming/dt={{partition}}/",
        "--partition",
        day,
        "--id-columns",
        "[row_id]",
    ]


def gc(jobs: JobRunner, *args: str) -> str:
    return ok(jobs.handoff("gc", "--dataset", DATASET, *args))


def killpoint(jobs: JobRunner, point: str, job: str, *args: str) -> int:
    command = [sys.executable, "-m", "tests.faults.killpoint", point, job, *args]
    return jobs._run(command, PYTHONPATH=str(REPO)).returncode


def snapshot(jobs: JobRunner) -> tuple[list, list]:
    (found,) = jobs.probe("store_files")
    versions = sorted((v["version"], v["uri"]) for v in jobs.probe("artifacts", PREDICTIONS))
    return sorted((f["uri"], f["size"]) for f in found["files"]), versions


def partitions(jobs: JobRunner) -> list[str]:
    return sorted(v["metadata"]["partition"] for v in jobs.probe("artifacts", PREDICTIONS))


def assert_nothing_stray_and_everything_loads(jobs: JobRunner) -> None:
    (found,) = jobs.probe("store_files")
    registered = [u.rstrip("/") + "/" for u in found["registered"]]
    # ZenML's own run logs aside, and the inputs that share this bucket (never the collector's).
    other = tuple(found["root"].rstrip("/") + f"/{folder}/" for folder in ("logs", "incoming"))
    stray = [
        f["uri"]
        for f in found["files"]
        if not f["uri"].startswith(other) and not any(f["uri"].startswith(r) for r in registered)
    ]
    assert stray == [], "files outside every registered artifact version"
    broken = [v for v in jobs.probe("loads") if v["error"]]
    assert broken == [], "registered versions that no longer load"
    production = [
        v for v in jobs.probe("models", f"{DATASET}_classifier") if v["stage"] == "production"
    ]
    assert len(production) == 1


def test_a_dry_run_changes_nothing_and_apply_keeps_the_newest_partitions(
    remote: JobRunner, s3_server: servers.S3Server
):
    for day in DAYS:
        land(s3_server, day, copies=2)
        score(remote, day)
    # A seventh partition's attempt, SIGKILLed while writing its marker (its part and drift
    # state are whole in the bucket): a leftover no version references.
    land(s3_server, "2026-09-07", copies=2)
    killed = killpoint(
        remote, "mid-write:_shard-00000-of-00001.json", "batch_inference", *flags("2026-09-07")
    )
    assert killed == -9
    before = snapshot(remote)

    listed = gc(remote, "--keep-last", "2", "--orphan-age", "0m")
    for day in DAYS[:4]:
        assert f"would delete predictions {PREDICTIONS} version {day}_model_1" in listed
    assert "would delete leftover" in listed and "2026-09-07" in listed
    assert "rerun with --apply" in listed
    assert snapshot(remote) == before  # the dry run changed nothing: bytes and versions
    assert "incoming" not in listed  # the inputs share the bucket: never the collector's

    out = gc(remote, "--apply", "--keep-last", "2", "--orphan-age", "0m")
    assert "deleted 5 item(s) (4 predictions, 1 leftover)" in out, out
    assert partitions(remote) == DAYS[-2:]
    assert_nothing_stray_and_everything_loads(remote)
    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert "which removed 4 predictions, 1 leftover" in status


def test_gc_while_a_partition_is_scored_leaves_it_complete_and_registered(
    remote: JobRunner, s3_server: servers.S3Server
):
    land(s3_server, "2026-09-20", copies=400)  # 60 000 rows: scored for a while
    scoring = remote.start("batch_inference", *flags("2026-09-20"), "--batch-rows", "500")
    try:
        gc(remote, "--apply", "--keep-last", "1")
    finally:
        out, err = scoring.communicate()
    assert scoring.returncode == 0, err[-3000:]
    assert "predicted 60000 rows" in out
    (version,) = [
        v
        for v in remote.probe("artifacts", PREDICTIONS)
        if v["metadata"]["partition"] == "2026-09-20"
    ]
    assert version["metadata"]["rows"] == 60_000
    assert len(remote.probe("table", f"{PREDICTIONS}:{version['version']}")) == 60_000


def test_a_gc_killed_between_data_and_record_reruns_to_the_same_end(
    remote: JobRunner, s3_server: servers.S3Server
):
    for day in ("2026-09-21", "2026-09-22"):
        land(s3_server, day, copies=2)
        score(remote, day)
    newest = sorted(partitions(remote))[-1:]
    rules = ["--apply", "--keep-last", "1", "--orphan-age", "0m"]
    killed = killpoint(remote, "before-record-delete", "gc", "--dataset", DATASET, *rules)
    assert killed == -9
    gc(remote, *rules)  # the rerun
    assert partitions(remote) == newest
    assert_nothing_stray_and_everything_loads(remote)
    again = gc(remote, "--keep-last", "1", "--orphan-age", "0m")
    assert "dry run: 0 item(s)" in again
