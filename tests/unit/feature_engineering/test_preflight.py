from pathlib import Path

import pandas as pd
import pytest

from jobs.common.runtime.errors import BadInput
from jobs.common.runtime.settings import load
from jobs.feature_engineering.preflight import check_source
from jobs.feature_engineering.settings import Settings


def test_the_run_gets_every_configured_key_and_the_derived_dataset_names():
    settings = load(Settings, "jobs.feature_engineering", flags={"dataset": "wine"}, environ={})
    run = settings.params()
    assert (run.training_dataset, run.testing_dataset) == (
        "wine_training_dataset",
        "wine_testing_dataset",
    )
    assert (run.source, run.target_column, run.test_size) == ("iris", "species", 0.2)


def test_the_builtin_iris_passes():
    check_source(load(Settings, "jobs.feature_engineering", environ={}).params())


def test_a_source_without_the_label_column_is_bad_input(tmp_path: Path):
    source = tmp_path / "flowers.csv"
    pd.DataFrame({"a": [1.0, 2.0], "label": ["x", "y"]}).to_csv(source, index=False)
    flags = {"source": str(source), "target_column": "species"}
    settings = load(Settings, "jobs.feature_engineering", flags=flags, environ={})
    with pytest.raises(BadInput, match=f"{source}: target column 'species' is missing"):
        check_source(settings.params())
