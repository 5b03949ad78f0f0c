"""`python -m jobs.<job> --help` answers at once: no heavy library is imported to print it.

Checked by what is imported, not by the clock (`make bench`-style timing is in docs/performance.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

ENTRY_POINTS = [
    "feature_engineering",
    "training",
    "batch_inference",
    "deployment",
    "serving",
    "monitoring",
    "cli",
]
# Each takes from a few hundred milliseconds (numpy, httpx's stack) to seconds (zenml, sklearn).
HEAVY = [
    "sklearn",
    "zenml",
    "pandas",
    "numpy",
    "pyarrow",
    "scipy",
    "fastapi",
    "uvicorn",
    "kubernetes",
    "docker",
    "boto3",
    "s3fs",
]
PROBE = """
import json, runpy, sys
sys.argv = ["python -m jobs.{job}", "--help"]
try:
    runpy.run_module("jobs.{job}", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code
else:
    code = 0
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


@pytest.mark.parametrize("job", ENTRY_POINTS)
def test_help_imports_no_heavy_library(job: str):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(job=job, heavy=HEAVY)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None), result.stderr[-2000:]
    assert "--help" in result.stdout or "usage:" in result.stdout
    assert report["heavy"] == [], f"python -m jobs.{job} --help imports {report['heavy']}"
