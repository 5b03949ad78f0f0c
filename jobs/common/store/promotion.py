"""The promotion decision: a plain function of the numbers, unit-tested without ZenML."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PRODUCTION = "production"
STAGING = "staging"


@dataclass(frozen=True)
class Decision:
    promote: bool
    stage: str
    reason: str
    metric: str
    candidate: float
    threshold: float
    champion: float | None = None
    champion_version: str | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def decide(
    candidate: float,
    champion: float | None,
    threshold: float,
    *,
    metric: str = "accuracy",
    champion_version: str | None = None,
) -> Decision:
    """Production only if the candidate passes the threshold and is at least as good as the
    current production version; the very first model needs only the threshold."""
    if candidate < threshold:
        promote, reason = False, f"{metric} {candidate:.4f} is below the threshold {threshold:.4f}"
    elif champion is None:
        promote, reason = (
            True,
            (
                f"{metric} {candidate:.4f} passes the threshold {threshold:.4f} "
                "and there is no production version yet"
            ),
        )
    elif candidate < champion:
        promote, reason = (
            False,
            (
                f"{metric} {candidate:.4f} is worse than production version "
                f"{champion_version} ({champion:.4f})"
            ),
        )
    else:
        promote, reason = (
            True,
            (
                f"{metric} {candidate:.4f} passes the threshold {threshold:.4f} and is at least as "
                f"good as production version {champion_version} ({champion:.4f})"
            ),
        )
    return Decision(
        promote=promote,
        stage=PRODUCTION if promote else STAGING,
        reason=reason,
        metric=metric,
        candidate=candidate,
        threshold=threshold,
        champion=champion,
        champion_version=champion_version,
    )
