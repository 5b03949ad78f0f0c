"""The promotion decision: a plain function of the numbers, unit-tested without ZenML."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PRODUCTION = "production"
STAGING = "staging"
LOWER_IS_BETTER = frozenset({"rmse", "mae"})
"""Error metrics: the smaller wins, and no threshold applies (they have the target's unit);
the trivial baseline is their bar."""


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
    baseline: float | None = None

    def as_metadata(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def better(metric: str, a: float, b: float) -> bool:
    """``a`` is at least as good as ``b`` on ``metric``."""
    return a <= b if metric in LOWER_IS_BETTER else a >= b


def decide(
    candidate: float,
    champion: float | None,
    threshold: float,
    *,
    metric: str = "accuracy",
    champion_version: str | None = None,
    baseline: float | None = None,
) -> Decision:
    """Production only if the candidate passes the threshold (a score; an error metric has
    none), beats the trivial baseline when one is given, and is at least as good as the
    current production version; the very first model needs only the bars."""
    lower = metric in LOWER_IS_BETTER
    if not lower and candidate < threshold:
        promote, reason = False, f"{metric} {candidate:.4f} is below the threshold {threshold:.4f}"
    elif baseline is not None and (
        candidate == baseline or not better(metric, candidate, baseline)
    ):
        promote, reason = (
            False,
            f"{metric} {candidate:.4f} is no better than the trivial baseline's {baseline:.4f}",
        )
    elif champion is None:
        bar = "beats the trivial baseline" if lower else f"passes the threshold {threshold:.4f}"
        promote, reason = (
            True,
            f"{metric} {candidate:.4f} {bar} and there is no production version yet",
        )
    elif not better(metric, candidate, champion):
        promote, reason = (
            False,
            (
                f"{metric} {candidate:.4f} is worse than production version "
                f"{champion_version} ({champion:.4f})"
            ),
        )
    else:
        bar = "beats the trivial baseline" if lower else f"passes the threshold {threshold:.4f}"
        promote, reason = (
            True,
            (
                f"{metric} {candidate:.4f} {bar} and is at least as "
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
        baseline=baseline,
    )
