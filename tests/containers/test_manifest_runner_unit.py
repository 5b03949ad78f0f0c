"""The pod spec -> `docker run` mapping, checked against the rendered dev overlay (no Docker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.containers import manifest_runner as mr
from tests.harness.jobs import JOBS
from tests.k8s.manifests import (
    CONNECTION_ENV,
    THREAD_ENV,
    find,
    generated,
    pod_templates,
    project_image,
    render,
)

IMAGE_MAP = {image: f"{image}:dev" for image in JOBS.values()}
SECRETS = {
    "handoff-zenml": {"api-key": "test-api-key"},
    "handoff-zenml-serving": {"api-key": "test-serving-api-key"},
    "handoff-object-store": {"access-key-id": "test-id", "secret-access-key": "test-secret"},
}
STORE_URL = "http://127.0.0.1:41234"
# The workloads that run the project's images: kind, name -> image.
WORKLOADS = {
    ("CronJob", "handoff-feature-engineering"): "handoff-feature-engineering",
    ("CronJob", "handoff-training"): "handoff-training",
    ("CronJob", "handoff-batch-inference"): "handoff-batch-inference",
    ("CronJob", "handoff-deployment"): "handoff-deployment",
    ("Deployment", "handoff-serving"): "handoff-serving",
    ("CronJob", "handoff-stack-bootstrap"): "handoff-deployment",
}


@pytest.fixture(scope="module")
def objects() -> list[dict[str, Any]]:
    return render("dev")


@pytest.fixture(scope="module")
def configmaps(objects) -> dict[str, dict[str, str]]:
    rendered = mr.configmaps_of(objects)
    return mr.with_values(objects, rendered, "handoff-connection", {"ZENML_STORE_URL": STORE_URL})


def pod_spec(objects, kind: str, name: str) -> dict[str, Any]:
    (template,) = pod_templates(find(objects, kind, name))
    return template["spec"]


def option_values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == option]


def command_line(args: list[str]) -> list[str]:
    """What runs in the container: entrypoint followed by everything after the image."""
    entrypoint = option_values(args, "--entrypoint")
    image_at = next(i for i, arg in enumerate(args) if arg.endswith(":dev"))
    return entrypoint + args[image_at + 1 :]


@pytest.mark.parametrize(("kind", "name"), list(WORKLOADS), ids=[n for _, n in WORKLOADS])
def test_every_project_workload_maps_to_a_restricted_docker_run(objects, configmaps, kind, name):
    spec = pod_spec(objects, kind, name)
    (container,) = spec["containers"]
    args = mr.docker_run_args(spec, configmaps, SECRETS, IMAGE_MAP, volume_root=Path("/v"))

    assert option_values(args, "--user") == ["10001:10001"]
    assert "--read-only" in args
    assert option_values(args, "--cap-drop") == ["ALL"]
    assert option_values(args, "--security-opt") == ["no-new-privileges"]
    assert option_values(args, "--network") == ["host"]
    assert option_values(args, "--pull") == ["never"]
    assert f"{WORKLOADS[kind, name]}:dev" in args
    # Limits as the manifests give them: 1 CPU, and memory in bytes with no extra swap.
    assert option_values(args, "--cpus") == ["1"]
    (memory,) = option_values(args, "--memory")
    assert option_values(args, "--memory-swap") == [memory]
    assert int(memory) in {2048 * 2**20, 1536 * 2**20, 1024 * 2**20}

    # The emptyDirs are writable tmpfs at their mount paths, the config is read-only.
    tmpfs = dict(value.split(":", 1) for value in option_values(args, "--tmpfs"))
    assert set(tmpfs) == {"/tmp", "/zenml-config"}
    for options in tmpfs.values():
        assert {"rw", "exec", "uid=10001", "gid=10001"} <= set(options.split(","))
    assert f"size={64 * 2**20}" in tmpfs["/zenml-config"]
    assert "type=bind,source=/v/config,target=/etc/handoff,readonly" in args

    # Command and args verbatim, in order.
    assert command_line(args) == container["command"] + container["args"]

    # Every variable the container declares is set, from the ConfigMaps and Secrets.
    env = mr.env_of(args)
    assert {item["name"] for item in container["env"]} <= set(env)
    assert CONNECTION_ENV - {"ZENML_ANALYTICS_OPT_IN"} <= set(env)
    assert env["ZENML_STORE_URL"] == STORE_URL
    # One key per workload class: the endpoint's own, the jobs' for every job.
    key = "handoff-zenml-serving" if kind == "Deployment" else "handoff-zenml"
    assert env["ZENML_STORE_API_KEY"] == SECRETS[key]["api-key"]
    # Thread pools sized by the CPU limit (1), as the kubelet's downward API fills them.
    if name != "handoff-stack-bootstrap":
        assert {env[var] for var in THREAD_ENV} == {"1"}
    assert env["ZENML_CONFIG_PATH"] == "/zenml-config"
    assert env["HANDOFF_STACK"] == "handoff"


def test_the_bootstrap_job_gets_the_object_store_from_secret_and_configmap(objects, configmaps):
    spec = pod_spec(objects, "CronJob", "handoff-stack-bootstrap")
    args = mr.docker_run_args(spec, configmaps, SECRETS, IMAGE_MAP)
    env = mr.env_of(args)
    assert env["AWS_ACCESS_KEY_ID"] == "test-id"
    assert env["AWS_SECRET_ACCESS_KEY"] == "test-secret"
    assert env["HANDOFF_S3_PATH"] == "s3://handoff-artifacts"
    assert env["HANDOFF_CREATE_BUCKET"] == "true"  # no separate bucket Job
    bootstrap = ["handoff", "stack", "bootstrap", "--config", "/etc/handoff/stack.yaml"]
    assert command_line(args) == bootstrap


def test_write_volumes_writes_the_rendered_config_files(objects, configmaps, tmp_path):
    spec = pod_spec(objects, "CronJob", "handoff-training")
    mr.write_volumes(spec, configmaps, SECRETS, tmp_path)
    written = {p.name: p.read_text() for p in (tmp_path / "config").iterdir()}
    rendered = generated(objects, "ConfigMap", "handoff-config")["data"]
    assert written == rendered
    assert {f"{job}.yaml" for job in JOBS} | {"stack.yaml"} == set(written)
    assert all((tmp_path / "config" / name).stat().st_mode & 0o777 == 0o644 for name in written)
    assert (tmp_path / "config").stat().st_mode & 0o777 == 0o755


def test_configmap_values_are_substituted_not_added(objects):
    rendered = mr.configmaps_of(objects)
    changed = mr.with_values(objects, rendered, "handoff-connection", {"HANDOFF_S3_REGION": "x"})
    name = generated(objects, "ConfigMap", "handoff-connection")["metadata"]["name"]
    assert changed[name]["HANDOFF_S3_REGION"] == "x"
    assert rendered[name]["HANDOFF_S3_REGION"] == "us-east-1"  # the input is left alone
    with pytest.raises(KeyError, match="NOT_IN_THE_MANIFESTS"):
        mr.with_values(objects, rendered, "handoff-connection", {"NOT_IN_THE_MANIFESTS": "1"})


def test_a_missing_secret_or_key_is_an_error_that_names_it(objects, configmaps):
    spec = pod_spec(objects, "CronJob", "handoff-training")
    with pytest.raises(mr.MissingReference, match="'handoff-zenml'"):
        mr.docker_run_args(spec, configmaps, {}, IMAGE_MAP)
    without_url = {name: dict(data) for name, data in configmaps.items()}
    for data in without_url.values():
        data.pop("ZENML_STORE_URL", None)
    with pytest.raises(mr.MissingReference, match="'ZENML_STORE_URL'"):
        mr.docker_run_args(spec, without_url, SECRETS, IMAGE_MAP)


def test_only_the_deployment_and_chaining_jobs_get_the_service_account_token(objects, configmaps):
    kubelet = mr.Kubelet("127.0.0.1", 6443, Path("/sa"))
    mount = f"type=bind,source=/sa,target={mr.SERVICE_ACCOUNT_MOUNT},readonly"
    for kind, name in WORKLOADS:
        spec = pod_spec(objects, kind, name)
        args = mr.docker_run_args(spec, configmaps, SECRETS, IMAGE_MAP, kubelet=kubelet)
        api_jobs = {"handoff-deployment", "handoff-feature-engineering", "handoff-training"}
        assert (mount in args) == (name in api_jobs), name
        assert mr.env_of(args)["KUBERNETES_SERVICE_HOST"] == "127.0.0.1"


def test_unsupported_fields_are_refused_not_dropped(objects, configmaps):
    spec = pod_spec(objects, "CronJob", "handoff-training")
    post_start = {"postStart": {"exec": {"command": ["true"]}}}
    with_lifecycle = dict(spec, containers=[dict(spec["containers"][0], lifecycle=post_start)])
    with pytest.raises(mr.UnsupportedSpec, match="lifecycle.postStart"):
        mr.docker_run_args(with_lifecycle, configmaps, SECRETS, IMAGE_MAP)
    field_ref = {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
    container = dict(spec["containers"][0], env=[field_ref])
    with pytest.raises(mr.UnsupportedSpec, match="fieldRef"):
        mr.docker_run_args(dict(spec, containers=[container]), configmaps, SECRETS, IMAGE_MAP)


def test_kubelet_semantics_of_env_and_command():
    container = {
        "name": "c",
        "image": "registry.example:5000/team/handoff-training@sha256:" + "0" * 64,
        "command": ["sh", "-c"],
        "args": ["echo $(GREETING) $(UNSET) $$(GREETING)"],
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "P_"}],
        "env": [
            {"name": "NAME", "value": "world"},
            {"name": "GREETING", "value": "hello $(NAME)"},
            {
                "name": "OPT",
                "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k", "optional": True}},
            },
        ],
    }
    args = mr.docker_run_args({"containers": [container]}, {"cm": {"A": "1"}}, {}, IMAGE_MAP)
    assert mr.env_of(args) == {"P_A": "1", "NAME": "world", "GREETING": "hello world"}
    assert command_line(args) == ["sh", "-c", "echo hello world $(UNSET) $(GREETING)"]
    assert project_image(container["image"]) == "handoff-training"
    assert "handoff-training:dev" in args


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1536Mi", 1610612736), ("1Gi", 2**30), ("500M", 500 * 10**6), ("250m", 0.25), ("2", 2)],
)
def test_quantities(text, expected):
    assert mr.quantity(text) == expected


def test_the_downward_api_hands_a_pod_label_to_the_batch_inference_job(objects, configmaps):
    spec = pod_spec(objects, "CronJob", "handoff-batch-inference")
    job = "handoff-batch-inference-29927760"
    labels = {"batch.kubernetes.io/job-name": job}
    args = mr.docker_run_args(
        spec, configmaps, SECRETS, IMAGE_MAP, volume_root=Path("/v"), pod_labels=labels
    )
    assert mr.env_of(args)["HANDOFF_JOB_NAME"] == job
