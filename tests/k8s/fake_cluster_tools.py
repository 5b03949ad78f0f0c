"""Stand-ins for `kubectl` and the ZenML server's `zenml` CLI, enough to run
scripts/zenml-api-keys.sh on this machine: state in a directory, every call's argv logged."""

from __future__ import annotations

import json
import os
import stat
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
    [source] = [a.split("=", 2)[2] for a in args if a.startswith("--from-file=api-key=")]
    value = base64.b64encode(Path(source).read_bytes()).decode()
    print(json.dumps({{"kind": "Secret", "metadata": {{"name": args[3]}},
                      "data": {{"api-key": value}}}}))
    sys.exit(0)
if args[0] == "apply":
    secret = json.loads(sys.stdin.read())
    (secrets / secret["metadata"]["name"]).write_text(
        base64.b64decode(secret["data"]["api-key"]).decode())
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
