"""Session fixtures: the real ZenML server and S3 server on loopback (tests/harness/servers.py).

Throwaway local stores need no fixture: `tests.harness.runner.local_runner(tmp_path)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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
