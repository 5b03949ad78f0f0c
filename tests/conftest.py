"""Shared fixtures: throwaway local stores, and (session-scoped) real servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import servers

os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"


@pytest.fixture(scope="session")
def zenml_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ZenMLServer]:
    with servers.zenml_server(tmp_path_factory.mktemp("zenml-server")) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.S3Server]:
    with servers.s3_server(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


def local_env(workdir: Path) -> dict[str, str]:
    """A job's whole environment on ZenML's embedded local store in `workdir`."""
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{servers.VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(workdir / "home"),
        "ZENML_CONFIG_PATH": str(workdir / "zenml"),
        "ZENML_ANALYTICS_OPT_IN": "false",
    }
