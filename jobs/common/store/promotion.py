"""The promotion decision: a plain function of the numbers, unit-tested without ZenML."""

from __future__ import annotations

from collections.abc import Iterable
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


LIVE = "live"
"""The basis of a promotion decided on live labels (monitoring), not on the testing dataset."""


@dataclass(frozen=True)
class LivePartition:
    """One labelled partition measured under both models: the champion's realized value on its
    predictions, the challenger's on its shadow predictions (the same labelled rows)."""

    partition: str
    champion: float
    challenger: float
    look_ahead: bool = False
    """Its data is not newer than either model's training data: it judges neither."""


@dataclass(frozen=True)
class LiveDecision:
    """Whether the challenger beat the champion on live labels, why, and on what."""

    promote: bool
    reason: str
    metric: str
    evidence: tuple[LivePartition, ...] = ()
    """The partitions the decision was made on, oldest first (empty: too few to decide)."""

    def as_metadata(self) -> dict[str, Any]:
        """The promotion record's part: the basis, the metric and every partition's values."""
        return {
            "basis": LIVE,
            "metric": self.metric,
            "evidence": [
                {"partition": p.partition, "champion": p.champion, "challenger": p.challenger}
                for p in self.evidence
            ],
        }


def decide_live(
    metric: str, measured: Iterable[LivePartition], partitions: int, challenger: str = "challenger"
) -> LiveDecision:
    """Promote the challenger only if it is strictly better than the champion on each of the
    last ``partitions`` labelled partitions (by key); look-ahead partitions do not count, and
    with fewer than ``partitions`` of them there is no decision (nothing is promoted)."""
    counted = sorted((p for p in measured if not p.look_ahead), key=lambda p: p.partition)
    last = tuple(counted[-partitions:])
    if len(last) < partitions:
        return LiveDecision(
            False,
            f"{challenger} is measured on {len(last)} of the {partitions} labelled partition(s) "
            "a live decision needs; no decision yet",
            metric,
        )
    # Strictly better: a tie is the champion's (it is in production already).
    lost = [p for p in last if better(metric, p.champion, p.challenger)]
    values = ", ".join(f"{p.partition} {p.challenger:.4f} vs {p.champion:.4f}" for p in last)
    if lost:
        return LiveDecision(
            False,
            f"{challenger} is not better than production on {len(lost)} of the last "
            f"{len(last)} labelled partition(s) ({metric}: {values})",
            metric,
            last,
        )
    return LiveDecision(
        True,
        f"{challenger} beat production on each of the last {len(last)} labelled partition(s) "
        f"on live labels ({metric}: {values})",
        metric,
        last,
    )
