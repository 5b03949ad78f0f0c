"""The rendered workloads behave as the contract says: retries, exit codes, schedules, hardening,
API access, configuration and environment."""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest
import yaml

from tests.harness.jobs import BATCH_JOBS

from .manifests import (
    BOOTSTRAP,
    BOOTSTRAP_COMMAND,
    BOOTSTRAP_ENV,
    CHAINING_ENV,
    CHAINING_JOBS,
    CHAINING_UPSTREAM_ENV,
    CONNECTION_ENV,
    DEPLOYMENT_POLL_ENV,
    JOBS,
    K8S,
    NAMESPACE,
    REQUIRED_ENV,
    SECRET_KEYS,
    THREAD_ENV,
    containers,
    find,
    generated,
    handoff_containers,
    is_bootstrap,
    job_specs,
    overlays,
    pod_templates,
    project_image,
    python_name,
    render,
    shipped_config_keys,
    workloads,
)

OVERLAYS = overlays()
# Volume types the "restricted" Pod Security Standard allows.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def _name(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


# --- Jobs and CronJobs ---------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_job_retries_only_what_may_succeed(overlay: str) -> None:
    objects = render(overlay)
    jobs = [(o, spec) for o in objects for spec in job_specs(o)]
    assert jobs
    for obj, spec in jobs:
        where = _name(obj)
        assert spec["template"]["spec"].get("restartPolicy") == "Never", where
        for field in ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
            assert isinstance(spec.get(field), int) and spec[field] >= 0, f"{where}: {field}"
        assert spec["activeDeadlineSeconds"] > 0, where
        rules = spec.get("podFailurePolicy", {}).get("rules", [])
        fail_fast = [
            r
            for r in rules
            if r["action"] == "FailJob"
            and r.get("onExitCodes", {}).get("operator") == "In"
            and {2, 3} <= set(r["onExitCodes"].get("values", []))
        ]
        assert fail_fast, (
            f"{where}: exit codes 2 and 3 must fail the Job at once (podFailurePolicy)"
        )
        assert all("containerName" not in r["onExitCodes"] for r in fail_fast), where
        disruption = [
            r
            for r in rules
            if r["action"] == "Ignore"
            and {"type": "DisruptionTarget", "status": "True"} in r.get("onPodConditions", [])
        ]
        assert disruption, f"{where}: a pod disruption must not count as a failure"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_cronjob_runs_alone_and_on_time(overlay: str) -> None:
    cronjobs = [o for o in render(overlay) if o["kind"] == "CronJob"]
    bootstrap = {BOOTSTRAP} if overlay == "dev" else set()
    assert {c["metadata"]["name"] for c in cronjobs} == {JOBS[j] for j in BATCH_JOBS} | bootstrap
    for cron in cronjobs:
        spec, where = cron["spec"], _name(cron)
        assert spec.get("concurrencyPolicy") == "Forbid", where
        assert isinstance(spec.get("startingDeadlineSeconds"), int), where
        assert spec.get("timeZone") == "Etc/UTC", where
        assert isinstance(spec.get("successfulJobsHistoryLimit"), int), where
        assert isinstance(spec.get("failedJobsHistoryLimit"), int), where
        assert len(spec["schedule"].split()) == 5, f"{where}: schedule {spec['schedule']!r}"


def test_dev_chain_is_started_by_hand_and_deployment_runs_every_five_minutes() -> None:
    objects = render("dev")
    # The head of the chain waits for a hand; training, a chained job, is never suspended.
    assert find(objects, "CronJob", JOBS["feature_engineering"])["spec"].get("suspend") is True
    deployment = find(objects, "CronJob", JOBS["deployment"])["spec"]
    assert deployment["schedule"] == "*/5 * * * *"
    assert not deployment.get("suspend", False)
    # Not worth catching up a missed five-minute slot.
    assert deployment["startingDeadlineSeconds"] < 300


# --- Pod hardening -------------------------------------------------------------------------------


