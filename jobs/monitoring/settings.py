from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from jobs.common.chaining import Downstream
from jobs.common.data import partitions
from jobs.common.runtime.errors import BadInput
from jobs.common.runtime.settings import JobSettings


class Settings(JobSettings):
    """Where the labels are, how they join the predictions, which partition, and the bar below
    which the production model has decayed."""

    labels: str | None = Field(
        None,
        description="the labels table: a .csv/.parquet file or folder (path or s3:// URI), or a "
        "template with {partition}, e.g. s3://bucket/labels/dt={partition}/",
    )
    target_column: str | None = Field(
        None, description="the labels' column of true values; default: the model's target column"
    )
    id_columns: list[str] = Field(
        default_factory=list,
        description="the columns that join labels to predictions; default: the predictions' "
        "id_columns",
    )
    partition: str | None = Field(None, description="the partition to measure, e.g. 2026-11-25")
    label_lag: str = Field(
        "7d", description="a scheduled run measures the partition this long before its time"
    )
    partition_format: str = Field("%Y-%m-%d", description="strftime pattern of partition keys")
    partition_timezone: str = Field("UTC", description="zone the partition keys are spelled in")
    scheduled_time: str | None = Field(
        None, description="the run's scheduled time (RFC 3339), if not from the Job's name"
    )
    job_name: str | None = Field(
        None, description="the Kubernetes Job's name (downward API); a CronJob's encodes its time"
    )
    retrain_below: float | None = Field(
        None,
        description="start training when the realized metric is worse than this (below it for "
        "a score, above it for an error such as rmse); null = never",
    )
    downstream: Downstream = Field(
        ["training"], description="jobs a decayed model starts (the chaining of the others)"
    )
    promote_on: Literal["live"] | None = Field(
        None,
        description="live: promote the newest staging version (batch inference's shadow) once "
        "it beat production on each of the last live_partitions labelled partitions; null = never",
    )
    live_partitions: int = Field(
        3, ge=1, description="labelled partitions a challenger must win, each one, with promote_on"
    )
    promoted_downstream: Downstream = Field(
        ["batch-inference", "deployment"],
        description="jobs a promotion on live labels starts (as training's promotion does)",
    )
    batch_rows: int = Field(131_072, gt=0, description="rows per batch read from the labels")

    @field_validator("label_lag")
    @classmethod
    def _duration(cls, value: str) -> str:
        partitions.parse_duration(value, "label_lag")
        return value

    def schedule(self) -> partitions.Schedule:
        return partitions.Schedule(
            format=self.partition_format,
            lag=partitions.parse_duration(self.label_lag, "label_lag"),
            timezone=self.partition_timezone,
        )

    def partition_key(self) -> str:
        """The partition to measure: ``--partition``, else the one whose labels are due at the
        scheduled time (``label_lag`` before it)."""
        if not self.labels:
            raise BadInput("labels is not set: give the labels table (--labels URI or TEMPLATE)")
        if not partitions.is_template(self.labels) and not self.partition:
            raise BadInput(
                f"labels {self.labels!r} has no {partitions.PLACEHOLDER}: name the partition it "
                "holds with --partition KEY"
            )
        (key,) = partitions.keys_to_score(
            self.schedule(),
            partition=self.partition,
            scheduled_time=self.scheduled_time,
            job_name=self.job_name,
        )
        return key

    def labels_uri(self, key: str) -> str:
        return partitions.render(str(self.labels), key)
