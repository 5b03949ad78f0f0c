"""What one collection is given: the rules and the names, from settings to the pipeline's step.
Plain pydantic, no ZenML, so ``--help`` stays fast."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from jobs.common.runtime.settings import JobSettings


class GcParams(JobSettings):
    """The names (of ``JobSettings``) and the retention rules."""

    model_config = ConfigDict(extra="forbid")

    keep_last: int
    keep_days: int | None
    keep_archived: int
    keep_datasets: int
    orphan_age: str


class Summary(BaseModel):
    """What a collection removed: the record ``handoff status`` shows."""

    time: str
    applied: bool
    deleted: dict[str, int]
    bytes: int
    store_bytes: int
    """The artifact store's size before this collection."""
    skipped: list[str] = []
