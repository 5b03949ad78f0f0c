"""Partition keys: which slice of the data a run is about, and where that slice lives.

An ``input`` (or ``source``, ``output``) may be a template with ``{partition}``, e.g.
``s3://bucket/incoming/dt={partition}/``. The key comes from an explicit ``--partition``, from a
``--from``/``--to`` range (backfill), or, in a pod a CronJob started, from that Job's *scheduled*
time — formatted with a pattern after subtracting a lag ("the day before the scheduled time").
Never from the wall clock: a retry pod of the same Job after midnight must score the same key.

How a pod learns its Job's scheduled time without any API access: the CronJob controller names
every Job ``<cronjob name>-<scheduled time in minutes since the epoch>`` (``getJobName`` in
kubernetes' ``pkg/controller/cronjob``: ``scheduledTime.Unix() / 60``; the controller relies on
that name to never create the same run twice), and every pod of a Job, retries included, carries
the Job's name as the label ``batch.kubernetes.io/job-name``, which the downward API hands to the
container as an environment variable. The Job's annotation
``batch.kubernetes.io/cronjob-scheduled-timestamp`` holds the same instant, but pods cannot read
their Job's annotations through the downward API; reading the Job through the Kubernetes API
would need a token, a Role and egress to the API server in every batch pod.
A Job created by hand (``kubectl create job --from=cronjob/...``) has a name of the user's
choosing: it is rejected unless it passes a partition, a range or a scheduled time explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobs.common.runtime.errors import BadInput

PLACEHOLDER = "{partition}"
# A CronJob's Job name ends in the scheduled minute since the epoch: 8 digits from 1990 to 2160.
# Names a human picks (infer-1, backfill-20261125) fall below 2020 or have another length.
_SCHEDULED_SUFFIX = re.compile(r"-(\d{8})$")
_EARLIEST_SCHEDULE = datetime(2020, 1, 1, tzinfo=UTC)
_DURATION = re.compile(r"^\s*(\d+)\s*([wdhm])\s*$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
MAX_RANGE = 10_000


def is_template(uri: str | None) -> bool:
    return bool(uri) and PLACEHOLDER in str(uri)


def render(template: str, key: str) -> str:
    """The template with its partition filled in (other braces are left alone)."""
    return template.replace(PLACEHOLDER, key)


def parse_duration(text: str, key: str) -> timedelta:
    """``1d``, ``6h``, ``30m``, ``2w``, or ``0d``."""
    match = _DURATION.match(str(text))
    if not match:
        raise BadInput(f"{key} {text!r} is not a duration like 1d, 6h, 30m or 2w")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class Schedule:
    """How keys are spelled and spaced: ``format`` (strftime), ``every`` (the step between two
    keys), ``lag`` (how far before the scheduled time the scored partition lies), ``timezone``."""

    format: str = "%Y-%m-%d"
    every: timedelta = timedelta(days=1)
    lag: timedelta = timedelta(days=1)
    timezone: str = "UTC"

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise BadInput(f"partition_timezone {self.timezone!r} is not a known zone") from err

    def key_at(self, scheduled: datetime) -> str:
        """The key a run scheduled at ``scheduled`` scores."""
        if scheduled.tzinfo is None:
            scheduled = scheduled.replace(tzinfo=UTC)
        return (scheduled.astimezone(self.zone()) - self.lag).strftime(self.format)

    def parse(self, key: str, what: str) -> datetime:
        try:
            return datetime.strptime(key, self.format).replace(tzinfo=self.zone())
        except ValueError as err:
            raise BadInput(
                f"{what} {key!r} does not match partition_format {self.format!r}"
            ) from err

    def keys_between(self, first: str, last: str) -> list[str]:
        """Every key from ``first`` to ``last`` inclusive, oldest first."""
        start, end = self.parse(first, "--from"), self.parse(last, "--to")
        if end < start:
            raise BadInput(f"--from {first} is after --to {last}")
        if self.every <= timedelta(0):
            raise BadInput("partition_every must be longer than zero")
        keys: list[str] = []
        at = start
        while at <= end:
            key = at.strftime(self.format)
            if not keys or keys[-1] != key:
                keys.append(key)
            if len(keys) > MAX_RANGE:
                raise BadInput(f"--from {first} --to {last} spans over {MAX_RANGE} partitions")
            at += self.every
        return keys


def scheduled_time_of_job(job_name: str) -> datetime | None:
    """The scheduled time encoded in the name of a Job a CronJob created, else None."""
    match = _SCHEDULED_SUFFIX.search(job_name or "")
    if not match:
        return None
    scheduled = datetime.fromtimestamp(int(match[1]) * 60, tz=UTC)
    return scheduled if scheduled >= _EARLIEST_SCHEDULE else None


def parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise BadInput(f"scheduled_time {text!r} is not an ISO 8601 / RFC 3339 time") from err
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def keys_to_score(
    schedule: Schedule,
    *,
    partition: str | None = None,
    first: str | None = None,
    last: str | None = None,
    scheduled_time: str | None = None,
    job_name: str | None = None,
) -> list[str]:
    """The partitions one run is asked to score, in the order they must be scored.

    Priority: an explicit key, then a range, then an explicit scheduled time, then the
    scheduled time in the CronJob-made Job's name.
    """
    if partition:
        if first or last:
            raise BadInput("give either --partition or --from/--to, not both")
        return [partition]
    if first or last:
        if not (first and last):
            raise BadInput("a backfill needs both --from and --to")
        return schedule.keys_between(first, last)
    if scheduled_time:
        return [schedule.key_at(parse_time(scheduled_time))]
    if job_name:
        scheduled = scheduled_time_of_job(job_name)
        if scheduled is not None:
            return [schedule.key_at(scheduled)]
        raise BadInput(
            f"Job {job_name!r} was not created by a CronJob's schedule, so it has no scheduled "
            "time; pass --partition KEY or --from A --to B (see the README: backfill)"
        )
    raise BadInput(
        "the input names a partition ({partition}) but none was given: pass --partition KEY, "
        "--from A --to B, or run it from its CronJob"
    )


def keys_before(schedule: Schedule, key: str, count: int) -> list[str]:
    """The ``count`` keys before ``key``, oldest first: a scheduled run's catch-up window."""
    at = schedule.parse(key, "partition")
    keys: list[str] = []
    for step in range(count, 0, -1):
        earlier = (at - step * schedule.every).strftime(schedule.format)
        if earlier != key and (not keys or keys[-1] != earlier):
            keys.append(earlier)
    return keys


