"""Moved to tests/harness/runner.py: import `JobRunner`, `local_runner`, `server_runner`, `ok`,
the training flags and `stop_local_serving` from there (and `local_env` from
tests/harness/servers.py).

Only these names stay here, so that tests written in parallel with the move keep importing until
they land; nothing on main imports this module. Delete it once nothing does.
"""

from tests.harness.runner import BETTER, FAIR, REPO, WORSE, files_under, ok, stop_local_serving
from tests.harness.runner import JobRunner as Store
from tests.harness.servers import local_env

__all__ = [
    "BETTER",
    "FAIR",
    "REPO",
    "WORSE",
    "Store",
    "files_under",
    "local_env",
    "ok",
    "stop_local_serving",
]
