"""Chaining's plain parts: names, the Job made from a CronJob, settings, local events."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from jobs.common import chaining
from jobs.common.chaining import EventLauncher, Start, Upstream

FE = Upstream("feature-engineering", "raw_2023", "0b6e9a52-4f43-4c55-9d0b-1d2f6b3c1a77")
TRAINING = Upstream("training", "7", "run-7")

CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {
        "name": "handoff-batch-inference",
        "namespace": "handoff",
        "uid": "5f1c2f7e-1111-2222-3333-444455556666",
        "labels": {"app.kubernetes.io/name": "handoff-batch-inference"},
    },
    "spec": {
        "schedule": "0 4 * * *",
        "jobTemplate": {
            "spec": {
                "backoffLimit": 2,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [
                            {
                                "name": "job",
                                "image": "handoff-batch-inference:dev",
                                "args": ["--config", "/etc/handoff/batch_inference.yaml"],
                            }
                        ],
                    }
                },
            }
        },
    },
}


def test_a_start_name_is_the_same_for_the_same_upstream_version_only() -> None:
    name = chaining.start_name("training", FE)
    assert name == chaining.start_name("training", Upstream(FE.job, FE.version, "another-run"))
    assert name.startswith("handoff-training-raw-2023-")
    assert name != chaining.start_name("training", Upstream(FE.job, "raw_2024", FE.run))
    # versions that slug alike still get their own names
    assert name != chaining.start_name("training", Upstream(FE.job, "raw-2023", FE.run))


def test_a_start_name_is_a_valid_job_name_whatever_the_version() -> None:
    for version in ("7", "A Very_Long.version/name " * 5, "___", "Ünïcode"):
        name = chaining.start_name("batch-inference", Upstream("training", version, "r"))
        assert len(name) <= 63, name
        assert name[0].isalpha() and name[-1].isalnum(), name
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-"), name


def test_the_job_keeps_the_template_and_gets_the_pins_and_the_upstream() -> None:
    start = Start("batch-inference", TRAINING, {"model_version": "7"})
    job = chaining.job_from_cronjob(CRONJOB, start)
    assert job["kind"] == "Job" and job["metadata"]["name"] == start.name
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == [
        "--config",
        "/etc/handoff/batch_inference.yaml",
        "--model-version",
        "7",
    ]
    assert job["spec"]["backoffLimit"] == 2
    meta = job["metadata"]
    assert meta["labels"]["handoff.dev/upstream-job"] == "training"
    assert meta["labels"]["app.kubernetes.io/name"] == "handoff-batch-inference"
    assert meta["annotations"]["handoff.dev/upstream-version"] == "7"
    assert meta["annotations"]["handoff.dev/upstream-run"] == "run-7"
    [owner] = meta["ownerReferences"]
    assert owner["uid"] == CRONJOB["metadata"]["uid"] and not owner.get("controller")
    # the CronJob itself is left as it was
    template = CRONJOB["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert template["containers"][0]["args"] == ["--config", "/etc/handoff/batch_inference.yaml"]


class _Settings(BaseModel):
    downstream: chaining.Downstream = ["training"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("batch-inference,deployment", ["batch-inference", "deployment"]),
        (["deployment"], ["deployment"]),
        ("", []),
        (None, []),
    ],
)
def test_downstream_setting_takes_a_list_or_a_comma_separated_string(value, expected) -> None:
    assert _Settings(downstream=value).downstream == expected


def test_downstream_setting_refuses_a_job_that_cannot_be_started() -> None:
    with pytest.raises(ValidationError, match="cannot start serving"):
        _Settings(downstream="serving")


def test_events_start_each_upstream_version_once(tmp_path: Path) -> None:
    launcher = EventLauncher(tmp_path)
    first = Start("training", FE, {"train_version": "raw_2023", "test_version": "raw_2023"})
    assert launcher.start(first) is True
    assert launcher.start(Start("training", FE, {"train_version": "x"})) is False
    later = Start("training", Upstream(FE.job, "raw_2024", "r2"), {"train_version": "raw_2024"})
    assert launcher.start(later) is True
    events = chaining.read_events(tmp_path)
    assert [e.name for e in events] == [first.name, later.name]
    assert events[0].args == ["--train-version", "raw_2023", "--test-version", "raw_2023"]
    assert events[0].upstream == FE


def test_start_next_goes_where_the_environment_says(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(chaining.VIA_ENV, str(tmp_path))
    lines = chaining.start_next(["batch-inference", "deployment"], TRAINING, model_version="7")
    assert [e.job for e in chaining.read_events(tmp_path)] == ["batch-inference", "deployment"]
    assert all(line.startswith("started ") for line in lines)
    again = chaining.start_next(["batch-inference"], TRAINING, model_version="7")
    assert again[0].startswith("already started ")
    assert len(chaining.read_events(tmp_path)) == 2


def test_start_next_starts_nothing_when_chaining_is_off(monkeypatch) -> None:
    monkeypatch.delenv(chaining.VIA_ENV, raising=False)
    [line] = chaining.start_next(["training"], FE, train_version="raw_2023")
    assert "chaining is off" in line
    assert chaining.start_next([], FE) == []


def test_a_start_that_fails_is_reported_and_the_others_still_start(tmp_path: Path) -> None:
    class Flaky(EventLauncher):
        def start(self, start: Start) -> bool:
            if start.job == "batch-inference":
                raise ConnectionError("api server unreachable")
            return super().start(start)

    lines = chaining.start_next(
        ["batch-inference", "deployment"], TRAINING, Flaky(tmp_path), model_version="7"
    )
    assert "could not start batch-inference" in lines[0] and "unreachable" in lines[0]
    assert [e.job for e in chaining.read_events(tmp_path)] == ["deployment"]
