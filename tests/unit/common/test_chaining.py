"""Chaining's plain parts: names, the Job made from a CronJob, settings, local events."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from jobs.common import chaining
from jobs.common.chaining import EventLauncher, Outcome, Start, Upstream

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
    assert launcher.start(first) is Outcome.STARTED
    assert launcher.start(Start("training", FE, {"train_version": "x"})) is Outcome.ALREADY_STARTED
    later = Start("training", Upstream(FE.job, "raw_2024", "r2"), {"train_version": "raw_2024"})
    assert launcher.start(later) is Outcome.STARTED
    events = chaining.read_events(tmp_path)
    assert [e.name for e in events] == [first.name, later.name]
    assert events[0].args == ["--train-version", "raw_2023", "--test-version", "raw_2023"]
    assert events[0].upstream == FE


class Outcomes:
    """A ``record`` for start_next: what each call recorded, without a ZenML store."""

    def __init__(self) -> None:
        self.calls: list[tuple[Upstream, dict[str, str]]] = []

    def __call__(self, upstream: Upstream, outcomes) -> None:
        self.calls.append((upstream, dict(outcomes)))


def test_start_next_goes_where_the_environment_says(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(chaining.VIA_ENV, str(tmp_path))
    record = Outcomes()
    lines = chaining.start_next(
        ["batch-inference", "deployment"], TRAINING, record=record, model_version="7"
    )
    assert [e.job for e in chaining.read_events(tmp_path)] == ["batch-inference", "deployment"]
    assert all(line.startswith("started ") for line in lines)
    again = chaining.start_next(["batch-inference"], TRAINING, record=record, model_version="7")
    assert again[0].startswith("already started ")
    assert len(chaining.read_events(tmp_path)) == 2
    assert [outcomes for _, outcomes in record.calls] == [
        {"batch-inference": lines[0], "deployment": lines[1]},
        {"batch-inference": again[0]},
    ]


def test_start_next_starts_nothing_when_chaining_is_off(monkeypatch) -> None:
    monkeypatch.delenv(chaining.VIA_ENV, raising=False)
    [line] = chaining.start_next(["training"], FE, train_version="raw_2023")
    assert "chaining is off" in line
    assert chaining.start_next([], FE) == []


class Flaky(EventLauncher):
    """Events, except that batch inference cannot be started; remembers what it reported."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.reported: list[tuple[str, Outcome]] = []

    def start(self, start: Start) -> Outcome:
        if start.job == "batch-inference":
            raise ConnectionError("api server unreachable")
        return super().start(start)

    def report(self, start: Start, outcome: Outcome, line: str) -> None:
        self.reported.append((start.job, outcome))


def test_a_start_that_fails_is_reported_counted_and_the_others_still_start(
    tmp_path: Path,
) -> None:
    launcher, record = Flaky(tmp_path), Outcomes()
    lines = chaining.start_next(
        ["batch-inference", "deployment"], TRAINING, launcher, record=record, model_version="7"
    )
    assert (
        lines[0].startswith("failed: could not start batch-inference") and "unreachable" in lines[0]
    )
    assert [e.job for e in chaining.read_events(tmp_path)] == ["deployment"]
    assert launcher.reported == [("batch-inference", Outcome.FAILED)]
    [(upstream, outcomes)] = record.calls
    assert upstream == TRAINING and outcomes["batch-inference"] == lines[0]


def test_neither_a_report_nor_the_record_that_fails_fails_the_upstream(tmp_path: Path) -> None:
    class Mute(Flaky):
        def report(self, start: Start, outcome: Outcome, line: str) -> None:
            raise TimeoutError("api server blackholed")

    def record(upstream: Upstream, outcomes) -> None:
        raise ConnectionError("zenml server down")

    lines = chaining.start_next(
        ["batch-inference", "deployment"],
        TRAINING,
        Mute(tmp_path),
        record=record,
        model_version="7",
    )
    assert lines[0].startswith("failed: ") and lines[1].startswith("started deployment")


def test_no_usable_launcher_is_a_failed_start_not_a_failed_upstream(monkeypatch) -> None:
    """In a pod whose Kubernetes configuration cannot be loaded, the promotion stays done."""
    monkeypatch.setenv(chaining.VIA_ENV, chaining.KUBERNETES)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "")
    monkeypatch.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    record = Outcomes()
    lines = chaining.after_training(
        ["batch-inference", "deployment"], TRAINING.run, "7", "production", record=record
    )
    assert len(lines) == 2 and all(line.startswith("failed: could not start") for line in lines)
    assert list(record.calls[0][1]) == ["batch-inference", "deployment"]


def promote_with_predictions() -> list[str]:
    """Training promoted version 7 and knows batch inference's predictions artifact."""
    return chaining.after_training(
        ["batch-inference", "deployment"],
        TRAINING.run,
        "7",
        "production",
        predictions="iris_predictions",
        record=Outcomes(),
    )


def test_batch_inference_is_pinned_to_one_partition_and_deployment_is_not(
    tmp_path: Path, monkeypatch
) -> None:
    """Each shard of a chained Indexed Job scores the partition resolved once, here."""
    asked = []
    monkeypatch.setattr(
        chaining, "newest_scored_partition", lambda name: asked.append(name) or "2026-11-25"
    )
    monkeypatch.setenv(chaining.VIA_ENV, str(tmp_path))
    promote_with_predictions()
    args = {e.job: e.args for e in chaining.read_events(tmp_path)}
    assert args == {
        "batch-inference": ["--model-version", "7", "--partition", "2026-11-25"],
        "deployment": ["--model-version", "7"],
    }
    assert asked == ["iris_predictions"]


def test_no_scored_partition_yet_starts_batch_inference_unpinned(tmp_path: Path, monkeypatch):
    """The first promotion (`handoff chain` on a new store): batch inference scores an input
    without {partition} (iris, a file); a partitioned input has nothing to rescore yet."""
    monkeypatch.setattr(chaining, "newest_scored_partition", lambda name: None)
    monkeypatch.setenv(chaining.VIA_ENV, str(tmp_path))
    promote_with_predictions()
    args = {e.job: e.args for e in chaining.read_events(tmp_path)}
    assert args == {
        "batch-inference": ["--model-version", "7"],
        "deployment": ["--model-version", "7"],
    }


TRAIN = {"name": "iris_training_dataset", "version": "4"}
TEST = {"name": "iris_testing_dataset", "version": "4"}


def test_training_on_the_datasets_production_was_trained_on_is_redundant() -> None:
    production = {"datasets": {"training": TRAIN, "testing": TEST}, "metrics": {}}
    assert chaining.redundant_training(production, TRAIN, TEST)
    assert not chaining.redundant_training(production, {**TRAIN, "version": "5"}, TEST)
    assert not chaining.redundant_training(production, TRAIN, {**TEST, "version": "5"})
    assert not chaining.redundant_training(None, TRAIN, TEST)
    assert not chaining.redundant_training({}, TRAIN, TEST)


def test_a_pinned_training_run_is_never_a_redundant_fallback() -> None:
    """A chained start (or --train-version by hand) trains whatever production was trained on;
    no store is asked."""
    assert chaining.fallback_done("iris_classifier", TRAIN, TEST, pinned=True) is None
