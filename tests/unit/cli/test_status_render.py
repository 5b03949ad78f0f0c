"""`handoff status` as text: a revision says why it exists, a changed input and a partition
that has not landed are named (the data as `handoff status --json` gives it)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from jobs.cli.status import SCHEMA, render

STATUS = {
    "model": "iris_classifier",
    "datasets": [],
    "versions": [],
    "predictions": {
        "name": "iris_predictions",
        "version": "2026-11-25_model_3_r2",
        "rows": 300,
        "model_version": "3",
        "partition": "2026-11-25",
        "run": "batch_inference-1",
        "drifted_features": None,
        "revision": 2,
        "revision_reason": "input changed: 2 files, 300 rows; was 1 file, 150 rows",
    },
    "changed_inputs": [
        {
            "partition": "2026-11-24",
            "version": "2026-11-24_model_3",
            "scored_files": 1,
            "files": 2,
            "scored_bytes": 4500,
            "bytes": 9000,
        }
    ],
    "catch_up": {
        "time": "2026-11-26T04:01:00+00:00",
        "job": "handoff-batch-inference-29927760",
        "partition": "2026-11-25",
        "window": ["2026-11-18", "2026-11-24"],
        "not_landed": ["2026-11-23"],
    },
    "stale": {
        "production": 4,
        "checked": 10,
        "partitions": [
            {"partition": "2026-11-24", "version": "2026-11-24_model_3", "model_version": 3},
            {"partition": "2026-11-22", "version": "2026-11-22_model_2", "model_version": 2},
        ],
    },
    "shards": None,
    "endpoints": [],
    "failed_runs": [],
    "gc": None,
}


def test_status_names_the_revision_the_changed_input_and_the_gap():
    jsonschema.validate(STATUS, json.loads(SCHEMA.read_text()))
    text = "\n".join(render(STATUS))
    assert "version 2026-11-25_model_3_r2 partition 2026-11-25: 300 rows" in text
    assert "revision 2: input changed: 2 files, 300 rows; was 1 file, 150 rows" in text
    assert "input changed since scored: partition 2026-11-24 (2026-11-24_model_3)" in text
    assert "not landed yet: 2026-11-23; the next scheduled run scores them" in text
    assert (
        "scored by a model older than production (version 4), of the 10 partitions scored last: "
        "2026-11-22 (version 2), 2026-11-24 (version 3) — re-score them: handoff backfill "
        "batch-inference --from 2026-11-22 --to 2026-11-24 --model-version 4"
    ) in text


def test_a_first_revision_and_no_gaps_say_nothing_more_than_before():
    status = {
        **STATUS,
        "predictions": {**STATUS["predictions"], "revision": 1, "revision_reason": None},
        "changed_inputs": [],
        "catch_up": {**STATUS["catch_up"], "not_landed": []},
        "stale": {**STATUS["stale"], "partitions": []},
    }
    jsonschema.validate(status, json.loads(SCHEMA.read_text()))
    text = "\n".join(render(status))
    assert "revision" not in text and "input changed" not in text
    assert "older than production" not in text
    assert "nothing missing" in text


def test_status_shows_a_challengers_realized_values_in_the_shadow_beside_productions():
    status = {
        **STATUS,
        "realized": {
            "versions": [
                {
                    "model_version": "3",
                    "metric": "accuracy",
                    "partitions": [{"partition": "2026-11-24", "value": 0.8, "rows": 300}],
                    "shadow": [],
                    "look_ahead": [],
                    "retraining": None,
                },
                {
                    "model_version": "4",
                    "metric": "accuracy",
                    "partitions": [],
                    "shadow": [{"partition": "2026-11-24", "value": 0.9, "rows": 300}],
                    "look_ahead": [],
                    "retraining": None,
                },
            ]
        },
    }
    jsonschema.validate(status, json.loads(SCHEMA.read_text()))
    text = "\n".join(render(status))
    assert "version 3 accuracy: 2026-11-24 0.8000 (300 rows)" in text
    assert "version 4 accuracy: none yet" in text
    assert "in the shadow (challenger): 2026-11-24 0.9000 (300 rows)" in text


def test_status_json_keeps_zenmls_console_lines_off_stdout(capfd: pytest.CaptureFixture[str]):
    """ZenML logs "Setting the global active stack to default." to stdout on a fresh client;
    `handoff status --json` must print only its object there."""
    import logging

    from jobs import cli

    root = logging.getLogger()
    streams = {handler: getattr(handler, "stream", None) for handler in root.handlers}
    try:
        cli._console_to_stderr()
        logging.getLogger("zenml.client").warning("Setting the global active stack to default.")
        out, err = capfd.readouterr()
        assert "active stack" not in out
        assert "active stack" in err
    finally:
        for handler, stream in streams.items():
            if stream is not None and isinstance(handler, logging.StreamHandler):
                handler.setStream(stream)
