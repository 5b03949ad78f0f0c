from __future__ import annotations

from zenml import pipeline

from jobs.gc.params import GcParams
from jobs.gc.steps import collect_garbage


@pipeline(enable_cache=False)
def gc(params: GcParams) -> None:
    collect_garbage(params)
