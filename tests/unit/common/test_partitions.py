from datetime import UTC, datetime, timedelta

import pytest

from jobs.common.data import partitions
from jobs.common.runtime.errors import BadInput

DAILY = partitions.Schedule()  # %Y-%m-%d, every day, the day before the scheduled time


def cronjob_job_name(cronjob: str, scheduled: datetime) -> str:
    """What the CronJob controller names the Job it creates for ``scheduled``."""
    return f"{cronjob}-{int(scheduled.timestamp()) // 60}"


def test_every_retry_pod_of_a_scheduled_job_scores_the_same_partition():
    scheduled = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    job = cronjob_job_name("handoff-batch-inference", scheduled)
    # Retry pods run later (one after midnight) but carry the same Job name label.
    keys = {tuple(partitions.keys_to_score(DAILY, job_name=job)) for _ in range(3)}
    assert keys == {("2026-11-25",)}


def test_a_run_scheduled_just_before_midnight_and_retried_after_it_keeps_its_key():
    scheduled = datetime(2026, 11, 25, 23, 59, tzinfo=UTC)
    job = cronjob_job_name("nightly", scheduled)
    assert partitions.keys_to_score(DAILY, job_name=job) == ["2026-11-24"]


def test_the_scheduled_timestamp_annotation_value_gives_the_same_key_as_the_job_name():
    scheduled = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    from_name = partitions.keys_to_score(DAILY, job_name=cronjob_job_name("x", scheduled))
    from_time = partitions.keys_to_score(DAILY, scheduled_time="2026-11-26T04:00:00Z")
    assert from_name == from_time == ["2026-11-25"]


@pytest.mark.parametrize("name", ["infer-1", "backfill-20261125", "manual", "x-123456789"])
def test_a_job_created_by_hand_is_refused_without_an_explicit_partition(name: str):
    with pytest.raises(BadInput, match="not created by a CronJob's schedule"):
        partitions.keys_to_score(DAILY, job_name=name)


def test_lag_format_and_zone_shape_the_key():
    hourly = partitions.Schedule(
        format="%Y%m%d%H", every=timedelta(hours=1), lag=timedelta(hours=2), timezone="Asia/Tokyo"
    )
    assert hourly.key_at(datetime(2026, 11, 26, 4, 0, tzinfo=UTC)) == "2026112611"


def test_an_explicit_partition_wins_and_a_range_lists_every_key_oldest_first():
    assert partitions.keys_to_score(DAILY, partition="2026-01-05", job_name="x-1") == ["2026-01-05"]
    assert partitions.keys_to_score(DAILY, first="2026-02-27", last="2026-03-02") == [
        "2026-02-27",
        "2026-02-28",
        "2026-03-01",
        "2026-03-02",
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "none was given"),
        ({"first": "2026-01-02"}, "both --from and --to"),
        ({"first": "2026-01-02", "last": "2026-01-01"}, "is after"),
        ({"first": "2026/01/02", "last": "2026-01-03"}, "does not match"),
        ({"partition": "a", "first": "2026-01-01", "last": "2026-01-02"}, "not both"),
        ({"scheduled_time": "yesterday"}, "not an ISO 8601"),
    ],
)
def test_unusable_requests_are_bad_input(kwargs: dict, message: str):
    with pytest.raises(BadInput, match=message):
        partitions.keys_to_score(DAILY, **kwargs)


def test_templates_and_durations():
    assert partitions.is_template("s3://b/in/dt={partition}/")
    assert not partitions.is_template("s3://b/in/table.parquet")
    assert (
        partitions.render("s3://b/dt={partition}/{x}", "2026-11-25") == "s3://b/dt=2026-11-25/{x}"
    )
    assert partitions.parse_duration("6h", "lag") == timedelta(hours=6)
    with pytest.raises(BadInput, match="not a duration"):
        partitions.parse_duration("yesterday", "partition_lag")


def test_revisions_are_named_after_the_first_and_read_back_from_their_names():
    assert partitions.version_name("2026-11-25", 3) == "2026-11-25_model_3"
    assert partitions.version_name("2026-11-25", 3, revision=2) == "2026-11-25_model_3_r2"
    assert partitions.parse_version("2026-11-25_model_3_r2") == partitions.Revision(
        "2026-11-25", 3, 2
    )
    assert partitions.parse_version("a_model_b_model_12") == partitions.Revision("a_model_b", 12, 1)
    assert partitions.parse_version("raw_2026") is None
    # Every version of a partition, whatever the model or revision, starts the same way;
    # a partition whose key extends another's does not.
    prefix = partitions.version_prefix("2026-11-2")
    assert not partitions.version_name("2026-11-25", 3).startswith(prefix)
    assert partitions.version_name("2026-11-2", 30, revision=4).startswith(prefix)


def test_the_catch_up_window_is_the_keys_before_a_scheduled_key_oldest_first():
    assert partitions.keys_before(DAILY, "2026-03-01", 3) == [
        "2026-02-26",
        "2026-02-27",
        "2026-02-28",
    ]
    assert partitions.keys_before(DAILY, "2026-03-01", 0) == []
    hourly = partitions.Schedule(format="%Y-%m-%dT%H", every=timedelta(hours=1))
    assert partitions.keys_before(hourly, "2026-03-01T00", 2) == ["2026-02-28T22", "2026-02-28T23"]
