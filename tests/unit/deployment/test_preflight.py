"""The deployment job's checks before it runs a pipeline."""

from __future__ import annotations

import pytest

from jobs.common.runtime.errors import PreconditionNotMet
from jobs.deployment.preflight import nothing_to_do, target_column
from jobs.deployment.targets.base import Live

URL = "http://127.0.0.1:8000"


def test_a_steady_target_serving_production_needs_nothing():
    said = nothing_to_do("local", Live("3", URL), "iris_classifier", "3")
    assert said == (
        f"local target at {URL} already serves iris_classifier version 3; nothing to do"
    )


@pytest.mark.parametrize(
    "live",
    [
        None,  # nothing served
        Live("2", URL),  # another version
        Live("3", URL, steady=False),  # half rolled out, or unpinned pods
    ],
)
def test_anything_else_is_a_rollout(live: Live | None):
    assert nothing_to_do("kubernetes", live, "iris_classifier", "3") is None


def test_the_smoke_test_needs_the_label_column_of_the_training_data():
    assert target_column({"target_column": "species"}, "iris_classifier", "3") == "species"
    with pytest.raises(PreconditionNotMet, match="version 3 has no recorded target_column"):
        target_column({}, "iris_classifier", "3")
