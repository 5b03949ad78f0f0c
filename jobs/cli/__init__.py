"""`handoff`: run or backfill a job, promote or roll back a model, show status, serve, bootstrap.

Jobs never import each other; this command line is the one place that knows them all.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from jobs.common.runtime import logs, settings
from jobs.common.runtime.errors import run_main

JOBS = ("feature-engineering", "training", "batch-inference", "deployment")
"""In chain order, spelled as in images and manifests; the Python package is the snake_case."""
SERVICES = ("serving",)
MAINTENANCE = ("gc",)
"""Jobs that keep the others' store tidy: not part of the chain."""
MONITORING = ("monitoring",)
"""Jobs that measure what the chain produced (and may start training): not part of the chain."""
STATE_DIR = Path(".handoff")
"""Where `handoff dashboard` records what it started (`make run` keeps its store here too)."""
DASHBOARD_PORT = 8237
BACKFILL_JOBS = ("batch-inference",)
"""Jobs whose input is partitioned: `handoff backfill <job> --from A --to B`."""


def package(job: str) -> str:
    return "jobs." + job.replace("-", "_")


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure("handoff")
    parser = argparse.ArgumentParser(prog="handoff", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run one job (its own flags follow)")
    run.add_argument("job", choices=JOBS + SERVICES + MAINTENANCE + MONITORING)
    run.add_argument("args", nargs=argparse.REMAINDER)

    backfill = commands.add_parser(
        "backfill",
        help="score every missing partition of a range, oldest first",
        description="handoff backfill batch-inference --from A --to B [the job's own flags]",
    )
    backfill.add_argument("job", choices=BACKFILL_JOBS)
    backfill.add_argument("args", nargs=argparse.REMAINDER, help="--from A --to B, job flags")

    chain = commands.add_parser(
        "chain", help="feature engineering and the jobs it starts, each its own process"
    )
    chain.add_argument("--config-dir", help="directory with <job>.yaml files to pass on")

    promote = commands.add_parser("promote", help="move a model version to a stage by hand")
    promote.add_argument("model")
    promote.add_argument("version")
    promote.add_argument("--stage", default="production", choices=["production", "staging"])
    promote.add_argument("--reason", default="promoted by hand")

    rollback = commands.add_parser("rollback", help="put the previous production version back")
    rollback.add_argument("model")

    status = commands.add_parser("status", help="datasets, versions, predictions, endpoints")
    status.add_argument("--dataset", default="iris")
    status.add_argument("--model-name", default="")
    status.add_argument(
        "--json", action="store_true", help="one JSON object (jobs/cli/status.schema.json)"
    )

    serve = commands.add_parser(
        "serve",
        help="serve a model version over HTTP (flags of serving)",
        description="Serve a model version from ZenML over HTTP, as `python -m jobs.serving`.",
    )
    from jobs.serving.settings import Settings as ServingSettings

    settings.add_flags(serve, ServingSettings)

    gc = commands.add_parser(
        "gc",
        help="list what the retention rules would delete; --apply deletes it (flags of gc)",
        description="Delete old partitions, model versions, datasets and leftovers, as "
        "`python -m jobs.gc`: a dry run unless --apply.",
    )
    from jobs.gc.settings import Settings as GcSettings

    settings.add_flags(gc, GcSettings)

    dashboard = commands.add_parser(
        "dashboard",
        help="ZenML's dashboard over the local store, in the background (`handoff stop` ends it)",
    )
    dashboard.add_argument("--port", type=int, default=DASHBOARD_PORT)
    dashboard.add_argument("--state-dir", type=Path, default=STATE_DIR, help="pid file and log")
    stop = commands.add_parser(
        "stop", help="stop the dashboard and the local endpoints, and wait until they are gone"
    )
    stop.add_argument("--state-dir", type=Path, default=STATE_DIR, help="as for dashboard")

    stack = commands.add_parser("stack", help="manage the ZenML stack the jobs share")
    stack_commands = stack.add_subparsers(dest="stack_command", required=True)
    boot = stack_commands.add_parser("bootstrap", help="register secret, S3 store, stack")
    from jobs.cli.stack import StackSettings

    settings.add_flags(boot, StackSettings)

    args = parser.parse_args(argv)
    if args.command == "run":
        return _run_job(args.job, args.args)
    if args.command == "backfill":
        return _backfill(args.job, args.args)
    if args.command == "serve":
        return _run_job("serving", _flags_again(args, ServingSettings))
    if args.command == "gc":
        return _run_job("gc", _flags_again(args, GcSettings))
    if args.command == "chain":
        return _chain(args.config_dir)
    if args.command in ("dashboard", "stop"):
        return run_main(lambda: _background(args), f"handoff {args.command}")
    return run_main(lambda: _manage(args), f"handoff {args.command}")


def _run_job(job: str, args: Sequence[str]) -> int:
    return int(importlib.import_module(package(job) + ".__main__").main(list(args)))


def _flags_again(args: argparse.Namespace, settings_cls: type[BaseModel]) -> list[str]:
    """The settings flags ``settings.add_flags`` parsed into ``args``, spelled again for the
    job's own parser (one parser per job, so the job checks and loads them as it always does).
    Spelled ``--key=value``: a value that starts with a dash (a negative age) stays a value."""
    given = {"config": args.config} | {key: getattr(args, key) for key in settings_cls.model_fields}
    return [
        f"--{key.replace('_', '-')}={value}" for key, value in given.items() if value is not None
    ]


def _backfill(job: str, args: Sequence[str]) -> int:
    """The job itself backfills (`--from`/`--to` are its flags too); this only insists on both."""
    flags = argparse.ArgumentParser(prog=f"handoff backfill {job}", add_help=False)
    flags.add_argument("--from", dest="first", required=True)
    flags.add_argument("--to", dest="last", required=True)
    known, rest = flags.parse_known_args(list(args))
    return _run_job(job, ["--from", known.first, "--to", known.last, *rest])


def _chain(config_dir: str | None) -> int:
    """Feature engineering, then whatever it starts, and so on: each job its own process, as in
    the cluster, started through the same events the cluster's jobs create Jobs from."""
    from jobs.common import chaining

    with tempfile.TemporaryDirectory(prefix="handoff-chain-") as events:
        env = {**os.environ, chaining.VIA_ENV: events}
        queue: list[tuple[str, list[str], str]] = [(JOBS[0], [], "by hand")]
        ran: set[str] = set()
        while queue:
            job, pins, why = queue.pop(0)
            config = os.path.join(config_dir or "", package(job)[5:] + ".yaml")
            command = [sys.executable, "-m", package(job)]
            command += ["--config", config] if config_dir and os.path.exists(config) else []
            process = subprocess.Popen([*command, *pins], env=env)
            print(f"==> {job} {' '.join(pins)} (pid {process.pid}, started {why})", flush=True)
            started = time.monotonic()
            code = process.wait()
            print(f"<== {job}: exit {code} in {time.monotonic() - started:.1f}s", flush=True)
            if code != 0:
                return code
            for start in chaining.read_events(Path(events)):
                if start.name not in ran:
                    ran.add(start.name)
                    why = f"by {start.upstream.job} version {start.upstream.version}"
                    queue.append((start.job, start.args, why))
    print()
    return _manage(argparse.Namespace(command="status", dataset="iris", model_name="", json=False))


def _background(args: argparse.Namespace) -> int:
    """What a developer's machine runs in the background: the dashboard, the local endpoints."""
    from jobs.cli import dashboard

    if args.command == "dashboard":
        config_path = Path(os.environ.get("ZENML_CONFIG_PATH") or Path.home() / ".config/zenml")
        already = dashboard.running(args.state_dir)
        found = already or dashboard.start(config_path, args.state_dir, args.port)
        print(
            f"ZenML's dashboard over {config_path} at {found.url} (pid {found.pid})"
            + (", already running" if already else "")
        )
        print("log in as `default` with an empty password; `make stop` stops it")
        return 0
    from jobs.deployment.settings import Settings as DeploymentSettings

    endpoints = Path(settings.load(DeploymentSettings, "jobs.deployment").state_dir)
    stopped = dashboard.stop_all(args.state_dir, endpoints)
    print("\n".join(f"stopped {what}" for what in stopped) or "nothing was running")
    return 0


def _console_to_stderr() -> None:
    """ZenML's console handler writes its lines ("Setting the global active stack to default.")
    to stdout; move every console handler of the root logger to stderr, so that a command whose
    stdout is data (`handoff status --json | jq`) prints nothing else there."""
    import zenml  # noqa: F401  (its import sets up the root logger's console handler)

    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            handler.setStream(sys.stderr)


def _manage(args: argparse.Namespace) -> int:
    from jobs.common.runtime.connection import connect

    if args.command == "stack":
        from jobs.cli.stack import StackSettings, bootstrap

        config = settings.load(StackSettings, "jobs.cli", getattr(args, "config", None), vars(args))
        report = bootstrap(config)
        print("\n".join(report))
        if all(line.endswith("unchanged") for line in report):
            print("nothing to do: the server already matches")
        return 0
    if getattr(args, "json", False):
        _console_to_stderr()
    connect()
    from jobs.common.store import model_registry

    who = f"{os.environ.get('USER', 'someone')} via handoff {args.command}"
    if args.command == "promote":
        with model_registry.promotion_lock(args.model):
            entry = model_registry.set_stage(
                args.model, args.version, args.stage, decided_by=who, reason=args.reason
            )
        print(
            f"{args.model} version {args.version} -> {args.stage}"
            + (
                f" (was: version {entry['previous_production']})"
                if entry.get("previous_production")
                else ""
            )
        )
    elif args.command == "rollback":
        current, restored = model_registry.rollback(args.model, decided_by=who)
        print(f"{args.model}: production is version {restored} again (was {current})")
    elif args.command == "status":
        from jobs.cli.status import collect, render

        names = settings.JobSettings(dataset=args.dataset, model_name=args.model_name)
        status = collect(names)
        print(json.dumps(status, indent=2) if args.json else "\n".join(render(status)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
