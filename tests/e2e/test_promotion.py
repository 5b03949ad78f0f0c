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
