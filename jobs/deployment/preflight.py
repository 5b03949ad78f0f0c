"""The deployment job's checks before it runs a pipeline, as plain functions of what it read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobs.common.runtime.errors import PreconditionNotMet
from jobs.deployment.targets.base import Live


def nothing_to_do(kind: str, live: Live | None, model_name: str, version: str) -> str | None:
    """What to say when the target already serves ``version`` and will keep doing so (nothing
    half rolled out or unpinned); None when there is a rollout to do."""
    if live is None or live.version != version or not live.steady:
        return None
    return (
        f"{kind} target at {live.endpoint} already serves {model_name} "
        f"version {version}; nothing to do"
    )


def target_column(metadata: Mapping[str, Any], model_name: str, version: str) -> str:
    """The label column of the version's training data: the smoke test sends rows without it."""
    column = metadata.get("target_column")
    if not column:
        raise PreconditionNotMet(
            f"{model_name} version {version} has no recorded "
            "target_column; retrain it with the training job"
        )
    return str(column)
