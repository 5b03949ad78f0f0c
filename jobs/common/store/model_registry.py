"""Model versions and their stages on the ZenML model control plane.

Every stage change goes through here, so each one leaves the same record on the model version:
metadata key ``promotion`` with the stage, the numbers, the reason, who decided, when, and which
version was production before (what ``handoff rollback`` restores).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from jobs.common.runtime.errors import BadInput, PreconditionNotMet, Unavailable
from jobs.common.store.promotion import PRODUCTION, STAGING, Decision, LiveDecision, decide

PROMOTION_KEY = "promotion"
STAGES = ("production", "staging", "archived", "none")
AUTO: Any = object()


LOCK_WAIT_S = 300.0


def lock_name(model_name: str) -> str:
    return f"handoff-promotion-lock-{model_name}"


@contextmanager
def promotion_lock(model_name: str, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Serialise stage changes of one model across processes and pods.

    ZenML archives the old production version and sets the new one in two steps, so two jobs
    promoting at once can both end in production, and each decides against a champion that is
    about to change. The lock is a lease (``jobs.common.store.leases``): it names its holder, is
    renewed while held, and a holder that died (SIGKILL, OOM) frees it within ``EXPIRY_S``
    seconds; a live holder, however slow, is never broken.
    """
    from jobs.common.store import leases

    name = lock_name(model_name)
    try:
        with leases.held(name, wait_s) as lease:
            yield
    except leases.StillHeld as err:
        raise Unavailable(
            f"{err.holder or 'another job'} has held the promotion lock of {model_name} for "
            f"over {wait_s:.0f}s and is still alive (tag {name})"
        ) from err
    if lease.lost:
        raise Unavailable(
            f"the promotion lock of {model_name} was broken while held (no renewal reached the "
            "server for too long); check the model's stages with `handoff status`"
        )


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def production_version(model_name: str) -> Any:  # a zenml ModelVersionResponse, or None
    from zenml.client import Client
    from zenml.enums import ModelStages

    try:
        return Client().get_model_version(model_name, ModelStages.PRODUCTION)
    except KeyError:
        return None


def newest_version(model_name: str) -> Any:  # a zenml ModelVersionResponse, or None
    """The model's newest version, whatever its stage (a model without versions: None)."""
    from zenml.client import Client

    try:
        return Client().get_model_version(model_name)
    except KeyError:
        return None


def newest_staging(model_name: str) -> Any:  # a zenml ModelVersionResponse, or None
    """The newest version in staging (the challenger), or None."""
    from zenml.client import Client

    found = Client().list_model_versions(
        model=model_name, stage=STAGING, sort_by="desc:number", size=1, hydrate=True
    )
    return found.items[0] if found.items else None


def require_production(model_name: str, job: str = "training") -> Any:  # ModelVersionResponse
    version = production_version(model_name)
    if version is None:
        raise PreconditionNotMet(
            f"model {model_name!r} has no production version yet; run the {job} job first "
            f"(or promote a version: handoff promote {model_name} <version>)"
        )
    return version


def get_version(model_name: str, version: str | int) -> Any:  # a zenml ModelVersionResponse
    from zenml.client import Client

    try:
        return Client().get_model_version(model_name, _version_key(version))
    except KeyError as err:
        raise BadInput(f"model {model_name!r} has no version {version!r}") from err


def metric_of(version: Any, metric: str) -> float | None:
    value = version.run_metadata.get("metrics", {}).get(metric)
    return None if value is None else float(value)


def record(model_name: str, version: str | int, key: str, value: dict[str, Any]) -> dict[str, Any]:
    """Log ``value`` without its empty entries under ``key``; return what was logged."""
    from zenml import log_metadata

    clean = {k: v for k, v in value.items() if v is not None}
    log_metadata(metadata={key: clean}, model_name=model_name, model_version=_version_key(version))
    return clean


def set_stage(
    model_name: str,
    version: str | int,
    stage: str,
    *,
    decided_by: str,
    reason: str,
    details: dict[str, Any] | None = None,
    previous_production: str | None = AUTO,
) -> dict[str, Any]:
    """Move one version to a stage (production archives the old one) and record why.

    ``previous_production`` is what a later rollback restores; by default the version that was
    production until now.
    """
    if stage not in STAGES:
        raise BadInput(f"unknown stage {stage!r}; use one of {', '.join(STAGES)}")
    target = get_version(model_name, version)
    previous = production_version(model_name)
    entry: dict[str, Any] = {
        **(details or {}),
        "stage": stage,
        "reason": reason,
        "decided_by": decided_by,
        "time": now(),
    }
    if stage == PRODUCTION:
        if previous_production is AUTO:
            same = previous is None or previous.id == target.id
            previous_production = None if same else str(previous.number)
        entry["previous_production"] = previous_production
    target.set_stage(stage, force=True)
    if stage == PRODUCTION:
        _archive_other_production_versions(model_name, keep=target.id)
    return record(model_name, target.number, PROMOTION_KEY, entry)