def _restricted_problems(where: str, pod: dict[str, Any]) -> list[str]:
    problems = []
    psc = pod.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC", "hostUsers"):
        if pod.get(flag) and flag != "hostUsers":
            problems.append(f"{where}: {flag}")
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"{where}: volume {volume['name']} is {kinds}")
    for c in containers(pod):
        cwhere = f"{where} container {c['name']}"
        csc = c.get("securityContext", {})
        run_as_non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
        if run_as_non_root is not True:
            problems.append(f"{cwhere}: runAsNonRoot is not true")
        if csc.get("runAsUser", psc.get("runAsUser")) in (0, None):
            problems.append(f"{cwhere}: no non-zero runAsUser")
        seccomp = csc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{cwhere}: seccompProfile {seccomp}")
        if csc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cwhere}: allowPrivilegeEscalation is not false")
        if csc.get("privileged"):
            problems.append(f"{cwhere}: privileged")
        caps = csc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            problems.append(f"{cwhere}: capabilities do not drop ALL")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{cwhere}: adds capabilities {caps['add']}")
        if csc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{cwhere}: root filesystem is writable")
        resources = c.get("resources", {})
        for part in ("requests", "limits"):
            missing = {"cpu", "memory"} - set(resources.get(part, {}))
            if missing:
                problems.append(f"{cwhere}: no {part} for {sorted(missing)}")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            problems.append(f"{cwhere}: hostPort")
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_restricted_read_only_and_bounded(overlay: str) -> None:
    problems = []
    for obj in workloads(render(overlay)):
        for template in pod_templates(obj):
            problems += _restricted_problems(_name(obj), template["spec"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_handoff_pods_run_as_10001_with_writable_tmp_and_zenml_config(overlay: str) -> None:
    seen = 0
    for obj, template, container in handoff_containers(render(overlay)):
        seen += 1
        where = f"{_name(obj)} container {container['name']}"
        pod = template["spec"]
        uid = container.get("securityContext", {}).get(
            "runAsUser", pod["securityContext"].get("runAsUser")
        )
        assert uid == 10001, where
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container.get("volumeMounts", [])}
        for path in ("/tmp", "/zenml-config"):
            assert "emptyDir" in mounts.get(path, {}), f"{where}: {path} is not an emptyDir"
    assert seen >= len(JOBS)


API_ACCOUNTS = {
    JOBS["deployment"]: "handoff-deployer",
    **{JOBS[job]: "handoff-chainer" for job in CHAINING_JOBS},
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_deployment_and_chaining_jobs_get_an_api_token(overlay: str) -> None:
    objects = render(overlay)
    for obj in workloads(objects):
        for template in pod_templates(obj):
            pod, where = template["spec"], _name(obj)
            account = (
                API_ACCOUNTS.get(obj["metadata"]["name"]) if obj["kind"] == "CronJob" else None
            )
            if account:
                assert pod.get("automountServiceAccountToken") is True, where
                assert pod.get("serviceAccountName") == account, where
            else:
                assert pod.get("automountServiceAccountToken") is False, where
                assert pod.get("serviceAccountName", "default") == "default", where
    accounts = {sa["metadata"]["name"] for sa in objects if sa["kind"] == "ServiceAccount"}
    assert accounts == set(API_ACCOUNTS.values())


def _roles(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    roles = {r["metadata"]["name"]: r["rules"] for r in objects if r["kind"] == "Role"}
    assert set(roles) == {"handoff-deployer", "handoff-chainer"}
    bindings = {b["metadata"]["name"]: b for b in objects if b["kind"] == "RoleBinding"}
    assert set(bindings) == set(roles)
    for name, binding in bindings.items():
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": name,
        }
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE},
        ]
    return roles


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_deployer_may_only_read_and_patch_the_serving_deployment(overlay: str) -> None:
    [rule] = _roles(render(overlay))["handoff-deployer"]
    assert rule["apiGroups"] == ["apps"]
    assert rule["resources"] == ["deployments"]
    assert rule["resourceNames"] == [JOBS["serving"]]
    # What the code calls (read, strategic-merge patch); no list/watch it never uses.
    assert sorted(rule["verbs"]) == ["get", "patch"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_chainer_may_only_read_the_downstream_cronjobs_and_create_jobs(overlay: str) -> None:
    rules = _roles(render(overlay))["handoff-chainer"]
    downstream = sorted({JOBS[j] for jobs in CHAINING_JOBS.values() for j in jobs})
    normalized = sorted(
        (
            {**r, "resourceNames": sorted(r["resourceNames"])} if "resourceNames" in r else r
            for r in rules
        ),
        key=str,
    )
    assert normalized == sorted(
        [
            {
                "apiGroups": ["batch"],
                "resources": ["cronjobs"],
                "resourceNames": downstream,
                "verbs": ["get"],
            },
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create"]},
            # a failed or refused start is an Event on the upstream's Job
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
        ],
        key=str,
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_job_the_chain_starts_is_suspended_by_the_manifests(overlay: str) -> None:
    """Suspending a CronJob is the operator's kill switch: it stops chained starts too
    (jobs/common/chaining/kubernetes.py). A chained job suspended by the manifests would never
    run, so its schedule is on, and its fallback run finds the work done (training:
    chaining.fallback_done)."""
    objects = render(overlay)
    for job in {j for jobs in CHAINING_JOBS.values() for j in jobs}:
        assert not find(objects, "CronJob", JOBS[job])["spec"].get("suspend"), (overlay, job)


# --- Serving -------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_serving_answers_on_8080_with_health_and_readiness_probes(overlay: str) -> None:
    objects = render(overlay)
    deployment = find(objects, "Deployment", JOBS["serving"])
    service = find(objects, "Service", JOBS["serving"])
    pod = deployment["spec"]["template"]
    [container] = pod["spec"]["containers"]
    ports = {p.get("name"): p["containerPort"] for p in container["ports"]}
    assert 8080 in ports.values()

    def port_of(probe: dict[str, Any]) -> int:
        port = probe["httpGet"]["port"]
        return ports[port] if isinstance(port, str) else port

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert port_of(container["livenessProbe"]) == port_of(container["readinessProbe"]) == 8080
    # A rollout never takes the last ready pod away.
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0

    labels = pod["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    [service_port] = service["spec"]["ports"]
    assert service_port["port"] == 8080
    target = service_port["targetPort"]
    assert (ports[target] if isinstance(target, str) else target) == 8080
    # The model version is the deployment job's to set, never the manifests'.
    env = {e["name"] for e in container.get("env", [])}
    assert "HANDOFF_MODEL_VERSION" not in env


# --- Configuration -------------------------------------------------------------------------------


def test_one_config_file_per_job_plus_stack() -> None:
    files = {p.name for p in (K8S / "base" / "config").glob("*.yaml")}
    assert files == {f"{job}.yaml" for job in JOBS} | {"stack.yaml"}
    for path in (K8S / "base" / "config").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        assert isinstance(data, dict) and data, f"{path.name} is not a mapping"
        flat = all(not isinstance(v, (dict, list)) for v in data.values())
        assert flat, f"{path.name} is not a flat mapping"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_handoff_container_runs_its_job_with_its_config(overlay: str) -> None:
    objects = render(overlay)
    config_map = generated(objects, "ConfigMap", "handoff-config")
    seen = set()
    for obj, template, container in handoff_containers(objects):
        where = f"{_name(obj)} container {container['name']}"
        if is_bootstrap(container):
            assert project_image(container["image"]) == JOBS["deployment"], where
            assert container["command"] == BOOTSTRAP_COMMAND, where
            config = "stack"
        else:
            config = python_name(container["image"])
            assert container["command"] == ["python", "-m", f"jobs.{config}"], where
            seen.add(config)
        assert container["args"] == ["--config", f"/etc/handoff/{config}.yaml"], where
        assert f"{config}.yaml" in config_map["data"], where
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == "/etc/handoff"]
        assert volumes[mount["name"]]["configMap"]["name"] == config_map["metadata"]["name"], where
        assert mount.get("readOnly") is True, where
    assert seen == set(JOBS), f"jobs without a workload in {overlay}: {set(JOBS) - seen}"


# Config file in k8s/base/config -> (settings class, package whose config.yaml it overrides).
SETTINGS = {
    **{job: (f"jobs.{job}.settings:Settings", f"jobs.{job}") for job in JOBS},
    "stack": ("jobs.cli.stack:StackSettings", "jobs.cli"),
}


@pytest.mark.parametrize("config", list(SETTINGS))
def test_the_code_accepts_its_cluster_config(config: str) -> None:
    """The ConfigMap's file passes the job's own settings validation (an unknown key or a bad
    value would make the job exit 2 in the cluster)."""
    from jobs.common.runtime.settings import load

    module, _, cls = SETTINGS[config][0].partition(":")
    settings = getattr(importlib.import_module(module), cls)
    path = K8S / "base" / "config" / f"{config}.yaml"
    load(settings, SETTINGS[config][1], config_file=path, environ={})


# --- Environment ---------------------------------------------------------------------------------


def _allowed_env(container: dict[str, Any]) -> set[str]:
    if is_bootstrap(container):
        return (
            CONNECTION_ENV
            | BOOTSTRAP_ENV
            | {f"HANDOFF_{k.upper()}" for k in shipped_config_keys("stack")}
        )
    job = python_name(container["image"])
    keys = shipped_config_keys(job)
    extra = DEPLOYMENT_POLL_ENV if job == "deployment" else set()
    extra |= CHAINING_ENV if job in BATCH_JOBS else set()
    extra |= CHAINING_UPSTREAM_ENV if job in CHAINING_JOBS else set()
    return CONNECTION_ENV | THREAD_ENV | extra | {f"HANDOFF_{k.upper()}" for k in keys}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_handoff_containers_get_exactly_the_contract_environment(overlay: str) -> None:
    objects = render(overlay)
    config_maps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"
    }
    secrets = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Secret"}
    problems = []
    for obj, template, container in handoff_containers(objects):
        where = f"{_name(obj)} container {container['name']}"
        assert not container.get("envFrom"), f"{where}: list variables one by one, no envFrom"
        # Service links would add HANDOFF_SERVING_SERVICE_HOST & co. (from Service
        # handoff-serving), which the settings loader would take for HANDOFF_<KEY> config.
        assert template["spec"].get("enableServiceLinks") is False, f"{where}: service links"
        env = {e["name"]: e for e in container.get("env", [])}
        if unexpected := set(env) - _allowed_env(container):
            problems.append(f"{where}: variables outside the contract: {sorted(unexpected)}")
        if missing := REQUIRED_ENV - set(env):
            problems.append(f"{where}: missing {sorted(missing)}")
        if env.get("ZENML_CONFIG_PATH", {}).get("value") != "/zenml-config":
            problems.append(f"{where}: ZENML_CONFIG_PATH is not /zenml-config")
        for name, var in env.items():
            source = var.get("valueFrom", {})
            ref = source.get("configMapKeyRef")
            if ref and ref.get("key") not in config_maps.get(ref["name"], {}):
                problems.append(f"{where}: {name} reads missing ConfigMap key {ref}")
            if ref := source.get("secretKeyRef"):
                if ref["key"] not in SECRET_KEYS.get(ref["name"], set()):
                    problems.append(f"{where}: {name} reads {ref}, not a contract Secret key")
                rendered = secrets.get(ref["name"])
                if rendered and ref["key"] not in {
                    **rendered.get("data", {}),
                    **rendered.get("stringData", {}),
                }:
                    problems.append(f"{where}: Secret {ref['name']} has no key {ref['key']}")
            elif re.search(r"(KEY|SECRET|PASSWORD|TOKEN)", name) and "value" in var:
                problems.append(f"{where}: {name} has a literal value")
        # One ZenML key per workload class: the endpoint never holds the jobs' key.
        key_secret = "handoff-zenml-serving" if obj["kind"] == "Deployment" else "handoff-zenml"
        if env.get("ZENML_STORE_API_KEY", {}).get("valueFrom", {}).get("secretKeyRef") != {
            "name": key_secret,
            "key": "api-key",
        }:
            problems.append(
                f"{where}: ZENML_STORE_API_KEY must come from Secret {key_secret}, key api-key"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_knows_its_zenml_server(overlay: str) -> None:
    objects = render(overlay)
    data = generated(objects, "ConfigMap", "handoff-connection")["data"]
    url = data.get("ZENML_STORE_URL", "")
    assert re.fullmatch(r"https?://[^/@\s]+(/\S*)?", url), f"ZENML_STORE_URL {url!r}"
    assert data.get("HANDOFF_STACK") == "handoff"
    if overlay == "prod":
        assert url.startswith("https://"), "prod talks to its external server over TLS"
    host = url.split("//", 1)[1].split("/", 1)[0].split(":")[0]
    if "." not in host:  # an in-cluster Service: it must be part of the render
        find(objects, "Service", host)


# --- Resources -----------------------------------------------------------------------------------

_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def _bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * _UNITS[unit]


# Peak RSS `make bench` measured (docs/performance.md): feature engineering of 5 M mixed rows
# (streamed), training on its 1 M-row sample of them (max_training_rows); monitoring's join of
# 1 M labelled rows with text ids to their predictions (a local run's max RSS, docs/monitoring.md).
MEASURED_PEAK_BYTES = {
    "feature_engineering": 963 * 10**6,
    "training": 1165 * 10**6,
    "monitoring": 775 * 10**6,
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_feature_engineering_and_training_request_their_measured_peak_memory(overlay: str) -> None:
    """A request below the peak lets the scheduler place the pod where it gets OOM-killed or
    evicted first; 20 % headroom at least, and the limit above the request."""
    objects = render(overlay)
    for job, peak in MEASURED_PEAK_BYTES.items():
        [(_o, _t, container)] = [
            h for h in handoff_containers(objects) if h[0]["metadata"]["name"] == JOBS[job]
        ]
        resources = container["resources"]
        request = _bytes(resources["requests"]["memory"])
        limit = _bytes(resources["limits"]["memory"])
        assert request >= 1.2 * peak, (job, resources)
        assert limit > request, (job, resources)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_thread_pools_are_sized_by_the_cpu_limit(overlay: str) -> None:
    for obj, _template, container in handoff_containers(render(overlay)):
        if is_bootstrap(container):
            continue
        where = f"{_name(obj)} container {container['name']}"
        env = {e["name"]: e for e in container.get("env", [])}
        for name in THREAD_ENV:
            assert env.get(name, {}).get("valueFrom", {}).get("resourceFieldRef") == {
                "resource": "limits.cpu",
                "divisor": "1",
            }, f"{where}: {name}"
        assert container["resources"]["limits"]["cpu"], where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gc_runs_weekly_deleting_by_its_config_and_logs_json(overlay: str) -> None:
    """Issue 20, item 1: the collector's own CronJob, weekly, in the base manifests."""
    objects = render(overlay)
    cron = find(objects, "CronJob", JOBS["gc"])["spec"]
    minute, hour, day_of_month, month, day_of_week = cron["schedule"].split()
    assert (day_of_month, month) == ("*", "*") and day_of_week.isdigit(), cron["schedule"]
    assert not cron.get("suspend", False)
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = containers(pod)
    assert container["command"] == ["python", "-m", "jobs.gc"]
    assert container["args"] == ["--config", "/etc/handoff/gc.yaml"]
    shipped = yaml.safe_load(generated(objects, "ConfigMap", "handoff-config")["data"]["gc.yaml"])
    assert shipped["apply"] is True, "the weekly run deletes; `handoff gc` alone only lists"
    env = {e["name"]: e for e in container["env"]}
    log_format = env["HANDOFF_LOG_FORMAT"]["valueFrom"]["configMapKeyRef"]
    connection = generated(objects, "ConfigMap", log_format["name"])["data"]
    assert connection[log_format["key"]] == "json"
