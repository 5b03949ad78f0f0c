"""The contract's job table: one name per job, `batch_inference` in Python, `batch-inference` in
images, manifests and skaffold artifacts. Every test that names jobs takes them from here."""

from __future__ import annotations

# Python package name -> image, manifest and skaffold artifact name.
JOBS = {
    "feature_engineering": "handoff-feature-engineering",
    "training": "handoff-training",
    "batch_inference": "handoff-batch-inference",
    "deployment": "handoff-deployment",
    "serving": "handoff-serving",
    "gc": "handoff-gc",
    "monitoring": "handoff-monitoring",
}
# The jobs that run to completion (CronJobs in the cluster); serving is the long-running one.
BATCH_JOBS = [
    "feature_engineering",
    "training",
    "batch_inference",
    "deployment",
    "gc",
    "monitoring",
]


def target(job: str) -> str:
    """The Dockerfile target (and `make images` name) of a job: its image name without prefix."""
    return JOBS[job].removeprefix("handoff-")


def job_of_target(name: str) -> str:
    """The Python package of a Dockerfile target: 'batch-inference' -> 'batch_inference'."""
    (job,) = [job for job in JOBS if target(job) == name]
    return job
