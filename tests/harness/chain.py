"""A local store and `requires`-style helpers that build the state a test needs, once.

`chain` (tests/conftest.py) gives each test module one such store; no test relies on another
having run: each asks for what it needs, which is built when missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.harness.runner import WORSE, JobRunner, ok


@dataclass
class LocalChain:
    """A local store and `requires`-style helpers that build what a test needs, once."""

    jobs: JobRunner
    published: bool = False

    @property
    def serving_state(self) -> Path:
        return self.jobs.workdir / ".handoff" / "serving"

    def datasets(self) -> None:
        """Both datasets published twice: as version raw_2023 (tagged), then as ZenML's "1"."""
        if not self.published:
            ok(
                self.jobs.job(
                    "feature_engineering", "--version", "raw_2023", "--tags", "[raw, y2023]"
                )
            )
            ok(self.jobs.job("feature_engineering", "--random-state", "7"))
            self.published = True

    def champion(self) -> int:
        """The production version, trained (with the shipped defaults) if there is none."""
        self.datasets()
        production = self.jobs.production()
        if production is None:
            out = ok(self.jobs.job("training"))
            # The first model needs only the threshold.
            assert "-> production" in out and "no production version yet" in out, out
            production = self.jobs.production()
        assert production is not None
        return production

    def staging(self) -> int:
        """The newest version in staging, trained as the worse stump if there is none."""
        self.champion()
        staged = [n for n, stage in self.jobs.stages().items() if stage == "staging"]
        if not staged:
            ok(self.jobs.job("training", *WORSE))
            staged = [n for n, stage in self.jobs.stages().items() if stage == "staging"]
        return max(staged)
