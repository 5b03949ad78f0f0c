"""scripts/dev-secrets.sh, the walkthrough's step that gives the dev ZenML server its keys:
random, generated in the cluster once and kept (the encryption key is the database's), never
committed and never on a command line."""

from __future__ import annotations

from pathlib import Path

from . import fake_cluster_tools as fake
from .manifests import K8S, REPO, find, render

SCRIPT = REPO / "scripts" / "dev-secrets.sh"
SECRET = "handoff-zenml-server"


def test_the_server_keys_are_random_and_kept_once_made(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    fake.run(SCRIPT, state)
    keys = fake.secrets(state)[SECRET]
    assert set(keys) == {"jwt-secret-key", "secrets-encryption-key"}
    assert all(len(bytes.fromhex(value)) == 32 for value in keys.values())
    assert len(set(keys.values())) == 2
    calls = len(fake.argv_log(state))
    assert "kept" in fake.run(SCRIPT, state)
    assert fake.secrets(state)[SECRET] == keys
    assert not [c for c in fake.argv_log(state)[calls:] if "create" in c or "apply" in c]
    for argv in fake.argv_log(state):
        assert not any(value in arg for value in keys.values() for arg in argv), argv


def test_a_second_cluster_gets_other_keys(tmp_path: Path) -> None:
    made = []
    for name in ("one", "two"):
        state = tmp_path / name
        state.mkdir()
        fake.run(SCRIPT, state)
        made.append(fake.secrets(state)[SECRET])
    assert made[0]["jwt-secret-key"] != made[1]["jwt-secret-key"]


def test_no_server_key_is_committed_or_rendered() -> None:
    """The dev overlay carries no handoff-zenml-server Secret: the script makes it."""
    assert SECRET not in (K8S / "overlays" / "dev" / "secrets.dev.yaml").read_text()
    assert SECRET not in {o["metadata"]["name"] for o in render("dev") if o["kind"] == "Secret"}
    server = find(render("dev"), "Deployment", "zenml-server")
    refs = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for c in server["spec"]["template"]["spec"]["containers"]
        for e in c["env"]
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    assert SECRET in refs
