"""What every target shares: built from settings without reaching anything, one import
direction (the factory above the targets), and the local target's process stopped for good."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.deployment.factory import KINDS, make_target
from jobs.deployment.settings import Settings
from jobs.deployment.targets.docker import DockerTarget
from jobs.deployment.targets.kubernetes import KubernetesTarget
from jobs.deployment.targets.local import LocalTarget, stop_process_group

TARGETS = Path(__file__).parents[3] / "jobs" / "deployment" / "targets"


@pytest.mark.parametrize(
    ("kind", "cls", "endpoint"),
    [
        ("local", LocalTarget, "http://127.0.0.1:8100"),
        ("docker", DockerTarget, "http://127.0.0.1:8100"),
        ("kubernetes", KubernetesTarget, "http://handoff-serving:8080"),
    ],
)
def test_each_target_is_built_from_settings_without_reaching_anything(
    kind: str, cls: type, endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)
    target = make_target(Settings(target=kind, port=8100).target_spec())  # type: ignore[arg-type]
    assert isinstance(target, cls) and target.kind == kind
    assert target.endpoint == endpoint
    assert list(tmp_path.iterdir()) == []  # no state directory, no file


def test_every_kind_the_settings_accept_has_a_target():
    assert set(KINDS) == set(Settings.model_fields["target"].annotation.__args__)


def _imports(module: Path) -> set[str]:
    """The jobs.deployment modules ``module`` imports, at any depth of its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "jobs.deployment.targets":
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.startswith("jobs.deployment")}


def test_targets_import_only_the_protocol_and_the_endpoint_helpers():
    """The factory lives above the targets: no target imports it, or another target (lazily
    either), so there is no import cycle."""
    shared = {"jobs.deployment.targets.base", "jobs.deployment.targets.endpoint"}
    own = {"kubernetes": {"jobs.deployment.targets.kubernetes_rollout"}}
    for module in sorted(TARGETS.glob("*.py")):
        extra = _imports(module) - shared - own.get(module.stem, set())
        assert not extra, f"{module.name} imports {sorted(extra)}"


def _process_group(code: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_stopping_local_serving_waits_until_the_process_is_gone():
    process = _process_group("import time; print('ready', flush=True); time.sleep(600)")
    stop_process_group(process.pid)
    assert _gone(process.pid)  # when it returns, nothing is left to hold the port


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period():
    process = _process_group(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(600)"
    )
    stop_process_group(process.pid, grace_s=0.5)
    assert _gone(process.pid)


def _gone(pid: int) -> bool:
    """No such process, or a zombie (exited, holding no port; its parent, this test, has not
    reaped it yet: stop_process_group may see it exit between its waitpid and its check)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "Z"
