"""The README's kind walkthrough names what the manifests really have, in an order that works.
(tests/k8s/test_cluster.py runs it on a real cluster.)"""

from __future__ import annotations

import re

from jobs.common import chaining

from .manifests import JOBS, REPO, find, render
from .test_images import make_images_builds
from .walkthrough import blocks, commands


def _index(lines: list[str], pattern: str) -> int:
    found = [i for i, line in enumerate(lines) if re.search(pattern, line)]
    assert found, f"the walkthrough has no step matching {pattern!r}"
    return found[0]


def test_the_walkthrough_loads_every_image_make_images_builds() -> None:
    setup = "\n".join(blocks("setup"))
    assert "make images" in setup
    [loop] = re.findall(r"for job in ([^;]+); do", setup)
    loaded = {f"handoff-{job}:dev" for job in loop.split()}
    assert loaded == make_images_builds()
    assert 'kind load docker-image --name handoff "handoff-$job:dev"' in setup


def test_every_name_in_the_walkthrough_exists_in_the_rendered_dev_overlay() -> None:
    objects = render("dev")
    run = commands("run")
    for line in run:
        for path in re.findall(r"apply -k (\S+)", line):
            assert (REPO / path / "kustomization.yaml").is_file(), line
        for name in re.findall(r"--from=cronjob/(\S+)", line):
            find(objects, "CronJob", name)
        for name in re.findall(r"\bdeploy/([\w-]+)", line):
            find(objects, "Deployment", name)
        for job in re.findall(r"handoff\.dev/upstream-job=([\w-]+)", line):
            assert job in chaining.FOLLOWERS, line
    # the chain is started at its head, and only there
    started = [n for line in run for n in re.findall(r"--from=cronjob/(\S+)", line)]
    assert started == ["handoff-stack-bootstrap", JOBS["feature_engineering"]]


def test_the_walkthrough_waits_for_what_each_step_needs() -> None:
    run = commands("run")
    namespace = _index(run, r"apply -k k8s/namespace$")
    volumes = _index(run, r"apply -k k8s/platform/volumes$")
    app = _index(run, r"apply -k k8s/overlays/dev$")
    platform = _index(run, r"wait --for=condition=Available .*deploy/zenml-server")
    key = _index(run, r"service-account create .* --output-file ")
    secret = _index(run, r"create secret generic handoff-zenml")
    bootstrap = _index(run, r"create job \S+ --from=cronjob/handoff-stack-bootstrap")
    bootstrapped = _index(run, r"wait --for=condition=complete job/bootstrap")
    head = _index(run, r"--from=cronjob/handoff-feature-engineering")
    trained = _index(run, r"upstream-job=feature-engineering")
    chained = _index(run, r"upstream-job=training")
    served = _index(run, r"rollout status deploy/handoff-serving")
    order = [namespace, volumes, app, platform, key, secret, bootstrap, bootstrapped, head]
    assert order == sorted(order) and head < trained < chained < served
