"""Every handoff workload of the dev overlay, run as its rendered manifest says, in chain order.

`kubectl kustomize k8s/overlays/dev` is rendered once; each pod spec (the CronJobs' job
templates, the stack bootstrap's among them, the serving Deployment) becomes a `docker run` of
the locally built image (tests/containers/manifest_runner.py): command and args verbatim, env
resolved from the
rendered ConfigMaps and test-valued Secrets, the handoff-config ConfigMap's files bind-mounted
read-only, emptyDirs as tmpfs, uid/gid, read-only root, no capabilities, no-new-privileges and
the memory/CPU limits. The only changes to what is rendered are ConfigMap *values*: the
handoff-connection ConfigMap points at the harness's ZenML server and S3 server on loopback
(`--network host`), as the platform component points it at the in-cluster ones.

What stands in for the cluster:
- the kubelet -> KUBERNETES_SERVICE_HOST/PORT in every container and a ServiceAccount token
  volume for the pods that automount it (the deployment job, and the chaining jobs: feature
  engineering and training). The API address is a loopback port nobody listens on: there is no
  Kubernetes API here, so the deployment job's documented answer is exit 1 ("retry may help")
  with one line naming the unreachable API, and the chaining jobs report that they could not
  start their downstream jobs (their schedules are the fallback) and succeed.
- the Service -> the serving container binds the rendered containerPort (8080) on the host.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pandas as pd
import pytest

from tests.containers import manifest_runner as mr
from tests.containers.docker_support import DOCKER
from tests.harness import iris, servers
from tests.harness.runner import JobRunner, server_runner
from tests.k8s.manifests import (
    NAMESPACE,
    SECRET_KEYS,
    find,
    generated,
    job_specs,
    pod_templates,
    render,
    render_with_components,
)

pytestmark = [pytest.mark.containers, pytest.mark.timeout(3600)]


OVERLAY = "dev"
# A Job runs at most its activeDeadlineSeconds, and here at most this long.
JOB_TIMEOUT = 900.0
# The chain in order: each step's workload needs every step before it to have run.
CHAIN = {
    "bootstrap": ("CronJob", "handoff-stack-bootstrap"),
    "feature-engineering": ("CronJob", "handoff-feature-engineering"),
    "training": ("CronJob", "handoff-training"),
    "batch-inference": ("CronJob", "handoff-batch-inference"),
}
# When the CronJobs "were scheduled": the nightly batch inference scores the day before, which
# `land_partition` puts where the shipped config says (a template).
SCHEDULED = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
PARTITION_KEY = "incoming/iris/dt=2026-11-25/part-0.parquet"


@dataclass
class Cluster:
    objects: list[dict[str, Any]]
    configmaps: dict[str, dict[str, str]]
    secrets: dict[str, dict[str, str]]
    image_map: dict[str, str]
    kubelet: mr.Kubelet
    containers: mr.Containers
    workdir: Path
    bucket: str
    zenml: servers.ZenMLServer
    s3: servers.S3Server
    report: Any
    done: set[str] = field(default_factory=set)
    runs: int = 0

    def pod_spec(self, kind: str, name: str, objects: list[dict] | None = None) -> dict[str, Any]:
        (template,) = pod_templates(find(objects or self.objects, kind, name))
        return template["spec"]

    def args(
        self,
        kind: str,
        name: str,
        scheduled: datetime | None = None,
        objects: list[dict] | None = None,
        index: int | None = None,
    ) -> list[str]:
        """`docker run` arguments for the workload, with its volumes written for a fresh pod.

        A CronJob's pod gets the labels the Job controller gives it: its Job's name, which the
        CronJob controller makes from the scheduled minute (``<cronjob>-<unix time / 60>``);
        a pod of an Indexed Job also its completion index, as label and JOB_COMPLETION_INDEX."""
        objects = objects or self.objects
        spec = self.pod_spec(kind, name, objects)
        (template,) = pod_templates(find(objects, kind, name))
        labels = dict(template.get("metadata", {}).get("labels", {}))
        if kind == "CronJob":
            moment = scheduled or SCHEDULED
            job = f"{name}-{int(moment.timestamp()) // 60}"
            labels |= {"batch.kubernetes.io/job-name": job, "job-name": job}
        indexed = []
        if index is not None:
            labels |= {"batch.kubernetes.io/job-completion-index": str(index)}
            indexed = ["--env", f"JOB_COMPLETION_INDEX={index}"]
        self.runs += 1
        volumes = self.workdir / "pods" / f"{self.runs:02d}-{name}"
        mr.write_volumes(spec, self.configmaps, self.secrets, volumes)
        return indexed + mr.docker_run_args(
            spec,
            self.configmaps,
            self.secrets,
            self.image_map,
            volume_root=volumes,
            kubelet=self.kubelet,
            pod_labels=labels,
            pod_namespace=find(objects, kind, name)["metadata"].get("namespace", "default"),
        )

    def run_indexed_job(
        self, objects: list[dict], name: str, scheduled: datetime
    ) -> list[mr.Finished]:
        """Every index of a CronJob's Indexed Job, `parallelism` pods at a time, each a pod of
        the same Job (one name, one scheduled time) with its own completion index."""
        (spec,) = job_specs(find(objects, "CronJob", name))
        assert spec["completionMode"] == "Indexed"
        deadline = min(float(spec.get("activeDeadlineSeconds", JOB_TIMEOUT)), JOB_TIMEOUT)
        finished: list[mr.Finished] = []
        indexes = list(range(spec["completions"]))
        while indexes:
            wave, indexes = indexes[: spec["parallelism"]], indexes[spec["parallelism"] :]
            started = time.monotonic()
            pods = {
                i: self.containers.start(
                    f"{name.removeprefix('handoff-')}-{i}",
                    self.args("CronJob", name, scheduled, objects, index=i),
                )
                for i in wave
            }
            for i, pod in pods.items():
                while self.containers.state(pod).get("Running"):
                    assert time.monotonic() - started < deadline, f"index {i} ran past {deadline}s"
                    time.sleep(0.5)
                out, err = self.containers.logs(pod)
                code = int(self.containers.state(pod).get("ExitCode", -1))
                finished.append(mr.Finished(pod, code, out, err, time.monotonic() - started))
                self.containers.remove(pod)
                self.report(f"cronjob/{name} index {i}: exited {code}")
        return finished

    def run_job(self, kind: str, name: str, scheduled: datetime | None = None) -> mr.Finished:
        obj = find(self.objects, kind, name)
        (job_spec,) = job_specs(obj)
        deadline = min(float(job_spec.get("activeDeadlineSeconds", JOB_TIMEOUT)), JOB_TIMEOUT)
        args = self.args(kind, name, scheduled)
        image = mr.image_for(mr.pick_container(self.pod_spec(kind, name)), self.image_map)
        finished = self.containers.run(name.removeprefix("handoff-"), args, timeout=deadline)
        size = mr.image_size(self.containers.docker, image) / 1e6
        self.report(
            f"{kind.lower()}/{name}: {image} ({size:.0f} MB) exited {finished.exit_code} "
            f"in {finished.seconds:.0f}s"
        )
        return finished

    def store(self) -> JobRunner:
        """Reads what the jobs did, from the host, through the same server."""
        return server_runner(self.zenml, self.workdir)

    def land_partition(self) -> None:
        """Yesterday's features, as an upstream system lands them for the nightly run."""
        from jobs.common.data.iris import features

        body = io.BytesIO()
        features().to_parquet(body, index=False)
        self.s3.client().put_object(Bucket=self.bucket, Key=PARTITION_KEY, Body=body.getvalue())

    def requires(self, step: str) -> None:
        """Run, in chain order, every workload up to and including `step` that has not run
        successfully in this module yet: a test builds the state it needs."""
        for name, (kind, workload) in CHAIN.items():
            if name not in self.done:
                if name == "batch-inference":
                    self.land_partition()
                ok(self.run_job(kind, workload))
                self.done.add(name)
            if name == step:
                return
        raise AssertionError(f"no chain step {step!r}; steps: {list(CHAIN)}")


