"""After a partition is scored: late data and missed nights, each job its own process on a real
ZenML server and S3 store. A file landing in a scored partition makes the next run score it
again as a new revision (by one pod or N); a scheduled run before its partition lands exits 0
and says so, and the next scheduled run scores the missed partition and its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.e2e.test_shards import parquet_files
from tests.harness import servers
from tests.harness.runner import JobRunner, ok, trained_runner

BUCKET = "handoff-artifacts"
DATASET = "late"
PREDICTIONS = f"{DATASET}_predictions"


def rows(day: str, first: int, count: int) -> pd.DataFrame:
    from jobs.common.data.iris import features

    table = pd.concat([features()] * -(-count // 150), ignore_index=True).iloc[:count].copy()
    table.insert(0, "row_id", [f"{day}/{n}" for n in range(first, first + count)])
    return table


def land(s3: servers.S3Server, prefix: str, day: str, name: str, table: pd.DataFrame) -> None:
    (body,) = parquet_files(table, files=1, row_group=100)
    s3.client().put_object(Bucket=BUCKET, Key=f"{prefix}/dt={day}/{name}.parquet", Body=body)


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    yield trained_runner(zenml_server, s3_server, tmp_path_factory.mktemp("late"), BUCKET, DATASET)


def flags(prefix: str, *extra: str) -> list[str]:
    input_ = f"s3://{BUCKET}/{prefix}/dt={{partition}}/"
    return ["--dataset", DATASET, "--input", input_, "--id-columns", "[row_id]", *extra]


def predictions(jobs: JobRunner, day: str) -> dict[str, dict]:
    return {
        v["version"]: v for v in jobs.probe("artifacts", PREDICTIONS) if v["version"][:10] == day
    }


def table(jobs: JobRunner, version: str) -> pd.DataFrame:
    return pd.DataFrame(jobs.probe("table", f"{PREDICTIONS}:{version}"))


def scheduled_job(at: datetime) -> str:
    """The name the CronJob controller gives the Job it creates for ``at``."""
    return f"handoff-batch-inference-{int(at.timestamp()) // 60}"


@pytest.mark.server
def test_a_file_landing_in_a_scored_partition_is_scored_again_as_a_new_revision(
    remote: JobRunner, s3_server: servers.S3Server
):
    day, model = "2026-07-10", remote.production(f"{DATASET}_classifier")
    first = f"{day}_model_{model}"
    land(s3_server, "late", day, "part-0", rows(day, 0, 150))
    ok(remote.job("batch_inference", *flags("late", "--partition", day)))
    assert list(predictions(remote, day)) == [first]

    land(s3_server, "late", day, "part-1", rows(day, 150, 150))  # late data
    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert f"input changed since scored: partition {day} ({first}): 2 file(s)" in status

    out = ok(remote.job("batch_inference", *flags("late", "--partition", day)))
    reason = "input changed: 2 files, 300 rows; was 1 file, 150 rows"
    assert f"revision 2 of partition {day}: {reason}" in out
    found = predictions(remote, day)
    assert list(found) == [first, f"{first}_r2"]  # the old revision stays until retention
    meta = found[f"{first}_r2"]["metadata"]
    assert (meta["partition"], meta["rows"], meta["revision"]) == (day, 300, 2)
    assert meta["revision_reason"] == reason
    newest = table(remote, f"{first}_r2")
    assert sorted(newest["row_id"]) == sorted(f"{day}/{n}" for n in range(300))
    assert len(table(remote, first)) == 150

    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert f"version {first}_r2 partition {day}: 300 rows" in status
    assert f"revision 2: {reason}" in status
    assert "input changed since scored" not in status

    again = ok(remote.job("batch_inference", *flags("late", "--partition", day)))
    assert "already scored" in again and f"{first}_r2" in again
    assert len(predictions(remote, day)) == 2

    # N shards agree on the revision and commit it once.
    land(s3_server, "late", day, "part-2", rows(day, 300, 150))
    shards = [flags("late", "--partition", day, "--shards", "2", "--shard", str(i)) for i in (0, 1)]
    results = remote.together("batch_inference", *shards)
    for result in results:
        ok(result)
    committed = [r.stdout for r in results if "committed 450 rows of 2 shards" in r.stdout]
    assert len(committed) == 1, [r.stdout for r in results]
    assert list(predictions(remote, day)) == [first, f"{first}_r2", f"{first}_r3"]
    assert len(table(remote, f"{first}_r3")) == 450


@pytest.mark.server
def test_a_scheduled_run_before_its_partition_lands_exits_0_and_the_next_catches_it_up(
    remote: JobRunner, s3_server: servers.S3Server
):
    model = remote.production(f"{DATASET}_classifier")
    night = remote.with_env(HANDOFF_JOB_NAME=scheduled_job(datetime(2026, 7, 21, 4, tzinfo=UTC)))
    early = night.job("batch_inference", *flags("nightly"))
    out = ok(early)  # exit 0: the CronJob's Job does not fail for good
    assert "partition 2026-07-20 has not landed yet; the next scheduled run catches it up" in out
    assert predictions(remote, "2026-07-20") == {}
    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert "2026-07-20; the next scheduled run scores them" in status

    # The same partition asked for by name is still bad input.
    named = remote.job("batch_inference", *flags("nightly", "--partition", "2026-07-20"))
    assert named.returncode == 2, named.stderr

    for day in ("2026-07-20", "2026-07-21"):
        land(s3_server, "nightly", day, "part-0", rows(day, 0, 150))
    next_night = remote.with_env(
        HANDOFF_JOB_NAME=scheduled_job(datetime(2026, 7, 22, 4, tzinfo=UTC))
    )
    out = ok(next_night.job("batch_inference", *flags("nightly")))
    caught_up = out.index(f"version 2026-07-20_model_{model} (partition 2026-07-20)")
    own = out.index(f"version 2026-07-21_model_{model} (partition 2026-07-21)")
    assert caught_up < own  # oldest first
    assert "2 of 8 partition(s) scored, 0 already done, 6 not landed yet" in out
    assert len(table(remote, f"2026-07-20_model_{model}")) == 150
    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert "not landed yet: 2026-07-14, 2026-07-15" in status
    assert "2026-07-20" not in status.split("not landed yet:", 1)[1].splitlines()[0]
