"""JSON log lines a cluster's log search can index, and progress lines that do not flood it."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from jobs.common.runtime import logs


@pytest.fixture
def json_log() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger(f"handoff.test.{id(stream)}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger, stream


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_line_is_one_json_object_with_the_fixed_keys(json_log):
    logger, stream = json_log
    with logs.bound(job="batch_inference", model="iris_classifier", version="3"):
        logger.info("scoring %s", "partition\nwith a newline")
        with logs.bound(partition="2026-11-25"):
            logger.warning("drift in %d features", 2, extra={"drifted": ["petal_width_cm"]})
    logger.info("outside")

    first, second, third = lines(stream)
    assert set(logs.FIELDS) <= set(first)
    assert first["message"] == "scoring partition\nwith a newline"
    assert (first["job"], first["model"], first["version"]) == (
        "batch_inference",
        "iris_classifier",
        "3",
    )
    assert first["partition"] is None and first["level"] == "info"
    assert second["partition"] == "2026-11-25" and second["level"] == "warning"
    assert second["drifted"] == ["petal_width_cm"]
    assert third["job"] is None, "context ends with its block"
    assert first["time"].endswith("+00:00")


def test_a_traceback_stays_inside_its_line(json_log):
    logger, stream = json_log
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = lines(stream)
    assert "ValueError: boom" in line["traceback"]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_logs_at_most_every_few_seconds_with_rate_and_eta(json_log):
    logger, stream = json_log
    clock = Clock()
    with logs.Progress("rows", total=1000, every=5.0, clock=clock, logger=logger) as progress:
        for _ in range(10):  # 100 rows per second for 10 s
            clock.now += 1.0
            progress.advance(100)
    reported = lines(stream)
    assert [r["rows_done"] for r in reported] == [500, 1000, 1000]
    assert reported[0]["rows_per_s"] == 100.0 and reported[0]["eta_s"] == 5.0
    assert reported[-1]["message"].endswith("done") and reported[-1]["eta_s"] is None


def test_a_failing_job_leaves_one_json_line_in_json_mode():
    env = {**os.environ, "HANDOFF_LOG_FORMAT": "json"}
    result = subprocess.run(
        [sys.executable, "-m", "jobs.training", "--threshold", "7"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    (line,) = [json.loads(x) for x in result.stderr.splitlines()]
    assert line["level"] == "error" and line["job"] == "training"
    assert "threshold" in line["message"]


def test_plain_lines_on_stdout_become_json_and_json_lines_pass_through():
    out = io.StringIO()
    stream = logs.JsonLines(out)
    zenml_line = '{"timestamp":"x","level":"WARNING","message":"from ZenML"}'
    print("predicted 150 rows", file=stream)
    stream.write("\x1b[33mcoloured warning\x1b[0m\n\n" + zenml_line + "\nhalf")
    stream.write(" a line\n")
    first, second, third, fourth = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first["message"] == "predicted 150 rows" and set(logs.FIELDS) <= set(first)
    assert second["message"] == "coloured warning"
    assert third == json.loads(zenml_line)
    assert fourth["message"] == "half a line"
