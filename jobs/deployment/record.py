"""The deployment record: written by the job on the version it deployed, read back by the job
(how did it go) and by ``handoff status`` (what each target serves).

Every rollout leaves ``deployment_<target>`` on the version it deployed: the endpoint, when, the
version served before, how many smoke-test rows, and whether it stayed (``deployed``) or was
rolled back (with the error, and ``restore_error`` if putting the old version back failed too).
A version keeps only its newest record per target, which is enough to answer, per target: which
version is live, since when, which one it replaced, and whether a newer attempt failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jobs.common.runtime.errors import Unavailable

DEPLOYED = "deployed"
ROLLED_BACK = "rolled_back"
PREFIX = "deployment_"


def key(target_kind: str) -> str:
    """The model-version metadata key of a target's record."""
    return PREFIX + target_kind


def records_in(metadata: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every target's record in one model version's metadata."""
    return [
        value
        for name, value in sorted(metadata.items())
        if name.startswith(PREFIX) and isinstance(value, Mapping) and value
    ]


def outcome(record: Mapping[str, Any], model_name: str, version: str, target_kind: str) -> str:
    """The job's last line for a rollout's record; a rollout that did not stay is an error."""
    previous = record.get("previous_version")
    if record.get("status") != DEPLOYED:
        then = (
            f"and restoring {'version ' + previous if previous else 'the previous state'} "
            f"failed too: {record['restore_error']}"
            if record.get("restore_error")
            else f"rolled back to {'version ' + previous if previous else 'nothing'}"
        )
        raise Unavailable(
            f"deploying version {version} to {target_kind} failed ({record.get('error')}); {then}"
        )
    return (
        f"deployed {model_name} version {version} to {target_kind} at "
        f"{record['endpoint']} (previously {previous or 'nothing'})"
    )


@dataclass(frozen=True)
class EndpointState:
    target: str
    endpoint: str
    live_version: str | None
    since: str | None
    previous_version: str | None
    failed_attempt: Mapping[str, Any] | None = None
    """The newest record, when it was rolled back: what did not make it, and why."""


def endpoint_states(records: Iterable[Mapping[str, Any]]) -> list[EndpointState]:
    """One state per target that has records, sorted by target name."""
    by_target: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_target.setdefault(str(record.get("target")), []).append(record)
    return [
        _state(target, sorted(found, key=lambda r: str(r.get("time", ""))))
        for target, found in sorted(by_target.items())
    ]


def _state(target: str, records: list[Mapping[str, Any]]) -> EndpointState:
    newest = records[-1]
    endpoint = str(newest.get("endpoint", ""))
    if newest.get("status") == DEPLOYED:
        return EndpointState(
            target,
            endpoint,
            str(newest["version"]),
            newest.get("time"),
            newest.get("previous_version"),
        )
    # Rolled back: the version it put back is live since that version's own deployment.
    restored = newest.get("previous_version")
    if restored is None or newest.get("restore_error"):
        return EndpointState(target, endpoint, None, None, None, newest)
    earlier = [
        r
        for r in records[:-1]
        if str(r.get("version")) == str(restored) and r.get("status") == DEPLOYED
    ]
    since = earlier[-1] if earlier else {}
    return EndpointState(
        target, endpoint, str(restored), since.get("time"), since.get("previous_version"), newest
    )


def describe(state: EndpointState, answering: str | None) -> list[str]:
    """``handoff status`` lines for one target; ``answering`` is what its endpoint reports."""
    previous = f"version {state.previous_version}" if state.previous_version else "nothing"
    live = (
        f"version {state.live_version} live since {state.since or 'an unknown time'} "
        f"(previously {previous})"
        if state.live_version
        else "nothing live"
    )
    probe = f"serves version {answering}" if answering else "does not answer from here"
    lines = [f"{state.target}: {live} at {state.endpoint}; the endpoint {probe}"]
    if state.failed_attempt:
        failed = state.failed_attempt
        outcome = (
            f"failed and restoring failed too ({failed['restore_error']})"
            if failed.get("restore_error")
            else "was rolled back"
        )
        lines.append(
            f"  last attempt: version {failed.get('version')} at {failed.get('time')} "
            f"{outcome}: {failed.get('error')}"
        )
    return lines
