"""Leases on the ZenML server: an exclusive, named hold whose holder proves it is alive.

A lease is a ZenML tag. Tag names are unique on the server, so creating one is an atomic
test-and-set: whoever creates it holds it. While held, a daemon thread renews it every
``RENEW_S`` (any update refreshes the tag's ``updated`` time). A holder that died — SIGKILL, an
OOM kill, a lost node — stops renewing, and once nobody has seen a renewal for ``EXPIRY_S`` the
lease is expired: a waiter breaks it within seconds, while a live holder, however slow, keeps it.
A second tag ``<name>.held-by.<host>.<pid>.<token>.<lease id>`` records who holds it, for the
messages and the dashboard.

Expiry is judged by observation (the ``updated`` time did not move for ``EXPIRY_S`` of the
observer's own clock), so clock skew between pods cannot break a live lease; a lease whose
last renewal is already ``STALE_S`` old on the server's clock is expired at first sight.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("handoff")

RENEW_S = 3.0
EXPIRY_S = 20.0
STALE_S = 45.0
HELD_BY = ".held-by."


def holder_name() -> str:
    """Who this process is: host (the pod's name in Kubernetes), pid and a random token."""
    host = socket.gethostname().split(".")[0][:60] or "unknown-host"
    return f"{host}.{os.getpid()}.{secrets.token_hex(3)}"


@dataclass
class Observations:
    """When each lease's last renewal was first seen, on this process's monotonic clock."""

    seen: dict[Any, tuple[datetime, float]] = field(default_factory=dict)

    def expired(self, tag: Any, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        updated = tag.updated
        first = self.seen.get(tag.id)
        if first is None or first[0] != updated:
            self.seen[tag.id] = (updated, now)
            return age_s(updated) > STALE_S
        return now - first[1] >= EXPIRY_S


def age_s(stamp: datetime) -> float:
    """Seconds since a server timestamp (ZenML stores naive UTC)."""
    aware = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return (datetime.now(UTC) - aware).total_seconds()


class Lease:
    """One held lease: renewed by a daemon thread until ``release``; ``lost`` if broken."""

    def __init__(self, name: str, tag_id: Any, holder: str) -> None:
        self.name = name
        self.holder = holder
        self.lost = False
        self._tag_id = tag_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease {name}", daemon=True)

    def _renew(self) -> None:
        from zenml.client import Client

        client = Client()
        while not self._stop.wait(RENEW_S):
            try:
                client.update_tag(self._tag_id, exclusive=False)
            except KeyError:
                self.lost = True
                log.error("lease %s was broken by another process; it is no longer held", self.name)
                return
            except Exception as err:  # noqa: BLE001 - the server may come back before expiry
                log.warning("cannot renew lease %s: %s", self.name, err)

    def release(self) -> None:
        from zenml.client import Client

        self._stop.set()
        self._thread.join(timeout=RENEW_S * 2)
        client = Client()
        for tag in (self._tag_id, f"{self.name}{HELD_BY}{self.holder}"):
            try:
                client.delete_tag(tag)
            except KeyError:
                pass  # broken meanwhile, or never written
            except Exception as err:  # noqa: BLE001 - it expires on its own
                log.warning("cannot release lease %s (it expires by itself): %s", self.name, err)


def try_acquire(name: str, observed: Observations, holder: str | None = None) -> Lease | None:
    """Take the lease if it is free or its holder died; None if a live holder has it."""
    from zenml.client import Client
    from zenml.exceptions import EntityExistsError

    client = Client()
    holder = holder or holder_name()
    try:
        tag = client.create_tag(name=name)
    except EntityExistsError:
        try:
            held = client.get_tag(name, allow_name_prefix_match=False, hydrate=False)
        except KeyError:
            return None  # released meanwhile: the caller tries again at once
        if observed.expired(held):
            log.warning(
                "breaking lease %s of %s: no renewal for %.0fs",
                name,
                current_holder(name) or "an unknown holder",
                max(age_s(held.updated), EXPIRY_S),
            )
            break_lease(name, held.id)
        return None
    lease = Lease(name, tag.id, f"{holder}{_id_suffix(tag.id)}")
    try:
        client.create_tag(name=f"{name}{HELD_BY}{lease.holder}")
    except Exception as err:  # noqa: BLE001 - only a description; the lease itself is held
        log.warning("cannot record the holder of %s: %s", name, err)
    lease._thread.start()
    return lease


def break_lease(name: str, tag_id: Any) -> None:
    """Delete an expired lease (by id: a fresh lease of the same name is never touched)."""
    from zenml.client import Client

    client = Client()
    for stale in _holder_tags(name):
        if stale.name.endswith(_id_suffix(tag_id)):
            _delete_quietly(client, stale.id)
    _delete_quietly(client, tag_id)


def _id_suffix(tag_id: Any) -> str:
    return f".{str(tag_id)[:8]}"


def current_holder(name: str) -> str | None:
    tags = _holder_tags(name)
    return tags[-1].name.split(HELD_BY, 1)[1] if tags else None


def _holder_tags(name: str) -> list[Any]:
    from zenml.client import Client

    page = Client().list_tags(name=f"startswith:{name}{HELD_BY}", sort_by="asc:created", size=50)
    return list(page.items)


def _delete_quietly(client: Any, tag_id: Any) -> None:
    with contextlib.suppress(KeyError):  # another waiter broke it first
        client.delete_tag(tag_id)


class StillHeld(Exception):
    """A live holder kept the lease for longer than the caller would wait."""

    def __init__(self, name: str, holder: str | None, wait_s: float) -> None:
        super().__init__(f"{holder or 'another process'} has held {name} for over {wait_s:.0f}s")
        self.holder = holder


@contextlib.contextmanager
def held(name: str, wait_s: float) -> Iterator[Lease]:
    """Hold lease ``name`` for the block, waiting up to ``wait_s`` for a live holder (a dead
    one's lease is broken once expired); ``StillHeld`` if a live holder keeps it that long."""
    import random

    observed = Observations()
    deadline = time.monotonic() + wait_s
    while (lease := try_acquire(name, observed)) is None:
        if time.monotonic() > deadline:
            raise StillHeld(name, current_holder(name), wait_s)
        time.sleep(0.2 + random.random() * 0.5)
    try:
        yield lease
    finally:
        lease.release()
