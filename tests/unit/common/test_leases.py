"""When a lease counts as expired: by what this process saw, not by comparing clocks."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jobs.common.store.leases import EXPIRY_S, STALE_S, Observations


@dataclass
class Tag:
    id: Any
    updated: datetime


def ago(seconds: float) -> datetime:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).replace(tzinfo=None)


def test_a_lease_renewed_meanwhile_never_expires_however_long_it_is_held():
    seen = Observations()
    for step in range(100):  # an hour and a half of a slow holder renewing every minute
        assert not seen.expired(Tag("a", ago(1) + timedelta(seconds=step)), now=step * 60.0)


def test_a_lease_nobody_renews_expires_after_expiry_seconds_of_our_own_clock():
    seen, tag = Observations(), Tag("a", ago(0))
    assert not seen.expired(tag, now=1000.0)
    assert not seen.expired(tag, now=1000.0 + EXPIRY_S - 0.1)
    assert seen.expired(tag, now=1000.0 + EXPIRY_S)


def test_a_holder_whose_clock_runs_far_behind_is_not_broken_while_it_renews():
    seen = Observations()
    skewed = ago(STALE_S * 0.9)  # looks old on our clock, yet it moves
    for step in range(10):
        assert not seen.expired(Tag("a", skewed + timedelta(seconds=step)), now=step * 3.0)


def test_a_lease_already_long_dead_is_expired_at_first_sight():
    assert Observations().expired(Tag("a", ago(STALE_S + 1)), now=0.0)


def test_each_lease_is_observed_on_its_own():
    seen, old = Observations(), ago(1)
    seen.expired(Tag("a", old), now=0.0)
    assert not seen.expired(Tag("b", old), now=EXPIRY_S + 1)
    assert seen.expired(Tag("a", old), now=EXPIRY_S + 1)