def _reporter(request: pytest.FixtureRequest):
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def report(line: str) -> None:
        if terminal is None or capture is None:
            print(line)
            return
        # Part of the result (image sizes, exit codes, durations): shown even under -q.
        with capture.global_and_fixture_disabled():
            terminal.write_line(f"containers: {line}")

    return report


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest,
    images: dict[str, str],
    zenml_server: servers.ZenMLServer,
    s3_server: servers.S3Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    objects = render(OVERLAY)
    connection = generated(objects, "ConfigMap", "handoff-connection")["data"]
    configmaps = mr.with_values(
        objects,
        mr.configmaps_of(objects),
        "handoff-connection",
        {
            "ZENML_STORE_URL": zenml_server.url,
            "HANDOFF_S3_ENDPOINT_URL": s3_server.endpoint_url,
            "HANDOFF_S3_REGION": s3_server.region,
        },
    )
    # The Secrets an operator creates (the dev overlay's placeholders are not used).
    secrets = {
        "handoff-zenml": {"api-key": zenml_server.api_key},
        "handoff-zenml-serving": {"api-key": zenml_server.api_key},
        "handoff-object-store": {
            "access-key-id": s3_server.access_key,
            "secret-access-key": s3_server.secret_key,
        },
    }
    assert {name: set(keys) for name, keys in secrets.items()} == SECRET_KEYS

    workdir = tmp_path_factory.mktemp("manifest-runs")
    token = mr.write_service_account(workdir / "serviceaccount", NAMESPACE)
    docker = DOCKER
    assert docker is not None  # `images` has skipped or failed otherwise
    with mr.tracked_containers(docker) as containers:
        yield Cluster(
            objects=objects,
            configmaps=configmaps,
            secrets=secrets,
            image_map={f"handoff-{target}": tag for target, tag in images.items()},
            kubelet=mr.Kubelet(servers.LOOPBACK, servers.free_port(), token),
            containers=containers,
            workdir=workdir,
            bucket=urlparse(connection["HANDOFF_S3_PATH"]).netloc,
            zenml=zenml_server,
            s3=s3_server,
            report=_reporter(request),
        )


