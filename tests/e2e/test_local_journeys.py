"""The local chain's longer journey: inference follows production through a promotion by hand
and a rollback (four job runs and two CLI calls, ~1 min), on ZenML's embedded local store."""

from __future__ import annotations

from pathlib import Path

from tests.harness.chain import LocalChain
from tests.harness.runner import ok


def test_inference_follows_production_through_promote_and_rollback(
    chain: LocalChain, tmp_path: Path
):
    staging = chain.staging()
    champion = chain.champion()
    output = tmp_path / "predictions.csv"
    out = ok(chain.jobs.job("batch_inference", "--output", str(output)))
    assert f"iris_classifier version {champion}" in out
    first = chain.jobs.probe("last_output", "batch_inference:commit_predictions")[0]
    assert first["metadata"]["model_version"] == str(champion)
    good_predictions = output.read_text()

    out = ok(chain.jobs.handoff("promote", "iris_classifier", str(staging)))
    assert f"version {staging} -> production (was: version {champion})" in out
    assert chain.jobs.production() == staging

    ok(chain.jobs.job("batch_inference", "--output", str(output)))
    second = chain.jobs.probe("last_output", "batch_inference:commit_predictions")[0]
    assert second["metadata"]["model_version"] == str(staging)
    assert output.read_text() != good_predictions  # the stump predicts differently

    out = ok(chain.jobs.handoff("rollback", "iris_classifier"))
    assert f"production is version {champion} again (was {staging})" in out
    assert chain.jobs.production() == champion
    assert chain.jobs.stages()[staging] == "archived"
    predictions = chain.jobs.probe("artifacts", "iris_predictions")
    out = ok(chain.jobs.job("batch_inference"))
    # The same rows were scored by this model already: nothing new is written.
    assert f"already scored by iris_classifier version {champion}" in out
    assert chain.jobs.probe("artifacts", "iris_predictions") == predictions
