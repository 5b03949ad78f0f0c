"""`handoff chain` on a local store: feature engineering, then exactly the jobs it and its
successors start through events, each job its own process, pinned to what its upstream made.
(That a non-promotion starts nothing is tested on the hook itself: tests/unit/common.)"""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness.runner import JobRunner, local_runner, ok, stop_local_serving
from tests.harness.servers import free_port

STARTED = re.compile(r"^==> (\S+) ?(.*) \(pid (\d+), started (.+)\)$", re.M)


def chain(store: JobRunner, config: Path) -> list[tuple[str, str, int, str]]:
    out = ok(store.handoff("chain", "--config-dir", str(config)))
    return [(job, pins, int(pid), why) for job, pins, pid, why in STARTED.findall(out)]


def test_chain_runs_through_events_each_job_its_own_process(tmp_path: Path) -> None:
    store = local_runner(tmp_path)
    state = tmp_path / "serving"
    config = tmp_path / "config"
    config.mkdir()
    (config / "deployment.yaml").write_text(f"port: {free_port()}\nstate_dir: {state}\n")
    try:
        ran = chain(store, config)
        assert [(job, pins, why) for job, pins, _pid, why in ran] == [
            ("feature-engineering", "", "by hand"),
            (
                "training",
                "--train-version 1 --test-version 1",
                "by feature-engineering version 1",
            ),
            ("batch-inference", "--model-version 1", "by training version 1"),
            ("deployment", "--model-version 1", "by training version 1"),
        ]
        assert len({pid for _job, _pins, pid, _why in ran}) == 4, "each job its own process"
        assert store.production() == 1
        [predictions] = store.probe("artifacts", "iris_predictions")
        assert predictions["metadata"]["model_version"] == "1"
    finally:
        stop_local_serving(state)


def test_the_deployment_poll_has_nothing_to_do_before_a_promotion(tmp_path: Path) -> None:
    """The deployment CronJob's scheduled run (HANDOFF_IDLE_WITHOUT_PRODUCTION, as its manifest
    sets) on a store with no production model: exit 0, no alert; by hand it stays exit 3."""
    jobs = local_runner(tmp_path)
    polled = jobs.with_env(HANDOFF_IDLE_WITHOUT_PRODUCTION="true")
    out = ok(polled.job("deployment", "--state-dir", str(tmp_path / "serving")))
    assert "no production version yet; nothing to deploy" in out
    by_hand = jobs.job("deployment")
    assert by_hand.returncode == 3, by_hand.stderr