def ok(finished: mr.Finished) -> str:
    assert finished.exit_code == 0, (
        f"{finished.name} exited {finished.exit_code}\n"
        f"stdout:\n{finished.stdout[-3000:]}\nstderr:\n{finished.stderr[-3000:]}"
    )
    return finished.stdout


def test_stack_bootstrap_job_registers_the_stack_once(cluster: Cluster):
    # The bootstrap creates the bucket the rendered HANDOFF_S3_PATH names (HANDOFF_CREATE_BUCKET)
    # and registers the stack; whether it was there before depends on what else used the server.
    ok(cluster.run_job(*CHAIN["bootstrap"]))
    cluster.done.add("bootstrap")
    (stack,) = [s for s in cluster.store().probe("stacks") if s["name"] == "handoff"]
    (store,) = [
        c
        for c in cluster.store().probe("components", "artifact_store")
        if c["name"] == "handoff-s3"
    ]
    assert stack["components"]["artifact_store"] == ["handoff-s3"]
    assert store["configuration"]["path"] == f"s3://{cluster.bucket}"
    assert cluster.bucket in [b["Name"] for b in cluster.s3.client().list_buckets()["Buckets"]]
    # Running it again (recovery, a second `kubectl create job --from`) changes nothing.
    again = ok(cluster.run_job(*CHAIN["bootstrap"]))
    assert "nothing to do" in again and "created" not in again


def test_feature_engineering_job(cluster: Cluster):
    cluster.requires("bootstrap")
    out = ok(cluster.run_job(*CHAIN["feature-engineering"]))
    assert "published iris_training_dataset" in out
    assert "published iris_testing_dataset" in out
    cluster.done.add("feature-engineering")


def test_training_job_promotes_its_model(cluster: Cluster):
    cluster.requires("feature-engineering")
    out = ok(cluster.run_job(*CHAIN["training"]))
    assert "-> production" in out
    assert cluster.store().production() is not None
    cluster.done.add("training")


def test_batch_inference_job(cluster: Cluster):
    cluster.requires("training")
    cluster.land_partition()
    out = ok(cluster.run_job(*CHAIN["batch-inference"]))
    production = cluster.store().production()
    assert f"with iris_classifier version {production}" in out
    assert f"iris_predictions version 2026-11-25_model_{production}" in out
    # A retry pod of the same Job (same name label) finds the partition done.
    again = ok(cluster.run_job("CronJob", "handoff-batch-inference"))
    assert "already scored" in again
    cluster.done.add("batch-inference")


