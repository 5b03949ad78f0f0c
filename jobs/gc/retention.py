"""What the garbage collector deletes, and why: plain functions of an inventory, no ZenML.

Kept, by rule (everything else goes):
- predictions: every version of the newest ``keep_last`` partitions of each predictions artifact
  (production's and the shadow's alike; partition keys sort as their dates do: the default
  ``%Y-%m-%d`` does), and every version created within ``keep_days``;
- model versions: production, staging, the version production's record would roll back to, the
  newest ``keep_archived`` others, and every version a kept predictions version was scored by;
- datasets: every version a kept model version was trained or tested on, the newest
  ``keep_datasets`` of each dataset, and those created within ``keep_days``; the outputs of one
  feature-engineering run go together;
- files no artifact version references (leftovers of killed runs, failed shards' parts), in the
  folders artifacts are written to: kept while younger than ``orphan_age`` — a staging folder
  while its newest file is — or while their partition's commit lease is held. Files elsewhere
  in the bucket (inputs beside the artifacts, say) are never touched; ZenML's own run logs go
  with their runs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jobs.common.data.streaming import StoredFile

PRODUCTION, STAGING = "production", "staging"
LOGS = "logs"
"""ZenML's own run logs under the artifact store's root: the runs they belong to judge them."""
STAGING_PREFIX = "shards-"


@dataclass(frozen=True)
class Version:
    """One artifact version as the collector sees it."""

    id: str
    name: str
    version: str
    uri: str
    created: datetime
    run: str | None = None
    """The pipeline run whose step produced it (None: saved outside a step)."""
    partition: str | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class ModelVersion:
    id: str
    number: int
    stage: str | None
    created: datetime
    datasets: tuple[tuple[str, str], ...] = ()
    """(name, version) of each dataset it was trained and tested on."""
    previous_production: str | None = None
    runs: tuple[str, ...] = ()
    """The pipeline runs linked to it (training, deployment, batch inference)."""
    outputs: tuple[Version, ...] = ()
    """What its training run produced: the model artifact, metrics, report."""


@dataclass(frozen=True)
class Inventory:
    root: str
    """The artifact store's root."""
    predictions: Sequence[Version]
    datasets: Sequence[Version]
    models: Sequence[ModelVersion]
    registered: Sequence[str]
    """Every artifact version's URI: their files are no leftovers."""
    files: Sequence[StoredFile]
    held: frozenset[str] = frozenset()
    """Version roots (``<root>/<artifact>/<version>``) whose commit lease is held now."""
    areas: frozenset[str] = frozenset()
    """Folders that hold artifacts even with no version registered yet (the predictions
    artifact's, before its first partition is committed)."""


@dataclass(frozen=True)
class Rules:
    keep_last: int
    keep_days: int | None
    keep_archived: int
    keep_datasets: int
    orphan_age: timedelta


@dataclass(frozen=True)
class Deletion:
    """One thing that goes: its data (``uris``) first, then its records (``runs``, then the
    artifact versions ``versions``, then the model version ``model_version``)."""

    kind: str
    what: str
    rule: str
    uris: tuple[str, ...]
    bytes: int
    versions: tuple[str, ...] = ()
    runs: tuple[str, ...] = ()
    model_version: str | None = None


@dataclass
class Plan:
    deletions: list[Deletion] = field(default_factory=list)
    store_bytes: int = 0

    @property
    def bytes(self) -> int:
        return sum(d.bytes for d in self.deletions)

    def count(self, kind: str) -> int:
        return sum(1 for d in self.deletions if d.kind == kind)


def plan(inventory: Inventory, rules: Rules, now: datetime) -> Plan:
    sizes = _Sizes(inventory.files)
    recent = None if rules.keep_days is None else now - timedelta(days=rules.keep_days)
    deletions = _predictions(inventory.predictions, rules.keep_last, recent, sizes)
    gone = {v for d in deletions for v in d.versions}
    scored_by = {
        str(v.model_version) for v in inventory.predictions if v.id not in gone and v.model_version
    }
    models, kept_models = _models(inventory.models, rules.keep_archived, scored_by, sizes)
    deletions += models
    trained_on = {d for m in kept_models for d in m.datasets}
    deletions += _datasets(inventory.datasets, rules.keep_datasets, recent, trained_on, sizes)
    deletions += _leftovers(inventory, rules.orphan_age, now)
    return Plan(deletions=deletions, store_bytes=sizes.total)


def _predictions(
    versions: Iterable[Version], keep_last: int, recent: datetime | None, sizes: _Sizes
) -> list[Deletion]:
    by_artifact: dict[str, dict[str, list[Version]]] = defaultdict(lambda: defaultdict(list))
    for version in versions:
        by_artifact[version.name][str(version.partition or version.version)].append(version)
    deletions = []
    for name, by_partition in sorted(by_artifact.items()):
        older = sorted(by_partition, reverse=True)[keep_last:]
        for partition in sorted(older):
            for version in by_partition[partition]:
                if recent is not None and version.created >= recent:
                    continue
                deletions.append(
                    Deletion(
                        kind="predictions",
                        what=f"{name} version {version.version} (partition {partition})",
                        rule=f"older than the newest {keep_last} partition(s) of {name}",
                        uris=(version.uri,),
                        bytes=sizes.under(version.uri),
                        versions=(version.id,),
                        runs=(version.run,) if version.run else (),
                    )
                )
    return deletions


