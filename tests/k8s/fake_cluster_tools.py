"""Stand-ins for `kubectl` and the ZenML server's `zenml` CLI, enough to run the walkthrough's
scripts (zenml-api-keys.sh, dev-secrets.sh) on this machine: state in a directory (a Secret is a
JSON file of its keys' values), every call's argv logged."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

KUBECTL = """#!{python}
import base64, json, os, subprocess, sys
from pathlib import Path

state = Path(os.environ["FAKE_STATE"])
with open(state / "argv.log", "a") as log:
    log.write(json.dumps(["kubectl", *sys.argv[1:]]) + "\\n")
args = sys.argv[1:]
if args[:1] == ["-n"]:
    args = args[2:]
secrets = state / "secrets"
secrets.mkdir(exist_ok=True)
if args[0] == "exec":
    command = args[args.index("--") + 1:]
    sys.exit(subprocess.run(command).returncode)
if args[:2] == ["get", "secret"]:
    sys.exit(0 if (secrets / args[2]).exists() else 1)
if args[0] == "get":
    sys.exit(1)  # no serving Deployment in this stand-in
if args[:3] == ["create", "secret", "generic"]:
    assert "--dry-run=client" in args and "yaml" in args, args
    data = {{}}
    for arg in args:
        if arg.startswith("--from-file="):
            key, source = arg.removeprefix("--from-file=").split("=", 1)
            data[key] = base64.b64encode(Path(source).read_bytes()).decode()
    print(json.dumps({{"kind": "Secret", "metadata": {{"name": args[3]}}, "data": data}}))
    sys.exit(0)
if args[0] == "apply":
    secret = json.loads(sys.stdin.read())
    data = {{k: base64.b64decode(v).decode() for k, v in secret["data"].items()}}
    (secrets / secret["metadata"]["name"]).write_text(json.dumps(data))
    sys.exit(0)
sys.exit(f"fake kubectl: unexpected {{args}}")
"""

ZENML = """#!{python}
import json, os, sys, uuid
from pathlib import Path

state = Path(os.environ["FAKE_STATE"])
with open(state / "argv.log", "a") as log:
    log.write(json.dumps(["zenml", *sys.argv[1:]]) + "\\n")
accounts = state / "accounts"
accounts.mkdir(exist_ok=True)
args = sys.argv[1:]
out = args[args.index("--output-file") + 1] if "--output-file" in args else None
if args[:2] == ["service-account", "describe"]:
    sys.exit(0 if (accounts / args[2]).exists() else 1)
if args[:2] == ["service-account", "create"]:
    if (accounts / args[2]).exists():
        sys.exit(f"EntityExistsError: service account {{args[2]}} exists")
    key = "ZENKEY_" + uuid.uuid4().hex
    (accounts / args[2]).write_text(key)
elif args[:2] == ["service-account", "api-key"] and args[3] == "rotate":
    if not (accounts / args[2]).exists():
        sys.exit(f"KeyError: no service account {{args[2]}}")
    key = "ZENKEY_" + uuid.uuid4().hex
    (accounts / args[2]).write_text(key)
else:
    sys.exit(f"fake zenml: unexpected {{args}}")
Path(out).write_text(key)
"""


def install(bin_dir: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, text in {"kubectl": KUBECTL, "zenml": ZENML}.items():
        path = bin_dir / name
        path.write_text(text.format(python=sys.executable))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def argv_log(state: Path) -> list[list[str]]:
    log = state / "argv.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def environment(bin_dir: Path, state: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_STATE": str(state)}


def secrets(state: Path) -> dict[str, dict[str, str]]:
    """The Secrets the stand-in cluster holds: name -> key -> value."""
    folder = state / "secrets"
    return {p.name: json.loads(p.read_text()) for p in folder.iterdir()} if folder.exists() else {}


def run(script: Path, state: Path) -> str:
    """``bash script`` with the stand-ins first on PATH (installed beside ``state``); its stdout."""
    bin_dir = state.parent / "bin"
    install(bin_dir)
    proc = subprocess.run(
        ["bash", str(script)],
        env=environment(bin_dir, state),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout
