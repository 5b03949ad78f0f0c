"""Issue 21, item 11: the manifests set THREAD_ENV from the container's CPU limit; this proves
those are the names the libraries in our images read, so a 1-CPU pod runs 1-thread pools."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.k8s.manifests import THREAD_ENV

POOLS = """
import json, joblib, pyarrow, sklearn, threadpoolctl
pools = {i["internal_api"]: i["num_threads"] for i in threadpoolctl.threadpool_info()}
print(json.dumps({"pyarrow": pyarrow.cpu_count(), "joblib": joblib.cpu_count(), **pools}))
"""


def _pools(limit: str | None) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    env |= dict.fromkeys(THREAD_ENV, limit) if limit else {}
    out = subprocess.run(
        [sys.executable, "-c", POOLS], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: every pool is 1 anyway")
def test_every_pool_follows_the_cpu_limit_the_manifests_pass() -> None:
    unlimited = _pools(None)
    assert unlimited["pyarrow"] > 1 and unlimited["openblas"] > 1  # the node's cores
    limited = _pools("1")
    assert set(limited) >= {"pyarrow", "joblib", "openblas", "openmp"}
    assert limited == dict.fromkeys(limited, 1)
