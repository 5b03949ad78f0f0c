"""scripts/zenml-api-keys.sh, the walkthrough's API-key step, run against stand-ins for kubectl
and the server's zenml CLI: one account and Secret per workload class, a second run changes
nothing, a deleted Secret gets a fresh key of the existing account, and no key is ever an
argument of a command."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import fake_cluster_tools as fake
from .manifests import REPO, SECRET_KEYS

SCRIPT = REPO / "scripts" / "zenml-api-keys.sh"
# Which Secret holds which service account's key.
ACCOUNTS = {"handoff-zenml": "handoff-jobs", "handoff-zenml-serving": "handoff-serving"}


@pytest.fixture
def cluster(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    return state


def run(state: Path) -> str:
    return fake.run(SCRIPT, state)


def secrets(state: Path) -> dict[str, str]:
    return {name: data["api-key"] for name, data in fake.secrets(state).items()}


def keys(state: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in (state / "accounts").iterdir()}


def test_each_workload_class_gets_its_own_account_and_secret(cluster: Path) -> None:
    run(cluster)
    found = secrets(cluster)
    assert set(found) == set(ACCOUNTS) and set(found) <= set(SECRET_KEYS)
    assert {name: keys(cluster)[account] for name, account in ACCOUNTS.items()} == found
    assert len(set(found.values())) == 2, "serving and the jobs share a key"


def test_a_second_run_keeps_everything_as_it_is(cluster: Path) -> None:
    run(cluster)
    before = secrets(cluster), keys(cluster)
    calls = len(fake.argv_log(cluster))
    out = run(cluster)
    assert (secrets(cluster), keys(cluster)) == before
    again = fake.argv_log(cluster)[calls:]
    assert not [c for c in again if "create" in c or "rotate" in c or "apply" in c], again
    assert out.count("kept") == 2


def test_a_deleted_secret_gets_a_new_key_of_the_existing_account(cluster: Path) -> None:
    """The recovery path: the account outlives the Secret (the server's database is kept)."""
    run(cluster)
    old = secrets(cluster)
    (cluster / "secrets" / "handoff-zenml").unlink()
    run(cluster)
    now = secrets(cluster)
    assert now["handoff-zenml"] != old["handoff-zenml"]
    assert now["handoff-zenml"] == keys(cluster)["handoff-jobs"]
    assert now["handoff-zenml-serving"] == old["handoff-zenml-serving"]


def test_a_secret_whose_account_is_gone_is_replaced(cluster: Path) -> None:
    """A new server database: the kept Secret's key is worthless."""
    run(cluster)
    (cluster / "accounts" / "handoff-serving").unlink()
    run(cluster)
    assert secrets(cluster)["handoff-zenml-serving"] == keys(cluster)["handoff-serving"]


def test_no_key_is_ever_a_command_line_argument(cluster: Path) -> None:
    run(cluster)
    (cluster / "secrets" / "handoff-zenml").unlink()
    run(cluster)
    values = set(keys(cluster).values()) | set(secrets(cluster).values())
    for argv in fake.argv_log(cluster):
        assert not any(value in arg for value in values for arg in argv), argv
