"""The docs a newcomer reads hold together: no relative link of README.md or docs/*.md is dead
(files and #anchors, with GitHub's heading anchors), and the README's Layout names every
package of jobs/. `make docs` runs this module; CI runs it before lint."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
_INLINE_LINK = re.compile(  # [text](target "title"), also ![image](target)
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$", re.M)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:, ...


def prose(markdown: str) -> str:
    """The text outside fenced code blocks and code spans, where links are links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed, spaces
    to hyphens (letters, digits, `_` and `-` stay)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = re.sub(r"[`*]|<[^>]+>", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, heading in _HEADING.findall(_FENCE.sub("", markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(markdown: str) -> list[str]:
    text = prose(markdown)
    return [*_INLINE_LINK.findall(text), *_REF_DEFINITION.findall(text)]


def dead_links(page: Path, root: Path = REPO) -> list[str]:
    """The page's relative links whose file or heading does not exist, each with the reason."""
    dead = []
    for target in links(page.read_text()):
        if _EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            dead.append(f"{target} (no file {linked.relative_to(root)})")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text()):
            dead.append(f"{target} (no heading #{anchor} in {linked.relative_to(root)})")
        elif anchor and linked.suffix != ".md":
            dead.append(f"{target} (an anchor into a file that is not markdown)")
    return dead


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_no_relative_link_is_dead(page: Path) -> None:
    assert not dead_links(page), f"dead links in {page.relative_to(REPO)}: {dead_links(page)}"


def test_the_link_checker_sees_a_dead_file_and_a_dead_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# The `Indexed` Job: N pods\n\n## Two\n\n## Two\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#the-indexed-job-n-pods) [ok](other.md#two-1) [ok](#here) "
        "[web](https://example.com/x.md) `[code](missing.md)`\n\n# Here\n\n"
        "[dead](missing.md) [dead](other.md#two-2) [dead](#nowhere)\n\n"
        "```\n[code](missing-too.md)\n```\n"
    )
    dead = [entry.split(" ")[0] for entry in dead_links(page, root=tmp_path)]
    assert dead == ["missing.md", "other.md#two-2", "#nowhere"]


def layout_paths(readme: str) -> set[str]:
    """The folders the README's Layout tree names, as paths: a line's indent nests it under
    the folder above it with less indent."""
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    tree = re.search(r"```\n(.*?)```", section, re.S)
    assert tree, "the README's Layout section has no tree in a code block"
    stack: list[tuple[int, str]] = []
    paths = set()
    for line in tree.group(1).splitlines():
        entry = re.match(r"( *)(\S+)/(?:\s|$)", line)
        if not entry:
            continue
        indent, name = len(entry.group(1)), entry.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = f"{stack[-1][1]}/{name}" if stack else name
        stack.append((indent, path))
        paths.add(path)
    return paths


def jobs_packages() -> list[str]:
    """Every package under jobs/ to depth 2 (jobs/<pkg>, jobs/<pkg>/<sub>)."""
    jobs = REPO / "jobs"
    found = [*jobs.glob("*/__init__.py"), *jobs.glob("*/*/__init__.py")]
    return sorted(str(init.parent.relative_to(REPO)) for init in found)


def test_the_readme_layout_names_every_package_of_jobs() -> None:
    named = layout_paths((REPO / "README.md").read_text())
    missing = [package for package in jobs_packages() if package not in named]
    assert not missing, f"packages missing from the README's Layout tree: {missing}"
    assert "jobs/common/store" in jobs_packages()  # the walk sees subpackages


def test_the_layout_tree_nests_by_indent() -> None:
    tree = "jobs/   the package\n  common/  kernel\n    store/  x\n  cli/  y\nk8s/\n"
    readme = f"# handoff\n\n## Layout\n\n```\n{tree}```\n\n## Next\n\n```\ntests/\n```\n"
    assert layout_paths(readme) == {"jobs", "jobs/common", "jobs/common/store", "jobs/cli", "k8s"}


def test_the_fault_battery_writes_its_table_where_git_ignores_it() -> None:
    """A partial `make faults` must not overwrite the committed table of a whole run."""
    from tests.faults.conftest import TABLE

    relative = str(TABLE.relative_to(REPO))
    ignored = subprocess.run(["git", "check-ignore", "-q", relative], cwd=REPO, check=False)
    assert ignored.returncode == 0, f"{relative} is not ignored by git"
    committed = (REPO / "docs" / "faults.md").read_text()
    assert committed.count("\n| ") >= 20, "docs/faults.md lost the rows of the whole run"


def test_the_readme_says_how_to_build_the_images_offline() -> None:
    """Issue 21: `make images` needs no home-made base by default; the README says the way
    without a registry, with the script and the BASE_IMAGE that script's image is tagged."""
    readme = (REPO / "README.md").read_text()
    script = REPO / "scripts" / "build-base-image.sh"
    [tag] = re.findall(r"^IMAGE=\$\{HANDOFF_BASE_IMAGE:-(\S+)\}$", script.read_text(), re.M)
    assert "bash scripts/build-base-image.sh" in readme
    assert f"BASE_IMAGE={tag} make images" in readme
    assert "python:3.11-slim-bookworm" in readme


def test_the_readme_stays_short_and_links_every_docs_page() -> None:
    """Issue 21, item 17: at most 300 lines for a newcomer; the rest in docs/ by topic."""
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    topics = {"configuration", "batch-inference", "cluster", "operations", "performance"}
    pages = {page.stem for page in (REPO / "docs").glob("*.md")}
    assert topics | {"development"} <= pages
    unlinked = [page for page in sorted(pages) if f"(docs/{page}.md)" not in readme]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"