def _models(
    models: Sequence[ModelVersion], keep_archived: int, scored_by: set[str], sizes: _Sizes
) -> tuple[list[Deletion], list[ModelVersion]]:
    staged = [m for m in models if m.stage in (PRODUCTION, STAGING)]
    rollback = {m.previous_production for m in models if m.stage == PRODUCTION}
    others = sorted((m for m in models if m not in staged), key=lambda m: -m.number)
    kept, deletions = list(staged), []
    for rank, model in enumerate(others):
        if rank < keep_archived or str(model.number) in scored_by | rollback:
            kept.append(model)
            continue
        uris = tuple(v.uri for v in model.outputs)
        deletions.append(
            Deletion(
                kind="model_version",
                what=f"model version {model.number} ({model.stage or 'no stage'})",
                rule=f"not production or staging, not among the newest {keep_archived} others, "
                "no kept predictions or rollback name it",
                uris=uris,
                bytes=sum(sizes.under(u) for u in uris),
                versions=tuple(v.id for v in model.outputs),
                runs=model.runs,
                model_version=model.id,
            )
        )
    # Newest first as walked; listed oldest first by number (text would put 10 before 3).
    return deletions[::-1], kept


def _datasets(
    versions: Sequence[Version],
    keep_datasets: int,
    recent: datetime | None,
    trained_on: set[tuple[str, str]],
    sizes: _Sizes,
) -> list[Deletion]:
    newest: set[str] = set()
    by_name: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        by_name[version.name].append(version)
    for found in by_name.values():
        newest |= {v.id for v in sorted(found, key=lambda v: v.created)[-keep_datasets:]}

    def kept(version: Version) -> bool:
        return (
            version.id in newest
            or (version.name, version.version) in trained_on
            or (recent is not None and version.created >= recent)
        )

    # The outputs of one run go together (the training and testing split of one source).
    groups: dict[str, list[Version]] = defaultdict(list)
    for version in versions:
        groups[version.run or version.id].append(version)
    deletions = []
    for group in groups.values():
        if any(kept(v) for v in group):
            continue
        uris = tuple(v.uri for v in group)
        deletions.append(
            Deletion(
                kind="dataset",
                what=", ".join(f"{v.name} version {v.version}" for v in group),
                rule=f"no kept model version was trained on it, not among the newest "
                f"{keep_datasets}",
                uris=uris,
                bytes=sum(sizes.under(u) for u in uris),
                versions=tuple(v.id for v in group),
                runs=tuple({v.run for v in group if v.run}),
            )
        )
    return deletions


def _leftovers(inventory: Inventory, orphan_age: timedelta, now: datetime) -> list[Deletion]:
    """Files under no registered version, grouped by unit: a staging folder, else the file.
    Only in the folders artifacts are written to (``areas``): whatever else shares the bucket
    (the input partitions, say) is never the collector's."""
    registered = [_folder(u) for u in inventory.registered]
    areas = _areas(inventory)
    units: dict[str, list[StoredFile]] = defaultdict(list)
    for stored in inventory.files:
        if not any(stored.uri.startswith(a) for a in areas):
            continue
        if any(stored.uri.startswith(r) for r in registered):
            continue
        units[_unit(inventory.root, stored.uri)].append(stored)
    cutoff = (now - orphan_age).timestamp()
    deletions = []
    for unit, files in sorted(units.items()):
        if max(f.modified for f in files) > cutoff:
            continue  # a writer may still be at work: young files are never touched
        if any(unit.startswith(_folder(held)) for held in inventory.held):
            continue
        deletions.append(
            Deletion(
                kind="leftover",
                what=unit,
                rule=f"no artifact version references it, untouched for over {orphan_age}",
                uris=tuple(f.uri for f in files) if len(files) == 1 else (unit,),
                bytes=sum(f.size for f in files),
            )
        )
    return deletions


def _areas(inventory: Inventory) -> set[str]:
    """The top-level folders of the store that hold artifact versions (ZenML's step outputs,
    ``custom_artifacts``) and each predictions artifact's folder, where its staging folders are;
    never ZenML's run logs (judged with their runs)."""
    root = _folder(inventory.root)
    areas = {
        _folder(root + uri[len(root) :].split("/", 1)[0])
        for uri in inventory.registered
        if uri.startswith(root)
    }
    areas |= {_folder(root + name) for name in {v.name for v in inventory.predictions}}
    areas |= set(inventory.areas)
    return areas - {_folder(root + LOGS), root}


def _unit(root: str, uri: str) -> str:
    """A file's staging folder (``<artifact>/<version>/shards-*``) if it is in one, else itself."""
    parts = uri[len(_folder(root)) :].split("/")
    if len(parts) > 3 and parts[2].startswith(STAGING_PREFIX):
        return _join(root, "/".join(parts[:3]))
    return uri


class _Sizes:
    def __init__(self, files: Sequence[StoredFile]) -> None:
        self.files = files
        self.total = sum(f.size for f in files)

    def under(self, uri: str) -> int:
        folder = _folder(uri)
        return sum(f.size for f in self.files if f.uri == uri or f.uri.startswith(folder))


def _folder(uri: str) -> str:
    return uri.rstrip("/") + "/"


def _join(folder: str, name: str) -> str:
    return _folder(folder) + name
