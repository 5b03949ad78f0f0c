"""Each default is written once: a job's shipped config.yaml, which lists its keys for a reader,
may only say what its Settings class already says (a difference would be a second default)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

JOBS = Path(__file__).parents[2] / "jobs"
SHIPPED = sorted(p for p in JOBS.glob("*/config.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.parent.name for p in SHIPPED])
def test_the_shipped_config_says_what_the_settings_defaults_say(path: Path) -> None:
    settings = importlib.import_module(f"jobs.{path.parent.name}.settings").Settings
    shipped = yaml.safe_load(path.read_text()) or {}
    for key, value in shipped.items():
        assert key in settings.model_fields, f"{path}: unknown key {key!r}"
        field = settings.model_fields[key]
        default = field.get_default(call_default_factory=True)
        if isinstance(default, tuple):
            default = list(default)
        assert value == default, (
            f"{path}: {key}: {value!r} differs from the code default {default!r}; "
            "write a default in one place"
        )


def test_every_job_ships_its_config() -> None:
    jobs = {p.parent.name for p in JOBS.glob("*/__main__.py")} - {"cli"}
    assert {p.parent.name for p in SHIPPED} == jobs
