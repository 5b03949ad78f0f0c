"""A challenger in the shadow, each job its own process on a real ZenML server and S3 store: with
`shadow: true` batch inference also scores each partition with the newest staging version into
`<dataset>_shadow_predictions` (production's predictions stay the champion's alone); monitoring
measures both on the same labels, and with `promote_on: live` a challenger better on each of
the last `live_partitions` labelled partitions is promoted once, through the promotion record
(basis live, the evidence), and the deployment follows through the chaining's events."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from jobs.cli.status import SCHEMA
from tests.e2e.test_shards import land_s3, rows
from tests.harness import servers
from tests.harness.runner import WORSE, JobRunner, ok, own_stack_runner, stop_local_serving

STACK = BUCKET = "handoff-shadow"
"""The stack and the bucket of this module's own (tests.harness.runner.own_stack_runner)."""
DATASET = "shadset"
MODEL = f"{DATASET}_classifier"
PREDICTIONS = f"{DATASET}_predictions"
SHADOW = f"{DATASET}_shadow_predictions"
LABELS = f"s3://{BUCKET}/labels/dt={{partition}}/"
DAYS = ["2026-10-01", "2026-10-02"]
LIVE = ("--promote-on", "live", "--live-partitions", "2")


@pytest.fixture(scope="module")
def remote(
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[JobRunner]:
    """Jobs on a stack of this module's own, with a production model of its own."""
    yield own_stack_runner(
        zenml_server, s3_server, tmp_path_factory.mktemp("shadow"), STACK, DATASET
    )


def score(jobs: JobRunner, day: str) -> str:
    """Score the day's landed rows with shadow on."""
    return ok(
        jobs.job(
            "batch_inference", "--dataset", DATASET, "--input",
            f"s3://{BUCKET}/incoming/dt={{partition}}/", "--partition", day,
            "--id-columns", "[row_id]", "--shadow", "true",
        )
    )  # fmt: skip


def monitor(jobs: JobRunner, day: str) -> str:
    return ok(
        jobs.job("monitoring", "--dataset", DATASET, "--labels", LABELS, "--partition", day, *LIVE)
    )


def of_day(jobs: JobRunner, artifact: str, day: str) -> dict:
    [version] = [v for v in jobs.probe("artifacts", artifact) if v["metadata"]["partition"] == day]
    return version


def land_challengers_world(jobs: JobRunner, s3: servers.S3Server, day: str) -> None:
    """Labels that agree with the challenger's shadow predictions: the world moved its way."""
    shadow = of_day(jobs, SHADOW, day)
    table = pd.DataFrame(jobs.probe("table", f"{SHADOW}:{shadow['version']}"))
    labels = table[["row_id", "prediction"]].rename(columns={"prediction": "species"})
    sink = io.BytesIO()
    labels.to_parquet(sink, index=False)
    s3.client().put_object(Bucket=BUCKET, Key=f"labels/dt={day}/l.parquet", Body=sink.getvalue())


def promotion_of(jobs: JobRunner, number: int) -> dict:
    [version] = [v for v in jobs.probe("models", MODEL) if v["number"] == number]
    return version["metadata"].get("promotion") or {}


def test_a_shadow_challenger_that_wins_on_live_labels_is_promoted_once_and_deployed(
    remote: JobRunner, s3_server: servers.S3Server, tmp_path: Path
):
    champion = remote.production(MODEL)
    assert champion is not None
    for day in DAYS:
        land_s3(s3_server, day, rows(2), bucket=BUCKET)
    # No staging version yet: nothing is shadow-scored, and the run says so.
    assert "has no staging version; nothing is shadow-scored" in score(remote, DAYS[0])
    assert remote.probe("artifacts", SHADOW) == []

    # A challenger (worse offline: staged, not promoted) shadows production from now on: the
    # day already scored by production gets its shadow predictions too.
    ok(remote.job("training", "--dataset", DATASET, *WORSE))
    [challenger] = [n for n, stage in remote.stages(MODEL).items() if stage == "staging"]
    assert "nothing to do" in score(remote, DAYS[0])
    score(remote, DAYS[1])
    for day in DAYS:
        shadow = of_day(remote, SHADOW, day)["metadata"]
        assert shadow["model_version"] == str(challenger)
        assert shadow["shadow_of"] == str(champion)
        assert (shadow["rows"], shadow["revision"]) == (300, 1)
        # Never read as production's predictions: those stay the champion's.
        assert of_day(remote, PREDICTIONS, day)["metadata"]["model_version"] == str(champion)

    events = tmp_path / "events"
    events.mkdir()
    chained = remote.with_env(HANDOFF_CHAIN_VIA=str(events))
    for day in DAYS:
        land_challengers_world(remote, s3_server, day)

    # One labelled partition of the two a decision needs: measured both ways, nothing promoted.
    out = monitor(chained, DAYS[0])
    assert "no decision yet" in out
    first = of_day(remote, SHADOW, DAYS[0])["metadata"]["realized"]
    assert first["value"] == 1.0 and first["rows"] == 300
    assert of_day(remote, PREDICTIONS, DAYS[0])["metadata"]["realized"]["value"] < 1.0
    assert remote.production(MODEL) == champion and list(events.iterdir()) == []

    # The second: the challenger beat production on each; promoted, once.
    out = monitor(chained, DAYS[1])
    assert f"live: promoted {MODEL} version {challenger} to production" in out
    assert remote.production(MODEL) == challenger
    record = promotion_of(remote, challenger)
    assert record["basis"] == "live" and record["stage"] == "production"
    assert record["previous_production"] == str(champion)
    assert record["decided_by"].startswith("monitoring pipeline run")
    assert [e["partition"] for e in record["evidence"]] == DAYS
    for evidence in record["evidence"]:
        production = of_day(remote, PREDICTIONS, evidence["partition"])
        assert evidence["champion"] == production["metadata"]["realized"]["value"]
        assert evidence["challenger"] == 1.0 > evidence["champion"]
    assert "on live labels" in record["reason"]

    # The deployment follows, as after training's promotion: a start pinned to the challenger.
    starts = {e["job"]: e for e in (json.loads(p.read_text()) for p in events.iterdir())}
    for start in starts.values():
        start["args"] = [f"--{k.replace('_', '-')}={v}" for k, v in start["pins"].items()]
    assert set(starts) == {"batch-inference", "deployment"}
    for start in starts.values():
        assert start["upstream"]["job"] == "monitoring"
        assert start["pins"]["model_version"] == str(challenger)
    assert starts["batch-inference"]["pins"]["partition"] == DAYS[1]
    state = tmp_path / "serving"
    try:
        out = ok(
            remote.job(
                "deployment", "--dataset", DATASET, "--port", str(servers.free_port()),
                "--state-dir", str(state), *starts["deployment"]["args"],
            )
        )  # fmt: skip
        assert f"deployed {MODEL} version {challenger} to local" in out
    finally:
        stop_local_serving(state)

    # Rerun: measured already, nothing more promoted or started.
    assert "nothing to do" in monitor(chained, DAYS[1])
    assert remote.production(MODEL) == challenger
    assert promotion_of(remote, challenger) == record
    assert len(list(events.iterdir())) == 2
    # `handoff status` shows the challenger's values in the shadow beside production's.
    shown = ok(remote.handoff("status", "--dataset", DATASET))
    assert f"in the shadow (challenger): {DAYS[0]} 1.0000 (300 rows)" in shown
    out = ok(remote.handoff("status", "--dataset", DATASET, "--json"))
    status = json.loads(out)  # stdout is the object alone (ZenML's own lines go to stderr)
    jsonschema.validate(status, json.loads(SCHEMA.read_text()))
    [line] = [v for v in status["realized"]["versions"] if v["model_version"] == str(challenger)]
    assert [(p["partition"], p["value"]) for p in line["shadow"]] == [(d, 1.0) for d in DAYS]
