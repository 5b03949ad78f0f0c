"""Jobs, the `handoff` CLI and store probes as separate processes against one ZenML store.

Tests never share ZenML's in-process global config with the jobs: they run every job the way a
pod does (`python -m jobs.<job>` with nothing but the environment it is given) and read back what
the jobs did with `python -m tests.harness.probe` in the same environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from tests.harness import servers

REPO = Path(__file__).resolve().parents[2]
MODEL = "iris_classifier"

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
BETTER = ("--classifier", "logistic_regression", "--hyperparameters", "{C: 10}")  # 1.0

# Only a hang guard for racing processes, far above what a training takes here.
RACE_HANG_GUARD_S = 900.0
STOP_WAIT_S = 15.0


@dataclass(frozen=True)
class JobRunner:
    """Runs processes with exactly `env` in `workdir`: one ZenML store (local or remote) as the
    jobs see it. `with_env` gives a runner with changed variables; this one stays as it is."""

    env: Mapping[str, str]
    workdir: Path
    fresh_config: bool = False
    """Give every process its own empty ZENML_CONFIG_PATH, like a new pod each time."""
    config_dirs: list[Path] = field(default_factory=list)
    """The config directories handed out so far (shared by runners made with `with_env`)."""

    def with_env(self, **changes: str | None) -> JobRunner:
        """This runner with variables set (or removed, for None)."""
        env = dict(self.env)
        for key, value in changes.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return replace(self, env=env)

    def job(self, job: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", f"jobs.{job}", *args)

    def handoff(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "jobs.cli", *args)

    def probe(self, what: str, name: str = "") -> list[dict]:
        probe = [sys.executable, "-m", "tests.harness.probe", what, name]
        # The probe is a module of the tests, not of the installed package.
        result = self._run(probe, PYTHONPATH=str(REPO))
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def production(self, model: str = MODEL) -> int | None:
        found = [v["number"] for v in self.probe("models", model) if v["stage"] == "production"]
        assert len(found) <= 1, f"more than one production version: {found}"
        return found[0] if found else None

    def stages(self, model: str = MODEL) -> dict[int, str]:
        return {v["number"]: v["stage"] for v in self.probe("models", model)}

    def run(self, *command: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
        """Run `command` to its end, however long it takes (pytest-timeout guards hangs)."""
        return self._run([os.fspath(part) for part in command])

    def _run(self, command: list[str], **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            env={**self._process_env(), **extra_env},
            cwd=self.workdir,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def start(self, job: str, *args: str) -> subprocess.Popen[str]:
        """Start a job without waiting for it; the caller kills or waits for it."""
        return subprocess.Popen(
            [sys.executable, "-m", f"jobs.{job}", *args],
            env=self._process_env(),
            cwd=self.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def race(self, count: int, job: str, *args: str) -> list[subprocess.CompletedProcess[str]]:
        """Start `count` copies of a job at once and collect them all."""
        return self.together(job, *[list(args)] * count)

    def together(self, job: str, *argsets: list[str]) -> list[subprocess.CompletedProcess[str]]:
        """Start one process of `job` per argument list, all at once, and collect them all.
        Every racer is killed and waited for if one hangs past the guard or the test is
        interrupted."""
        commands = [[sys.executable, "-m", f"jobs.{job}", *args] for args in argsets]
        racers = [self.start(job, *args) for args in argsets]
        deadline = time.monotonic() + RACE_HANG_GUARD_S
        try:
            results = []
            for command, racer in zip(commands, racers, strict=True):
                remaining = max(deadline - time.monotonic(), 0.0)
                try:
                    out, err = racer.communicate(timeout=remaining)
                except subprocess.TimeoutExpired:
                    raise AssertionError(
                        f"a racing {job} hung for {RACE_HANG_GUARD_S:.0f}s; all racers killed"
                    ) from None
                results.append(subprocess.CompletedProcess(command, racer.returncode, out, err))
            return results
        finally:
            for racer in racers:
                if racer.poll() is None:
                    racer.kill()
                racer.communicate()

    def _process_env(self) -> dict[str, str]:
        env = dict(self.env)
        if self.fresh_config:
            config = Path(tempfile.mkdtemp(prefix="zenml-config-", dir=self.workdir))
            self.config_dirs.append(config)
            env["ZENML_CONFIG_PATH"] = str(config)
        return env


def local_runner(workdir: Path) -> JobRunner:
    """A runner on ZenML's embedded local store in `workdir` (what `make run` uses)."""
    return JobRunner(servers.local_env(workdir), workdir)


