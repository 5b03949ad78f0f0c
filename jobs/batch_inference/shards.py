"""One partition scored by N pods: how it is split, what each shard leaves, when it is complete.
Plain functions: no ZenML calls, no I/O.

Split: deterministic, from the input's layout alone, so every pod (and every retry of it)
computes the same shares without talking to the others. A parquet input is split by row groups
(the unit pyarrow reads; a folder of unequal files balances better by row groups than by files),
a CSV input by files. Shard ``i`` of ``N`` takes the ``i``-th of N contiguous, equal-count runs of
those units, so shard 0's rows come first: the parts read in name order are the input's order.

What a shard leaves in the partition's staging folder: its part ``part-<i>.parquet``, rewritten
whole on a retry, then — last — its marker ``_shard-<i>-of-<N>.json`` with its row count. The
leading underscore keeps markers out of pandas/pyarrow's view of the folder. "All N done" is
read off storage: every marker present and the counts adding up to the input's rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jobs.common.data.streaming import FileLayout
from jobs.common.runtime.errors import BadInput
from jobs.common.store.parquet import part_name

INDEX_ENV = "JOB_COMPLETION_INDEX"
"""Set by Kubernetes in every pod of an Indexed Job: the pod's completion index."""
MAX_SHARDS = 1000
_MARKER = re.compile(r"^_shard-(\d{5})-of-(\d{5})\.json$")


def shard_index(shard: int | None, shards: int, environ: Mapping[str, str]) -> int | None:
    """This pod's shard: ``--shard``, else the Indexed Job's completion index; None when
    neither is given (a commit attempt: check every shard, register if all are done)."""
    if shards < 1 or shards > MAX_SHARDS:
        raise BadInput(f"shards must be between 1 and {MAX_SHARDS}, not {shards}")
    if shard is None and environ.get(INDEX_ENV, "").strip():
        text = environ[INDEX_ENV].strip()
        if not text.isdigit():
            raise BadInput(f"{INDEX_ENV}={text!r} is not a completion index")
        shard = int(text)
    if shard is None:
        return None if shards > 1 else 0
    if not 0 <= shard < shards:
        raise BadInput(f"shard {shard} is not one of 0..{shards - 1} (shards {shards})")
    return shard


@dataclass(frozen=True)
class Share:
    """One shard's part of the input: files, whole (None) or some parquet row groups."""

    pieces: dict[str, tuple[int, ...] | None] = field(default_factory=dict)
    rows: int | None = None
    """Rows in the share from the footers; None for CSV."""

    def describe(self) -> list[str]:
        return [
            uri if groups is None else f"{uri} row groups {groups[0]}-{groups[-1]}"
            for uri, groups in self.pieces.items()
        ]


def split(layout: Sequence[FileLayout], shards: int) -> list[Share]:
    """The N shares of an input, in shard order (a share may be empty if units < N)."""
    units: list[tuple[str, int | None, int | None]]
    if all(f.row_groups is not None for f in layout):
        units = [(f.uri, g, rows) for f in layout for g, rows in enumerate(f.row_groups or ())]
    else:
        units = [(f.uri, None, f.rows) for f in layout]
    shares = []
    for i in range(shards):
        pieces: dict[str, tuple[int, ...] | None] = {}
        rows: int | None = 0
        for uri, group, count in units[i * len(units) // shards : (i + 1) * len(units) // shards]:
            if group is None:
                pieces[uri] = None
            else:
                pieces[uri] = (*(pieces.get(uri) or ()), group)
            rows = None if rows is None or count is None else rows + count
        shares.append(Share(pieces, rows))
    return shares


def input_rows(layout: Sequence[FileLayout]) -> int | None:
    """The input's row count from its footers; None when any file is CSV."""
    counts = [f.rows for f in layout]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def part(shard: int) -> str:
    return part_name(shard)


def marker(shard: int, shards: int) -> str:
    return f"_shard-{shard:05d}-of-{shards:05d}.json"


def marker_text(shard: int, shards: int, rows: int, share: Share) -> str:
    return json.dumps({"shard": shard, "shards": shards, "rows": rows, "read": share.describe()})


def done_shards(names: Sequence[str], shards: int) -> set[int]:
    """The shards of an N-way split whose markers are among ``names`` (a folder's listing)."""
    found = set()
    for name in names:
        match = _MARKER.match(name)
        if match and int(match[2]) == shards and int(match[1]) < shards:
            found.add(int(match[1]))
    return found


@dataclass(frozen=True)
class Completeness:
    shards: int
    rows: dict[int, int]
    """Rows written by each shard whose marker exists."""
    expected_rows: int | None

    @property
    def missing(self) -> list[int]:
        return [i for i in range(self.shards) if i not in self.rows]

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def counts_add_up(self) -> bool:
        return self.expected_rows is None or self.total == self.expected_rows

    @property
    def complete(self) -> bool:
        return not self.missing and self.counts_add_up

    def refusal(self, what: str) -> str:
        """Why ``what`` cannot be committed (for the exit-3 line)."""
        if self.missing:
            named = ", ".join(str(i) for i in self.missing)
            return (
                f"{what}: shard(s) {named} of {self.shards} not done "
                f"({len(self.rows)} of {self.shards} done); nothing registered — run the "
                f"missing shard(s) with --shards {self.shards} --shard I"
            )
        return (
            f"{what}: the {self.shards} shards wrote {self.total} rows but the input has "
            f"{self.expected_rows}; nothing registered — rerun the shards"
        )


def completeness(
    markers: Mapping[int, str], shards: int, expected_rows: int | None
) -> Completeness:
    """What the markers (shard -> its JSON text) say about the N-way split."""
    rows = {}
    for shard, text in markers.items():
        try:
            rows[shard] = int(json.loads(text)["rows"])
        except (ValueError, KeyError, TypeError):
            continue  # an unreadable marker is a missing shard: its rerun rewrites it
    return Completeness(shards, rows, expected_rows)
