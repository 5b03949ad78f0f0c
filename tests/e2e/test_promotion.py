"""The promotion step's body, `model_registry.promote_if_earned`, on a throwaway local store:
without a pipeline run, against real model versions and their records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.harness.runner import REPO, local_runner, ok

# Runs in its own process: ZenML's global config must not leak into the test process.
SCENARIO = """
import json
from zenml.client import Client
from jobs.common.store import model_registry

def candidate(accuracy):
    number = Client().create_model_version(model_name_or_id="m").number
    model_registry.record("m", number, "metrics", {"accuracy": accuracy})
    return number

def promote(number):
    return model_registry.promote_if_earned(
        "m", number, {"accuracy": model_registry.metric_of(model_registry.get_version("m", number),
        "accuracy")}, "accuracy", 0.9, decided_by="test")

Client().create_model(name="m")
first = candidate(0.95)
out = {"first": promote(first)}
out["worse"] = promote(candidate(0.92))
out["retry"] = promote(first)
out["better"] = promote(candidate(0.97))
versions = Client().list_model_versions(model="m", sort_by="asc:number", size=10, hydrate=True)
out["stages"] = [str(getattr(v.stage, "value", v.stage)) for v in versions.items]
print(json.dumps(out))
"""


def test_a_candidate_is_judged_against_the_champion_and_a_retry_keeps_the_record(
    tmp_path: Path,
):
    jobs = local_runner(tmp_path).with_env(PYTHONPATH=str(REPO))
    out = json.loads(ok(jobs.run(sys.executable, "-c", SCENARIO)).strip().splitlines()[-1])
    assert out["first"]["stage"] == "production"
    assert "no production version yet" in out["first"]["reason"]
    assert out["worse"]["stage"] == "staging"
    assert "worse than production version 1" in out["worse"]["reason"]
    assert out["retry"] == out["first"], "a retry after success keeps the record it wrote"
    assert out["better"]["stage"] == "production"
    assert out["better"]["previous_production"] == "1"
    assert out["stages"] == ["archived", "staging", "production"]


LIVE_SCENARIO = """
import json
from zenml.client import Client
from jobs.common.store import model_registry
from jobs.common.store.promotion import LivePartition, decide_live

Client().create_model(name="m")
for stage in ("production", "staging", "staging", "archived"):
    number = Client().create_model_version(model_name_or_id="m").number
    model_registry.set_stage("m", number, stage, decided_by="test", reason="set up")
measured = [LivePartition("2026-10-01", 0.8, 0.9), LivePartition("2026-10-02", 0.7, 0.95)]
won = decide_live("accuracy", measured, 2)
lost = decide_live("accuracy", measured[:1], 2)
out = {"newest_staging": model_registry.newest_staging("m").number}
out["lost"] = model_registry.promote_challenger("m", "3", "1", lost, decided_by="test")
out["stale_champion"] = model_registry.promote_challenger("m", "3", "4", won, decided_by="test")
out["not_staging"] = model_registry.promote_challenger("m", "4", "1", won, decided_by="test")
out["promoted"] = model_registry.promote_challenger("m", "3", "1", won, decided_by="monitoring")
out["retry"] = model_registry.promote_challenger("m", "3", "1", won, decided_by="monitoring")
versions = Client().list_model_versions(model="m", sort_by="asc:number", size=10, hydrate=True)
out["stages"] = [str(getattr(v.stage, "value", v.stage)) for v in versions.items]
print(json.dumps(out))
"""


def test_a_challenger_promoted_on_live_evidence_gets_the_same_record_once(tmp_path: Path):
    jobs = local_runner(tmp_path).with_env(PYTHONPATH=str(REPO))
    out = json.loads(ok(jobs.run(sys.executable, "-c", LIVE_SCENARIO)).strip().splitlines()[-1])
    assert out["newest_staging"] == 3
    # No decision, a champion that changed, a version not in staging: nothing moves.
    assert out["lost"] is None and out["stale_champion"] is None and out["not_staging"] is None
    record = out["promoted"]
    assert (record["stage"], record["basis"], record["previous_production"]) == (
        "production",
        "live",
        "1",
    )
    assert record["decided_by"] == "monitoring" and record["champion_version"] == "1"
    assert record["evidence"] == [
        {"partition": "2026-10-01", "champion": 0.8, "challenger": 0.9},
        {"partition": "2026-10-02", "champion": 0.7, "challenger": 0.95},
    ]
    assert out["retry"] == record, "a retry after success keeps the record it wrote"
    # (ZenML keeps one version per stage: staging version 3 archived version 2.)
    assert out["stages"] == ["archived", "archived", "production", "archived"]
