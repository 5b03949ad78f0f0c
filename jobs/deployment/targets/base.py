"""The interface every deployment target implements, and the values passed between its calls.

A rollout asks a target what it serves now (``live``), what it would do to serve a release
(``prepare``, which changes nothing), to bring that up and say where to smoke-test it
(``deploy``), to send clients to it and retire what served before (``switch``), or to put the
previous state back (``restore``). Whatever a later call needs from an earlier one travels in the
plan ``prepare`` returned: a target keeps no rollout state of its own between calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class Release:
    """A model version to serve, and the artifact of it that holds the model."""

    model_name: str
    version: str
    model_artifact: str


@dataclass(frozen=True)
class Live:
    version: str
    endpoint: str
    since: str | None = None
    previous_version: str | None = None
    steady: bool = True
    """Serves ``version`` and will keep doing so: nothing is half rolled out or unpinned."""


Plan = TypeVar("Plan")


class Target(Protocol[Plan]):
    @property
    def kind(self) -> str:
        """``local``, ``docker`` or ``kubernetes``: what the records and messages call it."""
        ...

    @property
    def endpoint(self) -> str:
        """Where clients reach the model; stays the same across versions."""
        ...

    def live(self) -> Live | None: ...

    def prepare(self, release: Release) -> Plan:
        """What ``deploy`` will do to serve ``release``, read off the target; changes nothing."""
        ...

    def deploy(self, plan: Plan) -> str:
        """Bring the planned release up and ready; return the URL to smoke-test it at."""
        ...

    def switch(self, plan: Plan) -> None:
        """Send clients to what ``deploy`` brought up and retire what served before."""
        ...

    def restore(self, before: Live | None, release: Release, plan: Plan | None) -> None:
        """After a failed deploy, smoke test or switch: serve ``before`` again (or nothing).

        ``plan`` is None when preparing itself failed (nothing was changed then); ``release``
        names the model and artifact to bring ``before.version`` back with.
        """
        ...
