import pytest

from jobs.common.runtime.errors import BadInput
from jobs.common.runtime.settings import load
from jobs.feature_engineering.settings import Settings


def test_a_partition_picks_the_source_and_names_the_version():
    flags = {
        "source": "s3://b/raw/dt={partition}/",
        "version": "raw_{partition}",
        "partition": "2026-11-25",
    }
    settings = load(Settings, "jobs.feature_engineering", flags=flags, environ={})
    assert settings.source == "s3://b/raw/dt=2026-11-25/"
    assert settings.version == "raw_2026-11-25"


def test_a_template_without_a_partition_is_bad_config():
    with pytest.raises(BadInput, match="set partition"):
        load(Settings, "jobs.feature_engineering", flags={"version": "raw_{partition}"}, environ={})
