"""The README's kind walkthrough names what the manifests really have, in an order that works.
(tests/k8s/test_cluster.py runs it on a real cluster.)"""

from __future__ import annotations

import re

from packaging.version import Version

from jobs.common import chaining

from .manifests import JOBS, REPO, find, render
from .test_images import make_images_builds
from .walkthrough import PAGE, blocks, commands


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
    r"^bash scripts/dev-secrets.sh$",
    r"apply -k k8s/overlays/dev$",
    r"wait --for=condition=Available .*deploy/zenml-server",
    r"^bash scripts/zenml-api-keys.sh$",
    r"create job \S+ --from=cronjob/handoff-stack-bootstrap",
    r"wait --for=condition=complete \S*job/\$bootstrap",
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


# A create that a second pass of the walkthrough would meet again, and why it cannot fail then.
IDEMPOTENT_CREATES = {
    # only when the cluster is not there yet
    "kind cluster": r"^kind get clusters \| grep -qx (\S+) \|\| kind create cluster --name \1$",
    # a Job named after the time it was created, in a variable set just before
    "Job": r'kubectl -n handoff create job "\$(\w+)" --from=cronjob/\S+$',
    # rendered locally, then applied: creates or replaces
    "Secret": r"create secret generic .* --dry-run=client -o yaml \|$",
    # only in the branch where `service-account describe` found no such account
    "service account": r'zenml service-account create "\$1" ',
}


def _walkthrough_scripts() -> dict[str, str]:
    """The scripts the walkthrough runs, by path."""
    lines = commands("setup") + commands("run")
    paths = [p for line in lines for p in re.findall(r"^bash (scripts/\S+\.sh)$", line)]
    return {path: (REPO / path).read_text() for path in paths}


def test_every_create_in_the_walkthrough_is_idempotent_or_uniquely_named() -> None:
    """The walkthrough runs twice in a row: nothing it creates can already exist the second
    time, or its create is skipped or turned into a replace."""
    lines = commands("setup") + commands("run")
    scripts = _walkthrough_scripts()
    assert {"scripts/zenml-api-keys.sh", "scripts/dev-secrets.sh"} <= set(scripts)
    for text in scripts.values():
        lines += [line.strip() for line in text.replace("\\\n", " ").splitlines()]
    creates = [
        line
        for line in lines
        if re.search(r"\b(kind|kubectl|k|zenml)\b.*\bcreate\b", line) and not line.startswith("#")
    ]
    assert creates, "the walkthrough creates nothing?"
    unexplained = [
        line
        for line in creates
        if not any(re.search(rule, line) for rule in IDEMPOTENT_CREATES.values())
    ]
    assert not unexplained, f"creates that fail on a second pass: {unexplained}"
    # Job names: set from the clock in the same block, right before the create.
    run = commands("run")
    for i, line in enumerate(run):
        if match := re.search(IDEMPOTENT_CREATES["Job"], line):
            assignment = rf"^{match[1]}=[\w-]+\$\(date \+%Y%m%d-%H%M%S\)$"
            assert re.match(assignment, run[i - 1]), (run[i - 1], line)
    # The locally rendered Secret is applied server-side: no copy of the key in an annotation.
    script = scripts["scripts/zenml-api-keys.sh"]
    assert re.search(r"--dry-run=client -o yaml \|\s*\n\s*k apply --server-side ", script)
    # The account is created only where describing it failed; otherwise its key is rotated.
    assert re.search(
        r'if zenml service-account describe "\$1" >/dev/null 2>&1; then\n'
        r'\s*zenml service-account api-key "\$1" rotate default .*\nelse\n'
        r'\s*zenml service-account create "\$1" ',
        script,
    )


def test_the_docs_state_the_kubernetes_versions_the_manifests_need() -> None:
    """The Indexed Job's backoffLimitPerIndex needs 1.29; the admission policy's v1 API 1.30."""
    text = PAGE.read_text()
    indexed = text[text.index("## One partition across N pods") :]
    assert re.search(r"Kubernetes ≥ 1\.29\b.*backoffLimitPerIndex", indexed, re.S)
    assert "Kubernetes ≥ 1.30" in text[: text.index("## With kind")]
