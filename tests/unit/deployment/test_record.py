"""Per target: which version is live, since when, and the previous one, from the records."""

from __future__ import annotations

import pytest

from jobs.common.runtime.errors import Unavailable
from jobs.deployment.record import (
    EndpointState,
    describe,
    endpoint_states,
    key,
    outcome,
    records_in,
)

URL = "http://127.0.0.1:8000"


def record(
    version: str,
    time: str,
    status: str = "deployed",
    previous: str | None = None,
    target: str = "docker",
    **extra: str,
) -> dict:
    return {
        "target": target,
        "endpoint": URL,
        "version": version,
        "time": time,
        "status": status,
        "previous_version": previous,
        **extra,
    }


def test_the_newest_deployment_is_live_and_names_what_it_replaced():
    states = endpoint_states(
        [record("1", "2026-11-26T06:00:00"), record("2", "2026-11-26T07:00:00", previous="1")]
    )
    assert states == [EndpointState("docker", URL, "2", "2026-11-26T07:00:00", "1")]


def test_a_rolled_back_attempt_leaves_the_earlier_version_live_since_its_own_deployment():
    states = endpoint_states(
        [
            record("2", "2026-11-26T08:00:00", "rolled_back", previous="1", error="smoke test"),
            record("1", "2026-11-26T06:00:00"),
        ]
    )
    [state] = states
    assert (state.live_version, state.since, state.previous_version) == (
        "1",
        "2026-11-26T06:00:00",
        None,
    )
    assert state.failed_attempt and state.failed_attempt["error"] == "smoke test"
    lines = describe(state, answering="1")
    assert lines[0] == (
        f"docker: version 1 live since 2026-11-26T06:00:00 (previously nothing) "
        f"at {URL}; the endpoint serves version 1"
    )
    assert (
        lines[1] == "  last attempt: version 2 at 2026-11-26T08:00:00 was rolled back: smoke test"
    )


def test_a_version_deployed_again_counts_from_its_newest_deployment():
    # 1, then 2, then `handoff rollback` and 1 again: version 1's record was overwritten.
    states = endpoint_states(
        [
            record("1", "2026-11-26T09:00:00", previous="2"),
            record("2", "2026-11-26T07:00:00", previous="1"),
        ]
    )
    assert states[0].live_version == "1" and states[0].previous_version == "2"
    assert states[0].since == "2026-11-26T09:00:00"


def test_a_failed_first_deployment_leaves_nothing_live():
    [state] = endpoint_states([record("1", "2026-11-26T06:00:00", "rolled_back")])
    assert state.live_version is None
    assert describe(state, None)[0].startswith("docker: nothing live at ")
    assert "does not answer from here" in describe(state, None)[0]


def test_a_failed_restore_says_so():
    [state] = endpoint_states(
        [
            record("1", "2026-11-26T06:00:00"),
            record(
                "2",
                "2026-11-26T07:00:00",
                "rolled_back",
                previous="1",
                error="smoke test",
                restore_error="router did not start",
            ),
        ]
    )
    assert state.live_version is None  # nobody knows what answers now: the probe will tell
    assert describe(state, None)[1].endswith(
        "failed and restoring failed too (router did not start): smoke test"
    )


def test_each_target_is_reported_on_its_own():
    states = endpoint_states(
        [
            record("1", "2026-11-26T06:00:00", target="kubernetes"),
            record("2", "2026-11-26T07:00:00", target="docker"),
        ]
    )
    assert [(s.target, s.live_version) for s in states] == [("docker", "2"), ("kubernetes", "1")]


def test_a_deployed_record_is_the_jobs_success_line():
    line = outcome(record("2", "t", previous="1"), "iris_classifier", "2", "docker")
    assert line == f"deployed iris_classifier version 2 to docker at {URL} (previously 1)"
    first = outcome(record("1", "t"), "iris_classifier", "1", "local")
    assert first.endswith("(previously nothing)")


def test_a_rolled_back_record_fails_the_job_with_one_line():
    with pytest.raises(Unavailable) as failed:
        outcome(record("2", "t", "rolled_back", "1", error="boom"), "m", "2", "docker")
    assert str(failed.value) == (
        "deploying version 2 to docker failed (boom); rolled back to version 1"
    )
    with pytest.raises(Unavailable, match=r"restoring version 1 failed too: gone$"):
        outcome(
            record("2", "t", "rolled_back", "1", error="boom", restore_error="gone"),
            "m",
            "2",
            "docker",
        )


def test_every_targets_record_is_found_on_a_version():
    metadata = {
        key("local"): record("2", "t", target="local"),
        key("kubernetes"): record("2", "t", target="kubernetes"),
        "promotion": {"stage": "production"},
        "deployment_docker": {},  # nothing recorded
    }
    assert [r["target"] for r in records_in(metadata)] == ["kubernetes", "local"]
