"""The shadow's keys: batch inference's `shadow` (a yes/no flag, off by default) and
monitoring's `promote_on` / `live_partitions` / `promoted_downstream`, checked at start."""

from __future__ import annotations

import pytest

from jobs.batch_inference.settings import Settings as BatchSettings
from jobs.common.runtime.errors import BadInput
from jobs.common.runtime.settings import load
from jobs.monitoring.settings import Settings as MonitoringSettings


def test_shadow_is_off_by_default_and_a_bare_flag_turns_it_on():
    assert load(BatchSettings, "jobs.batch_inference", environ={}).shadow is False
    on = load(BatchSettings, "jobs.batch_inference", flags={"shadow": "true"}, environ={})
    assert on.shadow is True
    assert on.shadow_predictions_artifact == "iris_shadow_predictions"
    assert on.predictions_artifact == "iris_predictions"


def test_promote_on_live_is_off_by_default_and_needs_three_partitions():
    settings = load(MonitoringSettings, "jobs.monitoring", environ={})
    assert settings.promote_on is None and settings.live_partitions == 3
    assert settings.promoted_downstream == ["batch-inference", "deployment"]
    live = load(
        MonitoringSettings,
        "jobs.monitoring",
        environ={"HANDOFF_PROMOTE_ON": "live", "HANDOFF_LIVE_PARTITIONS": "2"},
    )
    assert (live.promote_on, live.live_partitions) == ("live", 2)


@pytest.mark.parametrize(
    ("flags", "key"),
    [
        ({"promote_on": "offline"}, "promote_on"),
        ({"live_partitions": "0"}, "live_partitions"),
        ({"promoted_downstream": "serving"}, "promoted_downstream"),
    ],
)
def test_bad_shadow_settings_name_their_key(flags: dict, key: str):
    with pytest.raises(BadInput, match=f"'{key}'"):
        load(MonitoringSettings, "jobs.monitoring", flags=flags, environ={})
