import pytest

from jobs.batch_inference import plan
from jobs.batch_inference.settings import Settings
from jobs.common.runtime.errors import BadInput

TEMPLATE = "s3://bucket/incoming/dt={partition}/"


def keys(**settings) -> list[str]:
    return plan.requested_keys(Settings(**settings), identity=lambda uri: "input-abc")


def test_a_template_input_fills_in_each_requested_partition_and_names_its_version():
    config = Settings(input=TEMPLATE, output="s3://bucket/out/{partition}.parquet")
    runs = plan.runs(
        config, keys(input=TEMPLATE, backfill_from="2026-11-01", backfill_to="2026-11-02"), 4, {}
    )
    assert [(r.input, r.output, r.version) for r in runs] == [
        (
            "s3://bucket/incoming/dt=2026-11-01/",
            "s3://bucket/out/2026-11-01.parquet",
            "2026-11-01_model_4",
        ),
        (
            "s3://bucket/incoming/dt=2026-11-02/",
            "s3://bucket/out/2026-11-02.parquet",
            "2026-11-02_model_4",
        ),
    ]
    assert {r.predictions_artifact for r in runs} == {"iris_predictions"}


def test_a_plain_input_is_one_partition_named_by_its_content_or_the_given_key():
    assert keys(input="table.parquet") == ["input-abc"]
    assert keys(input="table.parquet", partition="2026-11-25") == ["2026-11-25"]
    with pytest.raises(BadInput, match="needs an input with"):
        keys(input="table.parquet", backfill_from="2026-11-01", backfill_to="2026-11-02")


def test_the_scheduled_job_name_picks_the_partition_before_its_scheduled_day():
    # 2026-11-26T04:00Z in minutes since the epoch, as the CronJob controller names the Job.
    assert keys(input=TEMPLATE, job_name="handoff-batch-inference-29927760") == ["2026-11-25"]


def test_version_names_are_safe_for_any_key():
    assert plan.version_name("2026/11/25 04:00", 7) == "2026-11-25-04-00_model_7"


def test_only_a_partitioned_input_with_nothing_naming_a_partition_is_a_chained_rescore():
    assert plan.is_chained_rescore(Settings(input=TEMPLATE, model_version="3"))
    assert not plan.is_chained_rescore(Settings(input=TEMPLATE, partition="2026-11-25"))
    assert not plan.is_chained_rescore(Settings(input="table.parquet"))


def test_the_identifiers_recorded_in_the_schema_join_the_predictions_unless_named():
    schema = {"columns": {"a": {"kind": "numeric"}}, "target": "y", "task": "regression",
              "id_columns": ["customer"]}  # fmt: skip
    (run,) = plan.runs(Settings(input="in.csv"), ["p"], 1, {"a": "float64"}, schema=schema)
    assert run.id_columns == ["customer"]
    (own,) = plan.runs(Settings(input="in.csv", id_columns=["row"]), ["p"], 1, {}, schema=schema)
    assert own.id_columns == ["row"]


def scored(version: str, identity: str, files: int = 1, rows: int = 150) -> tuple[str, dict]:
    meta = {"rows": rows, "input": {"identity": identity, "files": files, "bytes": 9000}}
    return version, meta


def a_run(model: int = 3):
    (run,) = plan.runs(Settings(input=TEMPLATE), ["2026-11-25"], model, {})
    return run


def test_an_unscored_partition_is_revision_1_under_todays_name():
    run = a_run()
    latest = plan.latest_revision(run, [scored("2026-11-25_model_2", "old")])  # another model
    assert latest is None and not plan.is_current(latest, "new")
    assert plan.revised(run, latest, {"files": 1}, 150) == run
    assert (run.version, run.revision, run.revision_reason) == ("2026-11-25_model_3", 1, None)


def test_a_partition_scored_from_the_same_input_is_done_from_a_changed_one_revised():
    run = a_run()
    versions = [
        scored("2026-11-25_model_3", "first"),
        scored("2026-11-25_model_3_r2", "second", files=2, rows=300),
        scored("2026-11-25_model_30", "other model"),
        scored("2026-11-25_model_4", "newer model"),
    ]
    latest = plan.latest_revision(run, versions)
    assert latest is not None and latest.version == "2026-11-25_model_3_r2"
    assert plan.is_current(latest, "second")
    assert not plan.is_current(latest, "first")  # the input changed back: a new revision too
    third = plan.revised(run, latest, {"files": 3, "bytes": 12000}, 450)
    assert (third.version, third.revision) == ("2026-11-25_model_3_r3", 3)
    assert third.revision_reason == "input changed: 3 files, 450 rows; was 2 files, 300 rows"
    # CSV inputs have no footers to count rows in: the reason says bytes instead.
    csv = plan.revised(run, latest, {"files": 1, "bytes": 12000}, None)
    assert csv.revision_reason == "input changed: 1 file, 12000 bytes; was 2 files, 300 rows"


def test_only_a_run_keyed_by_its_scheduled_time_catches_up_its_window():
    scheduled = Settings(input=TEMPLATE, job_name="handoff-batch-inference-29927760", catch_up=3)
    assert plan.is_scheduled(scheduled)
    assert plan.catch_up_window(scheduled, "2026-11-25") == [
        "2026-11-22",
        "2026-11-23",
        "2026-11-24",
    ]
    assert plan.is_scheduled(Settings(input=TEMPLATE, scheduled_time="2026-11-26T04:00:00Z"))
    assert not plan.is_scheduled(Settings(input=TEMPLATE, partition="2026-11-25"))
    assert not plan.is_scheduled(Settings(input=TEMPLATE, job_name="by-hand"))
    assert not plan.is_scheduled(Settings(input=TEMPLATE, model_version="3"))  # chained
    off = Settings(input=TEMPLATE, job_name="handoff-batch-inference-29927760", catch_up=0)
    assert plan.catch_up_window(off, "2026-11-25") == []


def test_a_partition_starts_at_its_key_in_the_partition_zone_and_a_plain_input_at_no_time():
    from datetime import UTC, datetime

    config = Settings(input=TEMPLATE)
    assert plan.start_of(config, "2026-11-25") == datetime(2026, 11, 25, tzinfo=UTC)
    assert plan.start_of(config, "not-a-date") is None
    assert plan.start_of(Settings(input="table.parquet"), "2026-11-25") is None


def test_a_run_that_names_its_partitions_is_explicit():
    assert plan.is_explicit(Settings(input=TEMPLATE, backfill_from="a", backfill_to="b"))
    assert plan.is_explicit(Settings(input=TEMPLATE, partition="2026-11-25"))
    assert not plan.is_explicit(Settings(input=TEMPLATE, model_version="3"))
