"""One partition scored by N shards, each its own process as in an Indexed Job's pods: the last
shard to finish registers the predictions once; they equal what one pod predicts, row for row.
CI-only tier (e2e): many job processes."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.harness import servers
from tests.harness.runner import (
    JobRunner,
    champion_runner,
    last_line,
    ok,
    trained_runner,
)

BUCKET = "handoff-artifacts"
DATASET = "sharded"
PREDICTIONS = f"{DATASET}_predictions"
COMMITTED = re.compile(r"committed \d+ rows of \d+ shards -> ")


def rows(copies: int) -> pd.DataFrame:
    from jobs.common.data.iris import features

    table = pd.concat([features()] * copies, ignore_index=True)
    table.insert(0, "row_id", range(len(table)))
    return table


def parquet_files(table: pd.DataFrame, files: int, row_group: int) -> list[bytes]:
    """The table as `files` parquet files of `row_group`-row groups (a day's landed folder)."""
    size = -(-len(table) // files)
    bodies = []
    for i in range(files):
        sink = io.BytesIO()
        part = pa.Table.from_pandas(table.iloc[i * size : (i + 1) * size], preserve_index=False)
        pq.write_table(part, sink, row_group_size=row_group)
        bodies.append(sink.getvalue())
    return bodies


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    """Jobs on the shared server and S3 store, with a production model of their own dataset."""
    yield trained_runner(
        zenml_server, s3_server, tmp_path_factory.mktemp("shards"), BUCKET, DATASET
    )


def land_s3(s3: servers.S3Server, day: str, table: pd.DataFrame, bucket: str = BUCKET) -> None:
    for i, body in enumerate(parquet_files(table, files=2, row_group=300)):
        s3.client().put_object(Bucket=bucket, Key=f"incoming/dt={day}/part-{i}.parquet", Body=body)


def flags(day: str, *extra: str) -> list[str]:
    return [
        "--dataset",
        DATASET,
        "--input",
        f"s3://{BUCKET}/incoming/dt={{partition}}/",
        "--partition",
        day,
        "--id-columns",
        "[row_id]",
        "--probabilities",
        "true",
        *extra,
    ]


def shard(count: int, index: int) -> list[str]:
    return ["--shards", str(count), "--shard", str(index)]


def versions(jobs: JobRunner) -> list[str]:
    return [v["version"] for v in jobs.probe("artifacts", PREDICTIONS)]


def stored(jobs: JobRunner, version: str) -> pd.DataFrame:
    """The predictions as the project's materializer loads them."""
    return pd.DataFrame(jobs.probe("table", f"{PREDICTIONS}:{version}"))


def committed_lines(results: list[subprocess.CompletedProcess[str]]) -> list[str]:
    """The lines of the shards that registered the predictions. A shard that found them
    registered by another says "... was already committed by another shard" instead."""
    return [line for r in results for line in r.stdout.splitlines() if COMMITTED.search(line)]


@pytest.mark.server
def test_four_shards_commit_once_what_one_pod_predicts(
    remote: JobRunner, s3_server: servers.S3Server
):
    table = rows(copies=16)  # 2 400 rows: 2 files of 4 row groups
    land_s3(s3_server, "2026-08-01", table)  # scored by 4 shards
    land_s3(s3_server, "2026-08-02", table)  # the same rows, scored by one pod
    model = remote.production(f"{DATASET}_classifier")

    results = remote.together(
        "batch_inference", *[flags("2026-08-01", *shard(4, i)) for i in range(4)]
    )
    for result in results:
        ok(result)
    assert len(committed_lines(results)) == 1, [r.stdout for r in results]
    ok(remote.job("batch_inference", *flags("2026-08-02")))

    sharded = stored(remote, f"2026-08-01_model_{model}")
    single = stored(remote, f"2026-08-02_model_{model}")
    assert sharded["row_id"].tolist() == table["row_id"].tolist()  # input order, no duplicates
    pd.testing.assert_frame_equal(sharded, single)
    (version,) = [
        v for v in remote.probe("artifacts", PREDICTIONS) if v["version"].startswith("2026-08-01")
    ]
    assert version["metadata"]["rows"] == len(table)
    assert version["metadata"]["shards"] == 4
    # Drift is judged on the whole partition, merged from the shards: the same bin counts as
    # the single pod's, so the same PSI per feature; its picture is beside the parts.
    (one_pod,) = [
        v for v in remote.probe("artifacts", PREDICTIONS) if v["version"].startswith("2026-08-02")
    ]
    merged, whole = version["metadata"]["drift"], one_pod["metadata"]["drift"]
    assert merged["drifted"] == whole["drifted"] == []
    for name, found in whole["features"].items():
        assert merged["features"][name]["psi"] == found["psi"]
        assert merged["features"][name]["rows"] == len(table)
    # Lazily, straight from the bucket: the markers beside the parts are not rows.
    bucket = pa.fs.S3FileSystem(
        endpoint_override=s3_server.endpoint_url,
        access_key=s3_server.access_key,
        secret_key=s3_server.secret_key,
        region=s3_server.region,
    )
    import pyarrow.dataset as ds

    lazy = ds.dataset(version["uri"].removeprefix("s3://"), format="parquet", filesystem=bucket)
    assert lazy.count_rows() == len(table)

    again = ok(remote.job("batch_inference", *flags("2026-08-01", *shard(4, 2))))
    assert "already scored" in again
    assert versions(remote).count(f"2026-08-01_model_{model}") == 1


@pytest.mark.server
def test_two_shards_finishing_at_once_register_one_version(
    remote: JobRunner, s3_server: servers.S3Server
):
    land_s3(s3_server, "2026-08-03", rows(copies=8))
    model = remote.production(f"{DATASET}_classifier")
    first = ok(remote.job("batch_inference", *flags("2026-08-03", *shard(3, 0))))
    assert "shard(s) 1, 2 still to finish" in first

    results = remote.together(
        "batch_inference", flags("2026-08-03", *shard(3, 1)), flags("2026-08-03", *shard(3, 2))
    )
    for result in results:
        ok(result)
    assert len(committed_lines(results)) == 1, [r.stdout for r in results]
    # The other one either finished before the winner's marker or found its registration.
    others = [r.stdout for r in results if not committed_lines([r])]
    assert len(others) == 1
    assert "still to finish" in others[0] or "already committed by another shard" in others[0]
    assert versions(remote).count(f"2026-08-03_model_{model}") == 1
    assert len(stored(remote, f"2026-08-03_model_{model}")) == 8 * 150


@pytest.mark.server
def test_a_missing_shard_refuses_the_commit_with_exit_3_naming_it(
    remote: JobRunner, s3_server: servers.S3Server
):
    land_s3(s3_server, "2026-08-04", rows(copies=8))
    model = remote.production(f"{DATASET}_classifier")
    for result in remote.together(
        "batch_inference", *[flags("2026-08-04", *shard(4, i)) for i in (0, 1, 3)]
    ):
        ok(result)

    refused = remote.job("batch_inference", *flags("2026-08-04", "--shards", "4"))
    assert refused.returncode == 3, refused.stderr
    assert "shard(s) 2 of 4 not done (3 of 4 done); nothing registered" in last_line(refused)
    assert f"2026-08-04_model_{model}" not in versions(remote)
    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert f"shards of partition 2026-08-04 (2026-08-04_model_{model}): 3 of 4 done, " in status
    assert "waiting for shard(s) 2" in status

    done = ok(remote.job("batch_inference", *flags("2026-08-04", *shard(4, 2))))
    assert "committed 1200 rows of 4 shards" in done
    assert len(stored(remote, f"2026-08-04_model_{model}")) == 1200
    status = ok(remote.handoff("status", "--dataset", DATASET))
    assert "4 of 4 done, committed" in status


@pytest.mark.integration
def test_a_shard_killed_mid_write_and_rerun_gives_the_same_single_version(tmp_path: Path):
    store = champion_runner(tmp_path / "store")
    model = store.production()
    table = rows(copies=400)  # 60 000 rows in 500-row groups: a shard writes for a while
    for day in ("2026-08-05", "2026-08-06"):
        (tmp_path / "in" / f"dt={day}").mkdir(parents=True)
        pq.write_table(
            pa.Table.from_pandas(table, preserve_index=False),
            tmp_path / "in" / f"dt={day}" / "rows.parquet",
            row_group_size=500,
        )
    common = ["--input", str(tmp_path / "in" / "dt={partition}"), "--id-columns", "[row_id]"]
    common += ["--batch-rows", "100"]
    sharded = [*common, "--partition", "2026-08-05", "--shards", "2"]
    part = f"*/iris_predictions/2026-08-05_model_{model}/shards-2-*/part-00001.parquet"
    stores = store.workdir / "zenml" / "local_stores"

    killed = store.start("batch_inference", *sharded, "--shard", "1")
    try:
        # Until its part exists (its rows are being written), or it ended early.
        while not list(stores.glob(part)):
            assert killed.poll() is None, killed.communicate()[1][-2000:]
            time.sleep(0.05)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.communicate()
    assert killed.returncode == -signal.SIGKILL

    ok(store.job("batch_inference", *sharded, "--shard", "0"))
    assert store.probe("artifacts", "iris_predictions") == []  # shard 1 is not done
    rerun = ok(store.job("batch_inference", *sharded, "--shard", "1"))
    assert "committed 60000 rows of 2 shards" in rerun
    ok(store.job("batch_inference", *common, "--partition", "2026-08-06"))

    by_partition = {
        v["metadata"]["partition"]: v for v in store.probe("artifacts", "iris_predictions")
    }
    # One protocol: a 2-shard partition and a one-pod one are each a batch_inference run's output.
    two_shards, one_pod = by_partition["2026-08-05"], by_partition["2026-08-06"]
    assert (
        two_shards["producer"]["pipeline"] == one_pod["producer"]["pipeline"] == "batch_inference"
    )
    assert two_shards["producer"]["run"] != one_pod["producer"]["run"]
    version = two_shards["version"]
    result = pd.DataFrame(store.probe("table", f"iris_predictions:{version}"))
    single = pd.DataFrame(store.probe("table", f"iris_predictions:2026-08-06_model_{model}"))
    assert result["row_id"].tolist() == table["row_id"].tolist()  # no duplicate, none lost
    pd.testing.assert_frame_equal(result, single)


@pytest.mark.server
def test_drift_is_judged_on_the_whole_partition_by_the_shard_that_commits(
    remote: JobRunner, s3_server: servers.S3Server
):
    shifted = rows(copies=8)
    shifted["petal_length_cm"] += 2.5
    land_s3(s3_server, "2026-08-06", shifted)
    model = remote.production(f"{DATASET}_classifier")
    version = f"2026-08-06_model_{model}"
    refuse = ["--drift", "fail", "--drift-threshold", "0.5"]

    assert "still to finish" in ok(
        remote.job("batch_inference", *flags("2026-08-06", *shard(2, 0), *refuse))
    )
    refused = remote.job("batch_inference", *flags("2026-08-06", *shard(2, 1), *refuse))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "petal_length_cm" in last_line(refused)
    assert "nothing was published" in last_line(refused)
    assert version not in versions(remote)

    # drift: warn (the default): the same shards' parts are committed, with the drift named.
    warned = ok(remote.job("batch_inference", *flags("2026-08-06", *shard(2, 1))))
    assert "was already done" in warned and "committed 1200 rows of 2 shards" in warned
    (found,) = [v for v in remote.probe("artifacts", PREDICTIONS) if v["version"] == version]
    assert found["metadata"]["drift"]["drifted"] == ["petal_length_cm"]
    assert found["metadata"]["drift"]["features"]["petal_length_cm"]["rows"] == 1200
    key = found["uri"].removeprefix(f"s3://{BUCKET}/") + "/_drift.html"
    picture = s3_server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert "drifted: petal_length_cm" in picture
