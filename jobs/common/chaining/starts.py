"""What a chained start is, whoever carries it out: the upstream's work, the downstream job pinned
to it, the name that makes starting it twice start it once, and the Job made from a CronJob."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Which jobs may follow which (dashed names, as in images and manifests).
FOLLOWERS = {
    "feature-engineering": ("training",),
    "training": ("batch-inference", "deployment"),
    # Training when the production model decayed; what follows a promotion on live labels.
    "monitoring": ("training", "batch-inference", "deployment"),
}
CRONJOB_PREFIX = "handoff-"
LABEL = "handoff.dev/"
# A Job's name becomes the pods' job-name label value: at most 63 characters.
MAX_NAME = 63
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class Outcome(StrEnum):
    """What became of one start."""

    STARTED = "started"
    ALREADY_STARTED = "already started"
    # The downstream CronJob is suspended: the operator's kill switch stops chained starts too.
    SUSPENDED = "suspended"
    FAILED = "failed"


@dataclass(frozen=True)
class Upstream:
    """The run that has new work: its job, what it produced (version) and its pipeline run."""

    job: str
    version: str
    run: str


@dataclass(frozen=True)
class Start:
    """One downstream job to start, pinned (settings key -> value) to the upstream's work."""

    job: str
    upstream: Upstream
    pins: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return start_name(self.job, self.upstream)

    @property
    def args(self) -> list[str]:
        """The pins as the downstream job's own flags: ``--model-version 7``."""
        return [arg for key, v in self.pins.items() for arg in ("--" + key.replace("_", "-"), v)]

    def to_json(self) -> str:
        return json.dumps(
            {
                "name": self.name,
                "job": self.job,
                "upstream": vars(self.upstream),
                "pins": dict(self.pins),
                "created_ns": time.time_ns(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Start:
        data = json.loads(text)
        return cls(data["job"], Upstream(**data["upstream"]), data["pins"])


def cronjob_name(job: str) -> str:
    return CRONJOB_PREFIX + job


def start_name(job: str, upstream: Upstream) -> str:
    """``handoff-training-raw-2023-1a2b3c4d``: the same upstream version, the same name."""
    digest = hashlib.sha256(f"{upstream.job}\n{upstream.version}".encode()).hexdigest()[:8]
    base = cronjob_name(job)
    slug = re.sub(r"[^a-z0-9]+", "-", upstream.version.lower()).strip("-")
    slug = slug[: MAX_NAME - len(base) - len(digest) - 2].strip("-")
    return "-".join(part for part in (base, slug, digest) if part)


def job_from_cronjob(cronjob: Mapping[str, Any], start: Start) -> dict[str, Any]:
    """The Job ``kubectl create job --from=cronjob/...`` would make, named after the upstream
    version, labelled with the upstream run and with the pins appended to the job's arguments.

    The owner reference lets the Job go with its CronJob; it is not the controller reference, so
    the CronJob controller neither adopts it nor warns about it, and no finalizer permission is
    needed.
    """
    template = copy.deepcopy(dict(cronjob["spec"]["jobTemplate"]))
    template_meta = template.get("metadata") or {}
    upstream = start.upstream
    labels = {
        **(cronjob["metadata"].get("labels") or {}),
        **(template_meta.get("labels") or {}),
        LABEL + "upstream-job": upstream.job,
    }
    if _LABEL_VALUE.match(upstream.run) and len(upstream.run) <= MAX_NAME:
        labels[LABEL + "upstream-run"] = upstream.run
    annotations = {
        **(template_meta.get("annotations") or {}),
        LABEL + "upstream-job": upstream.job,
        LABEL + "upstream-version": upstream.version,
        LABEL + "upstream-run": upstream.run,
        LABEL + "pinned": " ".join(start.args),
    }
    metadata: dict[str, Any] = {"name": start.name, "labels": labels, "annotations": annotations}
    if cronjob["metadata"].get("namespace"):
        metadata["namespace"] = cronjob["metadata"]["namespace"]
    if cronjob["metadata"].get("uid"):
        metadata["ownerReferences"] = [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": cronjob["metadata"]["name"],
                "uid": cronjob["metadata"]["uid"],
            }
        ]
    spec = template["spec"]
    containers = spec["template"]["spec"]["containers"]
    [container] = [c for c in containers if c["name"] == "job"] or containers[:1]
    container["args"] = [*container.get("args", []), *start.args]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": spec}
