"""Starts as files: one JSON event per start in a directory, for ``handoff chain`` to run each
as its own process (the local stand-in for Jobs made from CronJobs)."""

from __future__ import annotations

import json
from pathlib import Path

from jobs.common.chaining.starts import Outcome, Start


class EventLauncher:
    """One JSON file per start in a directory; the file's name is the start's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def where(self) -> str:
        return f"events in {self.directory}"

    def start(self, start: Start) -> Outcome:
        try:
            with open(self.directory / f"{start.name}.json", "x") as event:
                event.write(start.to_json())
        except FileExistsError:
            return Outcome.ALREADY_STARTED
        return Outcome.STARTED

    def report(self, start: Start, outcome: Outcome, line: str) -> None:
        """Nothing to tell beyond the upstream's own log line and run metadata."""


def read_events(directory: Path) -> list[Start]:
    """The starts written to ``directory``, oldest first."""
    found = [json.loads(p.read_text()) | {"text": p.read_text()} for p in directory.glob("*.json")]
    found.sort(key=lambda e: (e["created_ns"], e["name"]))
    return [Start.from_json(e["text"]) for e in found]