def test_each_index_of_the_sharded_batch_inference_job_scores_its_shard_and_one_commits(
    cluster: Cluster, tmp_path: Path
):
    """k8s/components/sharded-batch-inference on the dev overlay: the Indexed Job's pods."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jobs.common.data.iris import features

    cluster.requires("training")
    objects = render_with_components(OVERLAY, ["sharded-batch-inference"], tmp_path)
    # The night after SCHEDULED: 600 rows in 6 row groups for the shards to share.
    scheduled = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    body = io.BytesIO()
    rows = pa.Table.from_pandas(pd.concat([features()] * 4, ignore_index=True))
    pq.write_table(rows, body, row_group_size=100)
    key = PARTITION_KEY.replace("2026-11-25", "2026-11-27")
    cluster.s3.client().put_object(Bucket=cluster.bucket, Key=key, Body=body.getvalue())

    finished = cluster.run_indexed_job(objects, "handoff-batch-inference", scheduled)
    for pod in finished:
        ok(pod)
    (spec,) = job_specs(find(objects, "CronJob", "handoff-batch-inference"))
    assert len(finished) == spec["completions"] > 1
    committed = [p.stdout for p in finished if "committed 600 rows" in p.stdout]
    assert len(committed) == 1, [p.stdout for p in finished]
    production = cluster.store().production()
    (version,) = [
        v
        for v in cluster.store().probe("artifacts", "iris_predictions")
        if v["version"] == f"2026-11-27_model_{production}"
    ]
    assert version["metadata"]["rows"] == 600
    assert version["metadata"]["shards"] == spec["completions"]


def test_deployment_job_without_a_kubernetes_api_fails_with_one_retryable_line(cluster: Cluster):
    cluster.requires("training")
    finished = cluster.run_job("CronJob", "handoff-deployment")
    api = f"{cluster.kubelet.api_host}:{cluster.kubelet.api_port}"
    line = finished.last_line()
    cluster.report(f"  {line}")
    # Exit 1 is "retry may help": the Job's podFailurePolicy leaves it to backoffLimit.
    assert finished.exit_code == 1, f"exit {finished.exit_code}\n{finished.stderr[-3000:]}"
    assert line.startswith("deployment: "), finished.stderr[-3000:]
    # It found the in-cluster credentials (the mounted token), read its config from the mounted
    # ConfigMap (namespace, Deployment) and got as far as the API server.
    assert "Kubernetes API" in line and api in line, line
    assert "handoff-serving" in line and f"namespace {NAMESPACE}" in line, line
    assert "Traceback" not in finished.stderr


def test_serving_deployment_serves_the_production_model(cluster: Cluster):
    cluster.requires("training")
    spec = cluster.pod_spec("Deployment", "handoff-serving")
    container = mr.pick_container(spec)
    readiness, startup = container["readinessProbe"], container["startupProbe"]
    port = mr.resolve_port(container, readiness["httpGet"]["port"])
    health_port = mr.resolve_port(container, container["livenessProbe"]["httpGet"]["port"])
    assert mr.port_is_free(port), (
        f"port {port} (the serving container's containerPort) is in use on this host; with "
        "--network host the container binds it: stop whatever listens there"
    )
    production = cluster.store().production()
    args = cluster.args("Deployment", "handoff-serving")
    image = mr.image_for(container, cluster.image_map)
    started = time.monotonic()
    name = cluster.containers.start("serving", args)
    base = f"http://{servers.LOOPBACK}:{port}"
    # As long as the kubelet would wait before restarting it: the startup probe's budget.
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    with httpx.Client(trust_env=False, timeout=5.0) as http:
        ready = _wait_ready(cluster, name, http, base + readiness["httpGet"]["path"], budget)
        seconds = time.monotonic() - started
        health = http.get(f"http://{servers.LOOPBACK}:{health_port}{startup['httpGet']['path']}")
        version = http.get(base + "/version").json()
        answer = http.post(
            base + "/predict",
            json={"records": iris.ROWS},
        )
    size = mr.image_size(cluster.containers.docker, image) / 1e6
    cluster.report(
        f"deployment/handoff-serving: {image} ({size:.0f} MB) ready on :{port} in {seconds:.0f}s"
    )
    assert ready.status_code == 200 and health.status_code == 200
    assert version["model"] == "iris_classifier" and version["version"] == str(production)
    assert answer.status_code == 200, answer.text
    assert answer.json()["predictions"] == iris.SPECIES
    assert answer.json()["version"] == str(production)

    # A rollout or scale-down sends SIGTERM and waits terminationGracePeriodSeconds.
    grace = int(spec.get("terminationGracePeriodSeconds", mr.DEFAULT_GRACE_SECONDS))
    exit_code, _ = cluster.containers.stop(name, grace)
    # 137 would be docker's SIGKILL after the grace period: SIGTERM was ignored.
    assert exit_code == 0, f"serving exited {exit_code} on SIGTERM"


def _wait_ready(
    cluster: Cluster, name: str, http: httpx.Client, url: str, budget: float
) -> httpx.Response:
    deadline = time.monotonic() + budget
    last = "no answer"
    while time.monotonic() < deadline:
        state = cluster.containers.state(name)
        if not state.get("Running"):
            stdout, stderr = cluster.containers.logs(name)
            pytest.fail(
                f"the serving container exited {state.get('ExitCode')} before it was ready\n"
                f"stdout:\n{stdout[-3000:]}\nstderr:\n{stderr[-3000:]}"
            )
        try:
            response = http.get(url)
            if response.status_code == 200:
                return response
            last = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as err:
            last = f"{type(err).__name__}: {err}"
        time.sleep(1.0)
    _, stderr = cluster.containers.logs(name)
    pytest.fail(f"{url} not ready after {budget:.0f}s (last: {last})\nlogs:\n{stderr[-3000:]}")


def test_monitoring_job_measures_the_partition_whose_labels_are_due(cluster: Cluster):
    """The monitoring CronJob's pod, scheduled a week (label_lag) after a partition batch
    inference scored with ids: labels not there yet, then measured once, then nothing to do."""
    from jobs.common.data.iris import features, labelled

    cluster.requires("training")
    day = "2026-11-27"
    rows = features()
    rows.insert(0, "row_id", range(len(rows)))
    body = io.BytesIO()
    rows.to_parquet(body, index=False)
    key = f"incoming/iris/dt={day}/part-0.parquet"
    cluster.s3.client().put_object(Bucket=cluster.bucket, Key=key, Body=body.getvalue())
    config = generated(cluster.objects, "ConfigMap", "handoff-config")["metadata"]["name"]
    shipped = cluster.configmaps[config]["batch_inference.yaml"]
    cluster.configmaps[config]["batch_inference.yaml"] = (
        f"{shipped}\nid_columns: [row_id]\npartition: '{day}'\n"
    )
    try:
        ok(
            cluster.run_job(
                "CronJob", "handoff-batch-inference", datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
            )
        )
    finally:
        cluster.configmaps[config]["batch_inference.yaml"] = shipped
    due = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 7 days (label_lag) after the partition

    early = ok(cluster.run_job("CronJob", "handoff-monitoring", due))
    assert f"the labels of partition {day} are not there yet" in early
    labels = labelled()
    labels.insert(0, "row_id", range(len(labels)))
    body = io.BytesIO()
    pd.DataFrame(labels[["row_id", "species"]]).to_parquet(body, index=False)
    key = f"labels/iris/dt={day}/labels.parquet"
    cluster.s3.client().put_object(Bucket=cluster.bucket, Key=key, Body=body.getvalue())
    measured = ok(cluster.run_job("CronJob", "handoff-monitoring", due))
    assert f"partition {day}: realized balanced_accuracy" in measured
    assert "on 150 labelled rows" in measured
    # A retry pod of the same Job: the same labels, measured already.
    assert "nothing to do" in ok(cluster.run_job("CronJob", "handoff-monitoring", due))


def test_the_jobs_artifacts_are_in_the_bucket(cluster: Cluster):
    cluster.requires("batch-inference")
    store = cluster.store()
    objects = servers.list_objects(cluster.s3, cluster.bucket)
    prefix = f"s3://{cluster.bucket}/"
    for name in ("iris_training_dataset", "iris_testing_dataset", "iris_predictions"):
        (artifact,) = store.probe("artifacts", name)[-1:]
        assert artifact["uri"].startswith(prefix), artifact["uri"]
        key = artifact["uri"].removeprefix(prefix)
        assert any(o.startswith(key) and ".parquet" in o for o in objects), (name, key)
    (model,) = store.probe("artifacts", "trained_model")[-1:]
    assert any(o.startswith(model["uri"].removeprefix(prefix)) for o in objects), model["uri"]
    cluster.report(f"bucket {cluster.bucket}: {len(objects)} objects after the chain")