def _archive_other_production_versions(model_name: str, keep: Any) -> None:
    """Enforce one production version even if a stage was changed outside handoff's lock."""
    from zenml.client import Client
    from zenml.enums import ModelStages

    others = Client().list_model_versions(model=model_name, stage=ModelStages.PRODUCTION, size=50)
    for other in others.items:
        if other.id != keep:
            other.set_stage(ModelStages.ARCHIVED, force=True)


def apply_decision(
    model_name: str, version: str | int, decision: Decision, decided_by: str
) -> dict[str, Any]:
    return set_stage(
        model_name,
        version,
        decision.stage,
        decided_by=decided_by,
        reason=decision.reason,
        details=decision.as_metadata(),
    )


def promote_if_earned(
    model_name: str,
    version: int,
    metrics: dict[str, float],
    metric: str,
    threshold: float,
    decided_by: str,
    baseline: float | None = None,
) -> dict[str, Any]:
    """Judge a freshly trained version against the current production version and move it to
    production or staging; return the record left on it.

    Decision and action happen under one lock, so the champion cannot change in between. Run
    again after it succeeded (a retried step), it finds the version already in production and
    returns the record it wrote instead of judging the version against itself.
    """
    with promotion_lock(model_name):
        champion = production_version(model_name)
        if champion is not None and champion.number == version:
            return dict(champion.run_metadata.get(PROMOTION_KEY, {}))
        decision = decide(
            metrics[metric],
            None if champion is None else metric_of(champion, metric),
            threshold,
            metric=metric,
            champion_version=None if champion is None else str(champion.number),
            baseline=baseline,
        )
        return apply_decision(model_name, version, decision, decided_by=decided_by)


def promote_challenger(
    model_name: str, challenger: str, champion: str, decision: LiveDecision, decided_by: str
) -> dict[str, Any] | None:
    """Move the ``challenger`` to production on a live ``decision`` made against ``champion``;
    return the record left on it, or None when nothing moved: the champion changed meanwhile
    (the evidence was about another one), or the challenger left staging. Under the same lock,
    and with the same record, as :func:`promote_if_earned`; run again after it succeeded, it
    finds the challenger in production and returns the record it wrote."""
    if not decision.promote:
        return None
    with promotion_lock(model_name):
        production = production_version(model_name)
        current = None if production is None else str(production.number)
        if current == challenger:
            return dict(production.run_metadata.get(PROMOTION_KEY, {}))
        target = get_version(model_name, challenger)
        if current != champion or str(getattr(target.stage, "value", target.stage)) != STAGING:
            return None
        values = decision.evidence
        details = {
            **decision.as_metadata(),
            "promote": True,
            "candidate": sum(p.challenger for p in values) / len(values),
            "champion": sum(p.champion for p in values) / len(values),
            "champion_version": champion,
        }
        return set_stage(
            model_name,
            challenger,
            PRODUCTION,
            decided_by=decided_by,
            reason=decision.reason,
            details=details,
        )


def rollback(model_name: str, decided_by: str) -> tuple[str, str]:
    """Put back the version that was production before the current one, from its record."""
    with promotion_lock(model_name):
        return _rollback(model_name, decided_by)


def _rollback(model_name: str, decided_by: str) -> tuple[str, str]:
    current = require_production(model_name)
    last = current.run_metadata.get(PROMOTION_KEY, {})
    previous = last.get("previous_production")
    if not previous:
        raise PreconditionNotMet(
            f"model {model_name!r} version {current.number} has no recorded previous production "
            "version to roll back to"
        )
    # Walk further back on the next rollback instead of toggling between two versions.
    before = get_version(model_name, previous).run_metadata.get(PROMOTION_KEY, {})
    set_stage(
        model_name,
        previous,
        PRODUCTION,
        decided_by=decided_by,
        reason=f"rollback from version {current.number}",
        details={"rolled_back_from": str(current.number)},
        previous_production=before.get("previous_production"),
    )
    return str(current.number), str(previous)


def _version_key(version: str | int) -> str | int:
    text = str(version)
    return int(text) if text.isdigit() else text
