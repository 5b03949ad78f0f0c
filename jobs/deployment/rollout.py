"""Deploy a version, prove it answers with real rows, and put the old one back if it does not."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pandas as pd

from jobs.common.store.model_registry import now
from jobs.deployment.record import DEPLOYED, ROLLED_BACK
from jobs.deployment.targets.base import Release, Target

log = logging.getLogger("handoff")


class SmokeTestFailed(Exception):
    pass


def smoke_test(endpoint: str, rows: pd.DataFrame, version: str) -> None:
    records = rows.to_dict(orient="records")
    try:
        response = httpx.post(endpoint + "/predict", json={"records": records}, timeout=30)
    except httpx.HTTPError as err:
        raise SmokeTestFailed(f"POST {endpoint}/predict: {type(err).__name__}: {err}") from err
    if response.status_code != 200:
        raise SmokeTestFailed(
            f"POST {endpoint}/predict answered {response.status_code}: {response.text[:200]}"
        )
    body = response.json()
    if body.get("version") != version or len(body.get("predictions", [])) != len(records):
        raise SmokeTestFailed(
            f"{endpoint} answered version {body.get('version')} with "
            f"{len(body.get('predictions', []))} predictions; expected "
            f"version {version} with {len(records)}"
        )


def rollout(target: Target[Any], release: Release, rows: pd.DataFrame) -> dict[str, Any]:
    """Returns the deployment record (see ``record``); ``status`` is deployed or rolled_back.

    Clients are switched only after the new version answered the smoke test where the target
    said to test it; any failure up to and including the switch puts the previous state back.
    """
    before = target.live()
    record: dict[str, Any] = {
        "target": target.kind,
        "endpoint": target.endpoint,
        "version": release.version,
        "previous_version": before.version if before else None,
        "time": now(),
        "smoke_rows": len(rows),
    }
    plan = None
    try:
        plan = target.prepare(release)
        candidate = target.deploy(plan)
        smoke_test(candidate, rows, release.version)
        target.switch(plan)
    except Exception as err:  # noqa: BLE001 - any failure means: put the old version back
        log.error("deploying version %s to %s failed: %s", release.version, target.kind, err)
        record.update(status=ROLLED_BACK, error=_one_line(err))
        try:
            target.restore(before, release, plan)
        except Exception as again:  # noqa: BLE001 - recorded, and the job still exits non-zero
            log.error(
                "restoring %s on %s failed too: %s",
                f"version {before.version}" if before else "the previous state",
                target.kind,
                again,
            )
            record["restore_error"] = _one_line(again)
        return record
    record["status"] = DEPLOYED
    return record


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
