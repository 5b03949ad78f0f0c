"""The Kubernetes walkthrough (docs/cluster.md), as the shell blocks a newcomer pastes."""

from __future__ import annotations

import re

from .manifests import REPO

PAGE = REPO / "docs" / "cluster.md"
_BLOCK = re.compile(r"<!-- walkthrough: (\w+) -->\n```sh\n(.*?)```", re.S)


def blocks(kind: str) -> list[str]:
    """The ```sh blocks marked `<!-- walkthrough: KIND -->`, in page order."""
    return [body for mark, body in _BLOCK.findall(PAGE.read_text()) if mark == kind]


def commands(kind: str) -> list[str]:
    """Their commands, one per line (backslash continuations joined, comments dropped)."""
    text = "\n".join(blocks(kind)).replace("\\\n", " ")
    lines = (re.sub(r"\s+#.*$", "", line).strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]
