"""The tree tells the design: no folder of jobs/ holds more than 12 modules (past that, its
parts get folders that name them), and every job's body has the same name."""

from __future__ import annotations

from pathlib import Path

JOBS = Path(__file__).parents[2] / "jobs"
MOST_MODULES = 12


def test_no_folder_of_jobs_directly_holds_more_than_twelve_modules() -> None:
    crowded = {
        str(folder.relative_to(JOBS.parent)): count
        for folder in [JOBS, *(p.parent for p in JOBS.rglob("__init__.py"))]
        if (count := len(list(folder.glob("*.py")))) > MOST_MODULES
    }
    assert crowded == {}, f"give their parts folders that name them: {crowded}"


def test_every_batch_job_keeps_its_body_in_job_py() -> None:
    jobs = [p.parent for p in JOBS.glob("*/__main__.py") if p.parent.name != "cli"]
    assert [j.name for j in jobs if not (j / "job.py").is_file()] == []