# Revisions. The predictions of a partition by a model version are scored again when the
# partition's input changed since (late data): each scoring is a *revision*, its own artifact
# version, ``<partition>_model_<n>`` for the first and ``<partition>_model_<n>_r<k>`` for the
# k-th. Older revisions stay until retention (``handoff gc``) removes their partition.
#
# Which one is "the predictions of partition P": the one rule readers follow is
# ``jobs.common.store.artifacts.newest_of_partition`` (the version created last).

_VERSION = re.compile(r"^(?P<stem>.+)_model_(?P<model>\d+)(?:_r(?P<revision>\d+))?$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Revision:
    """What a predictions version's name says: partition (as spelled in names), model, k."""

    stem: str
    model_version: int
    revision: int


def version_stem(partition: str) -> str:
    """The partition as every store accepts it in a version name."""
    return _UNSAFE.sub("-", partition).strip("-") or "partition"


def version_prefix(partition: str) -> str:
    """What the names of every predictions version of ``partition`` start with."""
    return f"{version_stem(partition)}_model_"


def version_name(partition: str, model_version: int, revision: int = 1) -> str:
    """``2026-11-25_model_3`` (revision 1), ``2026-11-25_model_3_r2`` (revision 2), ..."""
    name = f"{version_prefix(partition)}{model_version}"
    return name if revision <= 1 else f"{name}_r{revision}"


def parse_version(version: str) -> Revision | None:
    """The partition stem, model version and revision of a predictions version's name."""
    match = _VERSION.match(version)
    if not match:
        return None
    return Revision(match["stem"], int(match["model"]), int(match["revision"] or 1))
