from __future__ import annotations

from pydantic import Field

from jobs.batch_inference.params import ScoringChoice
from jobs.common.runtime.settings import JobSettings


class Settings(ScoringChoice, JobSettings):
    """The shared keys, how batches are scored (``ScoringChoice``, passed on in each
    ``PartitionRun``), which partitions, and how they are split across pods."""

    input: str = Field(
        "iris",
        description="'iris', a .csv/.parquet file or folder (path or s3:// URI), or a template "
        "with {partition}, e.g. s3://bucket/incoming/dt={partition}/",
    )
    output: str | None = Field(
        None, description="optional .csv/.parquet copy of the predictions; may use {partition}"
    )
    partition: str | None = Field(None, description="the partition to score, e.g. 2026-11-25")
    backfill_from: str | None = Field(
        None,
        description="backfill: first partition of the range",
        json_schema_extra={"flag": "--from"},
    )
    backfill_to: str | None = Field(
        None,
        description="backfill: last partition of the range",
        json_schema_extra={"flag": "--to"},
    )
    partition_format: str = Field("%Y-%m-%d", description="strftime pattern of partition keys")
    partition_every: str = Field("1d", description="step between two partitions (1d, 1h, ...)")
    partition_lag: str = Field(
        "1d", description="a scheduled run scores the partition this long before its time"
    )
    partition_timezone: str = Field("UTC", description="zone the partition keys are spelled in")
    scheduled_time: str | None = Field(
        None, description="the run's scheduled time (RFC 3339), if not from the Job's name"
    )
    job_name: str | None = Field(
        None, description="the Kubernetes Job's name (downward API); a CronJob's encodes its time"
    )
    catch_up: int = Field(
        7,
        ge=0,
        description="a scheduled run also scores the unscored partitions among this many before "
        "its own, oldest first (0: off); its own partition not landed yet is exit 0, said so",
    )
    shards: int = Field(
        1,
        ge=1,
        description="split each partition across this many pods (an Indexed Job's completions); "
        "the pod that completes a partition registers the predictions",
    )
    shard: int | None = Field(
        None,
        ge=0,
        description="this pod's shard, 0..shards-1; default: JOB_COMPLETION_INDEX; none with "
        "shards > 1 = commit only (exit 3 naming the shards not done)",
    )
    shadow: bool = Field(
        False,
        description="also score each partition with the newest staging version (the "
        "challenger) into <dataset>_shadow_predictions, never read as the production predictions",
    )
    model_version: str | None = Field(
        None, description="a chained start's model version; null = the production version"
    )
