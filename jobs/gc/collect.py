"""One collection: take the inventory, plan by the rules, and list (dry run) or delete each item,
one line per item saying what, why and how many bytes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from jobs.common.data import partitions
from jobs.gc import inventory, retention
from jobs.gc.params import GcParams, Summary

log = logging.getLogger("handoff")
SUMMARY_KEY = "gc"
KINDS = ("predictions", "model_version", "dataset", "leftover")


def rules(params: GcParams) -> retention.Rules:
    return retention.Rules(
        keep_last=params.keep_last,
        keep_days=params.keep_days,
        keep_archived=params.keep_archived,
        keep_datasets=params.keep_datasets,
        orphan_age=partitions.parse_duration(params.orphan_age, "orphan_age"),
    )


def plan(params: GcParams) -> retention.Plan:
    return retention.plan(inventory.take(params), rules(params), datetime.now(UTC))


def dry_run(params: GcParams, say: Callable[[str], None] = print) -> Summary:
    found = plan(params)
    for deletion in found.deletions:
        say(f"would delete {line(deletion)}")
    summary = summarize(found, applied=False)
    say(
        f"dry run: {total(summary)}, {summary.bytes} of {summary.store_bytes} bytes in the "
        "artifact store; rerun with --apply to delete them"
    )
    return summary


def apply(params: GcParams, say: Callable[[str], None] = print) -> Summary:
    from jobs.common.store.model_registry import promotion_lock
    from jobs.gc import sweep

    found = plan(params)
    skipped = []
    for deletion in found.deletions:
        if deletion.kind == "model_version":
            # Under the promotion lock, and only if it is still in no kept stage.
            with promotion_lock(params.model_name):
                stage = _stage_now(params.model_name, deletion)
                if stage in (retention.PRODUCTION, retention.STAGING):
                    skipped.append(f"{deletion.what}: now in {stage}")
                    say(f"kept {deletion.what}: it was moved to {stage} meanwhile")
                    continue
                sweep.execute(deletion)
        else:
            sweep.execute(deletion)
        say(f"deleted {line(deletion)}")
    summary = summarize(found, applied=True, skipped=skipped)
    say(f"deleted {total(summary)}: {summary.bytes} of {summary.store_bytes} bytes freed")
    return summary


def line(deletion: retention.Deletion) -> str:
    return f"{deletion.kind} {deletion.what}: {deletion.bytes} bytes ({deletion.rule})"


def summarize(found: retention.Plan, applied: bool, skipped: list[str] | None = None) -> Summary:
    skipped = skipped or []
    return Summary(
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        applied=applied,
        deleted={kind: found.count(kind) for kind in KINDS},
        bytes=found.bytes,
        store_bytes=found.store_bytes,
        skipped=skipped,
    )


def total(summary: Summary) -> str:
    count = sum(summary.deleted.values())
    parts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in summary.deleted.items() if n)
    return f"{count} item(s)" + (f" ({parts})" if parts else "")


def _stage_now(model_name: str, deletion: retention.Deletion) -> str | None:
    from zenml.client import Client

    try:
        version = Client().get_model_version(model_name, deletion.model_version)
    except KeyError:
        return None
    return str(getattr(version.stage, "value", version.stage) or "") or None
