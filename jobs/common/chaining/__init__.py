"""Event chaining: a job that has new work for the next jobs starts them, pinned to that work.

Feature engineering that published a dataset version starts training on exactly that version;
training that promoted a model version to production starts batch inference and deployment for
exactly that model version. The hooks call ``start_next`` only after success (and, in training,
only after a promotion), so nothing starts after a failure. Which jobs follow is each job's own
``downstream`` setting.

Every start has a name derived from the upstream job and version, so starting the same thing
twice (a retried upstream, a repeated call) starts it once: in a cluster that name is the Job's
(AlreadyExists = already started), locally the event file's.

Where starts go is the environment's choice, ``HANDOFF_CHAIN_VIA``:

- ``kubernetes``: create a Job from the downstream CronJob's ``jobTemplate`` through the
  Kubernetes API (the pod's service account needs ``get`` on those CronJobs and ``create`` on
  Jobs, nothing more); the CronJob's schedule stays as the fallback;
- a directory: write one JSON event per start there; ``handoff chain`` runs each as its own
  process;
- unset: start nothing (a job run by hand) and say so.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BeforeValidator

log = logging.getLogger("handoff")

VIA_ENV = "HANDOFF_CHAIN_VIA"
KUBERNETES = "kubernetes"
# Which jobs may follow which (dashed names, as in images and manifests).
FOLLOWERS = {
    "feature-engineering": ("training",),
    "training": ("batch-inference", "deployment"),
}
CRONJOB_PREFIX = "handoff-"
LABEL = "handoff.dev/"
# A Job's name becomes the pods' job-name label value: at most 63 characters.
MAX_NAME = 63
# Where a pod's service account token says which namespace it runs in.
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def _split(value: object) -> object:
    """``training,deployment`` (env, flag, flat ConfigMap) or a YAML list; empty = none."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _known(jobs: list[str]) -> list[str]:
    known = sorted({job for followers in FOLLOWERS.values() for job in followers})
    unknown = [job for job in jobs if job not in known]
    if unknown:
        raise ValueError(f"cannot start {', '.join(unknown)}; jobs that can be started: {known}")
    return jobs


Downstream = Annotated[list[str], BeforeValidator(_split), AfterValidator(_known)]
"""The settings type of a job's ``downstream`` key: the jobs it starts when it has new work."""


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


class Launcher(Protocol):
    def start(self, start: Start) -> bool:
        """Start it; False when it had already been started."""
        ...

    def where(self) -> str: ...


class KubernetesLauncher:
    """Jobs from CronJob templates, through the official client."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        self.api_client = api_client
        self.namespace = namespace

    @classmethod
    def from_environment(cls) -> KubernetesLauncher:
        """In a pod: its service account and namespace. Elsewhere: the kubeconfig's context."""
        from kubernetes import client, config

        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            config.load_incluster_config()
            namespace = SERVICE_ACCOUNT_NAMESPACE.read_text().strip()
        else:
            # Read now: the client reads KUBECONFIG once, when it is imported.
            kubeconfig = os.environ.get("KUBECONFIG")
            config.load_kube_config(config_file=kubeconfig)
            _, active = config.list_kube_config_contexts(config_file=kubeconfig)
            namespace = active["context"].get("namespace") or "default"
        return cls(client.ApiClient(), namespace)

    def where(self) -> str:
        return f"namespace {self.namespace}"

    def start(self, start: Start) -> bool:
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        batch = client.BatchV1Api(self.api_client)
        # The raw object, not the client's model of it: a field the client does not know yet
        # must still reach the Job.
        response = batch.read_namespaced_cron_job(
            cronjob_name(start.job), self.namespace, _preload_content=False
        )
        body = job_from_cronjob(json.loads(response.data), start)
        try:
            batch.create_namespaced_job(self.namespace, body)
        except ApiException as err:
            if err.status == 409:  # AlreadyExists: this upstream version already started it
                return False
            raise
        return True


class EventLauncher:
    """One JSON file per start in a directory, for ``handoff chain`` to run as processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def where(self) -> str:
        return f"events in {self.directory}"

    def start(self, start: Start) -> bool:
        try:
            with open(self.directory / f"{start.name}.json", "x") as event:
                event.write(start.to_json())
        except FileExistsError:
            return False
        return True


def read_events(directory: Path) -> list[Start]:
    """The starts written to ``directory``, oldest first."""
    found = [json.loads(p.read_text()) | {"text": p.read_text()} for p in directory.glob("*.json")]
    found.sort(key=lambda e: (e["created_ns"], e["name"]))
    return [Start.from_json(e["text"]) for e in found]


def launcher_from_environment() -> Launcher | None:
    via = os.environ.get(VIA_ENV, "")
    if not via:
        return None
    if via == KUBERNETES:
        return KubernetesLauncher.from_environment()
    return EventLauncher(Path(via))


def start_next(
    downstream: Sequence[str], upstream: Upstream, launcher: Launcher | None = None, **pins: str
) -> list[str]:
    """Start each downstream job pinned to ``pins``; one line per job, also printed.

    A job that cannot be started is reported, not raised: the upstream's own work is done and
    recorded, a retry of it would redo that work, and the downstream CronJob's schedule is the
    fallback.
    """
    if not downstream:
        return []
    launcher = launcher or launcher_from_environment()
    if launcher is None:
        line = f"chaining is off ({VIA_ENV} unset): not starting {', '.join(downstream)}"
        log.info(line)
        return [line]
    lines = []
    for job in downstream:
        start = Start(job, upstream, dict(pins))
        what = f"{job} for {upstream.job} version {upstream.version}"
        try:
            started = launcher.start(start)
        except Exception as err:  # any failure to start is reported, see above
            log.debug("starting %s failed", start.name, exc_info=True)
            line = (
                f"could not start {what} ({type(err).__name__}: {err}); the schedule of "
                f"{cronjob_name(job)} is the fallback"
            )
            log.error(line)
        else:
            done = "started" if started else "already started"
            line = f"{done} {what} as {start.name} ({launcher.where()}): {' '.join(start.args)}"
            print(line, flush=True)
        lines.append(line)
    return lines


# --- The hooks the jobs call (one line each) ---------------------------------------------------


def after_datasets(downstream: Sequence[str], run: str, train: str, test: str) -> list[str]:
    """Feature engineering published ``train`` and ``test``: train on exactly those."""
    upstream = Upstream("feature-engineering", train, run)
    return start_next(downstream, upstream, train_version=train, test_version=test)


def after_training(downstream: Sequence[str], run: str, version: str, stage: str) -> list[str]:
    """Training finished with model ``version`` in ``stage``: only a promotion starts anything."""
    if stage != "production":
        if downstream:
            print(f"not starting {', '.join(downstream)}: version {version} is in {stage}")
        return []
    return start_next(downstream, Upstream("training", version, run), model_version=version)


def production_to_deploy(
    model_name: str, pinned: str | None, idle_without_production: bool
) -> Any:  # a zenml ModelVersionResponse, or None
    """The production version to deploy, or None (said why) when there is nothing to do: no
    production version and ``idle_without_production`` (the scheduled fallback), or a ``pinned``
    version (a chained start) that is no longer production — its successor's own start deploys
    that one."""
    from jobs.common.store.model_registry import production_version, require_production

    if idle_without_production and production_version(model_name) is None:
        print(f"{model_name} has no production version yet; nothing to deploy")
        return None
    production = require_production(model_name)
    if pinned and pinned != str(production.number):
        print(
            f"{model_name} version {pinned} is no longer production (version "
            f"{production.number} is); nothing to do"
        )
        return None
    return production
