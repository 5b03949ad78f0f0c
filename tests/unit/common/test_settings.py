import importlib
from pathlib import Path

import pytest

from jobs.common.runtime.errors import BadInput, ExitCode
from jobs.common.runtime.settings import load
from jobs.training.settings import Settings as TrainingSettings
from tests.harness.jobs import BATCH_JOBS


@pytest.mark.parametrize(
    ("dataset", "prefix"), [(None, "iris"), ("wine", "wine")], ids=["seed-names", "other-dataset"]
)
def test_dataset_and_model_names_follow_the_dataset(dataset: str | None, prefix: str):
    flags = {"dataset": dataset} if dataset else {}
    settings = load(TrainingSettings, "jobs.training", flags=flags, environ={})
    assert settings.training_dataset == f"{prefix}_training_dataset"
    assert settings.testing_dataset == f"{prefix}_testing_dataset"
    assert settings.model_name == f"{prefix}_classifier"
    assert settings.model_artifact == "trained_model"


def test_precedence_file_then_env_then_flags(tmp_path: Path):
    config = tmp_path / "training.yaml"
    config.write_text("threshold: 0.5\ntrain_version: from_file\ndataset: wine\n")
    env = {"HANDOFF_THRESHOLD": "0.6", "HANDOFF_TRAIN_VERSION": "2023"}
    settings = load(TrainingSettings, "jobs.training", config, {"threshold": "0.7"}, env)
    assert settings.threshold == 0.7  # flag beats env beats file
    assert settings.train_version == "2023"  # env beats file, and stays a string
    assert settings.model_name == "wine_classifier"  # file beats shipped config


def test_unknown_key_in_a_file_names_the_key_and_the_file(tmp_path: Path):
    config = tmp_path / "training.yaml"
    config.write_text("treshold: 0.5\n")
    with pytest.raises(BadInput) as raised:
        load(TrainingSettings, "jobs.training", config, environ={})
    assert "'treshold'" in str(raised.value) and str(config) in str(raised.value)
    assert raised.value.exit_code == ExitCode.BAD_INPUT


def test_invalid_value_names_the_key_and_its_source():
    with pytest.raises(BadInput) as raised:
        load(TrainingSettings, "jobs.training", environ={"HANDOFF_THRESHOLD": "high"})
    assert "'threshold'" in str(raised.value) and "the environment" in str(raised.value)


def test_unknown_classifier_is_bad_config():
    with pytest.raises(BadInput, match="classifier"):
        load(TrainingSettings, "jobs.training", flags={"classifier": "magic"}, environ={})


def test_structured_values_from_the_environment():
    env = {"HANDOFF_HYPERPARAMETERS": '{"C": 0.5}'}
    assert load(TrainingSettings, "jobs.training", environ=env).hyperparameters == {"C": 0.5}


def test_missing_config_file_is_bad_input(tmp_path: Path):
    with pytest.raises(BadInput, match="cannot read config file"):
        load(TrainingSettings, "jobs.training", tmp_path / "nope.yaml", environ={})


def test_a_config_file_that_is_not_a_mapping_is_bad_input(tmp_path: Path):
    config = tmp_path / "list.yaml"
    config.write_text("- threshold\n")
    with pytest.raises(BadInput, match="must be a mapping"):
        load(TrainingSettings, "jobs.training", config, environ={})


@pytest.mark.parametrize("job", BATCH_JOBS)
def test_every_job_refuses_an_unknown_key_naming_it(tmp_path: Path, job: str):
    settings = importlib.import_module(f"jobs.{job}.settings").Settings
    config = tmp_path / "config.yaml"
    config.write_text("dataset: iris\nthreshhold: 0.5\n")
    with pytest.raises(BadInput, match="'threshhold'"):
        load(settings, f"jobs.{job}", config, environ={})


def test_a_threshold_that_is_not_a_fraction_is_bad_input():
    with pytest.raises(BadInput, match="'threshold'"):
        load(TrainingSettings, "jobs.training", environ={"HANDOFF_THRESHOLD": "1.01"})