def champion_runner(workdir: Path) -> JobRunner:
    """A local store with the iris datasets and a production model trained by FAIR."""
    runner = local_runner(workdir)
    ok(runner.job("feature_engineering"))
    ok(runner.job("training", *FAIR))
    return runner


def server_runner(zenml: servers.ZenMLServer, workdir: Path, stack: str = "handoff") -> JobRunner:
    """A runner on the shared server, each process with a fresh config directory like a pod."""
    env = servers.job_env(zenml, workdir / "unused-config", stack)
    return JobRunner(env, workdir, fresh_config=True)


def bucket_runner(
    zenml: servers.ZenMLServer, s3: servers.S3Server, workdir: Path, bucket: str
) -> JobRunner:
    """A server runner whose handoff stack keeps its artifacts in `bucket` (created if new)."""
    jobs = server_runner(zenml, workdir)
    bootstrap_stack(jobs, s3, bucket, HANDOFF_CREATE_BUCKET="true")
    return jobs


def own_stack_runner(
    zenml: servers.ZenMLServer, s3: servers.S3Server, workdir: Path, name: str, dataset: str
) -> JobRunner:
    """Jobs on a stack of their own whose artifacts are in a bucket of their own (both called
    `name`: what is in it is theirs alone), with a production model of `dataset`."""
    jobs = server_runner(zenml, workdir, stack=name)
    bootstrap_stack(
        jobs,
        s3,
        name,
        HANDOFF_CREATE_BUCKET="true",
        HANDOFF_STACK_NAME=name,
        HANDOFF_ARTIFACT_STORE_NAME=f"{name}-s3",
    )
    ok(jobs.job("feature_engineering", "--dataset", dataset))
    ok(jobs.job("training", "--dataset", dataset))
    return jobs


def trained_runner(
    zenml: servers.ZenMLServer, s3: servers.S3Server, workdir: Path, bucket: str, dataset: str
) -> JobRunner:
    """A bucket runner with a production model of `dataset` (trained once per server)."""
    jobs = bucket_runner(zenml, s3, workdir, bucket)
    if jobs.production(f"{dataset}_classifier") is None:
        ok(jobs.job("feature_engineering", "--dataset", dataset))
        ok(jobs.job("training", "--dataset", dataset))
    return jobs


def bootstrap_stack(runner: JobRunner, s3: servers.S3Server, bucket: str, **overrides: str) -> str:
    """Run `handoff stack bootstrap` with the object-store variables for `bucket` (plus
    `overrides`, e.g. HANDOFF_CREATE_BUCKET or the names of a stack of the test's own)."""
    env = {**servers.object_store_env(s3, bucket), **overrides}
    return ok(runner.with_env(**env).handoff("stack", "bootstrap"))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failing job leaves on stderr for a human."""
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def files_under(root: Path) -> set[str]:
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def stop_local_serving(state_dir: Path) -> None:
    """Stop every server the local deployment target started from `state_dir` and wait until
    each is gone (SIGTERM to its process group, SIGKILL after STOP_WAIT_S)."""
    for state in state_dir.glob("local-*.json"):
        pid = json.loads(state.read_text()).get("pid")
        if not pid:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _running(pid):
                time.sleep(0.1)


def _running(pid: int) -> bool:
    """Whether `pid` still runs (a zombie waiting for its reaper has stopped running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
