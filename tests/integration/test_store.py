"""The store adapter's assumptions about ZenML 0.98, on a real local store: what the leases rest
on (a tag's name is unique; renewing a tag moves its `updated`) and the run-status call that
ZenML has no public API for. A ZenML upgrade that changes either fails here first."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.harness.runner import REPO, JobRunner, local_runner


def check(store: JobRunner, what: str) -> dict:
    result = store._run(
        [sys.executable, "-m", "tests.harness.store_checks", what], PYTHONPATH=str(REPO)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_held_lease_is_renewed_exclusive_and_free_once_released(tmp_path: Path):
    found = check(local_runner(tmp_path), "lease_renewal")
    assert found["renewed"], "renewing the lease's tag must move its `updated` (expiry rests on it)"
    assert not found["rival_held"], "a second holder took a held lease"
    assert found["holder"], "the holder is not recorded"
    assert found["free_after_release"]


def test_an_unfinished_run_marked_failed_reads_back_failed_with_the_reason(tmp_path: Path):
    store = local_runner(tmp_path)
    store.probe("artifacts", "none")  # the store exists before two processes open it at once
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.harness.store_checks", "hold"],
        env={**store._process_env(), "PYTHONPATH": str(REPO)},
        cwd=store.workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        found = check(store, "mark_failed")
    finally:
        holder.kill()
        holder.wait()
    assert found == {
        "status": "failed",
        "steps": ["failed"],
        "reason": "checked by the tests",
        "recorded": "checked by the tests",
    }
