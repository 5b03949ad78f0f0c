"""Driving jobs as separate processes against one store, and reading back what they did."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Training flags with known accuracies on the iris split with random_state 42:
FAIR = ("--classifier", "decision_tree", "--hyperparameters", "{max_depth: 2}")  # 0.93
# A one-split tree (0.67): passes a 0.5 threshold but is worse than any real champion.
WORSE = (
    "--classifier",
    "decision_tree",
    "--hyperparameters",
    "{max_depth: 1}",
    "--threshold",
    "0.5",
)
BETTER = ("--classifier", "logistic_regression")  # 0.97


@dataclass
class Store:
    """One ZenML store (local or remote) and the environment every job process gets."""

    env: dict[str, str]
    workdir: Path
    fresh_config: bool = False
    """Give every process its own empty ZENML_CONFIG_PATH, like a new pod each time."""
    config_dirs: list[Path] = field(default_factory=list)

    def job(self, job: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-m", f"jobs.{job}", *args], timeout)

    def handoff(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self._run([sys.executable, "-m", "jobs.cli", *args], timeout)

    def probe(self, what: str, name: str = "") -> list[dict]:
        result = self._run(
            [sys.executable, "-m", "tests.harness.probe", what, name], 120, pythonpath=True
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def production(self, model: str = "iris_classifier") -> int | None:
        found = [v["number"] for v in self.probe("models", model) if v["stage"] == "production"]
        assert len(found) <= 1, f"more than one production version: {found}"
        return found[0] if found else None

    def stages(self, model: str = "iris_classifier") -> dict[int, str]:
        return {v["number"]: v["stage"] for v in self.probe("models", model)}

    def start(self, job: str, *args: str) -> subprocess.Popen[str]:
        """Start a job without waiting (for races); collect it with ``finish``."""
        env = dict(self.env)
        if self.fresh_config:
            env["ZENML_CONFIG_PATH"] = tempfile.mkdtemp(prefix="zenml-config-", dir=self.workdir)
        return subprocess.Popen(
            [sys.executable, "-m", f"jobs.{job}", *args],
            env=env,
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def _run(
        self, command: list[str], timeout: float, pythonpath: bool = False
    ) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if self.fresh_config:
            config = Path(tempfile.mkdtemp(prefix="zenml-config-", dir=self.workdir))
            self.config_dirs.append(config)
            env["ZENML_CONFIG_PATH"] = str(config)
        if pythonpath:
            env["PYTHONPATH"] = str(REPO)
        return subprocess.run(
            command,
            env=env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def files_under(root: Path) -> set[str]:
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def stop_local_serving(state_dir: Path) -> None:
    import signal

    for state in state_dir.glob("local-*.json"):
        pid = json.loads(state.read_text()).get("pid")
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
