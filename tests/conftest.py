"""Session fixtures: the real ZenML server and S3 server on loopback (tests/harness/servers.py).

Throwaway local stores need no fixture: `tests.harness.runner.local_runner(tmp_path)`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import servers
from tests.harness.chain import LocalChain
from tests.harness.runner import local_runner, stop_local_serving

os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
TESTS = Path(__file__).parent
TIERS = ("unit", "integration", "e2e", "faults", "containers", "k8s", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The folder is the tier: each test carries its folder's marker (``-m e2e`` = tests/e2e)."""
    for item in items:
        tier = item.path.relative_to(TESTS).parts[0]
        if tier in TIERS:
            item.add_marker(tier)


@pytest.fixture(scope="session")
def zenml_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.ZenMLServer]:
    with servers.zenml_server(tmp_path_factory.mktemp("zenml-server")) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.S3Server]:
    with servers.s3_server(tmp_path_factory.mktemp("s3-server")) as server:
        yield server


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalChain]:
    chain = LocalChain(local_runner(tmp_path_factory.mktemp("local-chain")))
    try:
        yield chain
    finally:
        stop_local_serving(chain.serving_state)
