"""The README's kind walkthrough names what the manifests really have, in an order that works.
(tests/k8s/test_cluster.py runs it on a real cluster.)"""

from __future__ import annotations

import re

from packaging.version import Version

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


# Each step, in the order that works: what it needs has been applied, waited for, created.
STEPS = [
    r"apply -k k8s/namespace$",
    r"apply -k k8s/platform/volumes$",
    r"apply -k k8s/overlays/dev$",
    r"wait --for=condition=Available .*deploy/zenml-server",
    r"service-account create .* --output-file ",
    r"create secret generic handoff-zenml",
    r"create job \S+ --from=cronjob/handoff-stack-bootstrap",
    r"wait --for=condition=complete job/bootstrap",
    r"--from=cronjob/handoff-feature-engineering",
    r"wait --for=condition=complete job -l handoff.dev/upstream-job=feature-engineering",
    r"wait --for=condition=complete job -l handoff.dev/upstream-job=training",
    r"rollout status deploy/handoff-serving",
]


def test_the_walkthrough_waits_for_what_each_step_needs() -> None:
    run = commands("run")
    positions = [_index(run, step) for step in STEPS]
    found = [step for _, step in sorted(zip(positions, STEPS, strict=True))]
    assert found == STEPS, f"the README runs the steps in this order: {found}"


def _stated_floors(tool: str) -> list[tuple[str, str]]:
    """(file, version) for every `<tool> ≥ X.Y` the docs, README and scripts state."""
    found = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))] + sorted(
        (REPO / "scripts").glob("*.sh")
    ):
        pattern = rf"\[?{tool}\]?(?:\([^)]*\))?\s*(?:≥|>=)\s*v?(\d+\.\d+)"
        found += [(path.name, v) for v in re.findall(pattern, path.read_text(), re.I)]
    return found


def test_every_stated_kind_floor_admits_only_releases_where_the_platform_comes_up() -> None:
    """kind 0.23 enforces no NetworkPolicy; 0.24-0.27 block the kubelet's probes; 0.28 works."""
    floors = _stated_floors("kind")
    assert ("cluster.md", "0.28") in floors, floors
    too_low = [(f, v) for f, v in floors if Version(v) < Version("0.28")]
    assert not too_low, f"kind floors below 0.28: {too_low}"
