"""Drift of one partition against the model version's training data, and its categories the
model never saw.

A per-batch check beside the data contract (memory bounded: see ``jobs.common.quality.drift``). Its
``summary()`` runs once every batch is scored and before anything is moved into place or
registered: with ``drift: fail`` a drifted partition is refused there (``BadInput``, exit 2) and
nothing becomes visible; ``warn`` logs one line. The summary, ``{"drift": ...}``, is recorded in
the predictions' metadata, and :func:`write_picture` leaves its picture beside the parts.

A partition scored by N shards is judged whole, not shard by shard: each shard's
:class:`ShardDrift` judges nothing and leaves its accumulator's state beside its part
(:func:`state_name`); the shard that commits merges them (:meth:`PartitionDrift.merge`) and
judges the partition as one pod would have. The rows of categories the model never saw are
counted per column alongside (``unseen_categories`` in the predictions' metadata, whatever the
drift mode; ``unseen: fail`` refuses them in the data contract instead).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from jobs.batch_inference.params import PartitionRun
from jobs.common.data import streaming
from jobs.common.data.data_contract import counted_categories, unseen_categories
from jobs.common.data.schema import CountedCategories
from jobs.common.quality import drift

log = logging.getLogger("handoff")
KEY = "drift"
UNSEEN_KEY = "unseen_categories"
PICTURE = "_drift.html"
"""The drift picture, beside the parquet parts of the predictions, registered as the predictions
version's visualization. The leading underscore keeps ``pd.read_parquet(folder)`` and pyarrow
datasets working on the folder: their discovery skips names starting with ``_`` or ``.``."""


class PartitionDrift:
    """A ``scoring.BatchCheck`` with a ``summary()``: feed it every batch, then ask."""

    def __init__(self, run: PartitionRun, seed: int = 0) -> None:
        self.run = run
        self.accumulator = (
            drift.DriftAccumulator(drift.from_metadata(run.reference), seed=seed)
            if run.reference and run.drift != "off"
            else None
        )
        self.schema = run.table_schema()
        self.unseen = dict.fromkeys(counted_categories(self.schema), 0)

    @property
    def active(self) -> bool:
        """Anything to gather: drift statistics, or categories to count."""
        return self.accumulator is not None or bool(self.unseen)

    def __call__(
        self, frame: pd.DataFrame, where: str, categories: CountedCategories | None = None
    ) -> None:
        categories = categories if categories is not None else CountedCategories(frame)
        if self.accumulator is not None:
            self.accumulator.update(frame, categories)
        if self.unseen:
            for name, count in unseen_categories(frame, self.schema, categories).items():
                self.unseen[name] += count

    def merge(self, state: bytes) -> None:
        """Add a shard's share of the partition: what its :meth:`ShardDrift.state` wrote."""
        with np.load(io.BytesIO(state), allow_pickle=False) as loaded:
            arrays = dict(loaded)
        counts = arrays.pop(UNSEEN_KEY, np.zeros(len(self.unseen)))
        for name, count in zip(self.unseen, counts, strict=True):
            self.unseen[name] += int(count)
        if self.accumulator is not None:
            self.accumulator.merge(arrays)

    def summary(self) -> dict[str, Any]:
        report = self.report()
        found = {name: count for name, count in self.unseen.items() if count}
        if found:
            log.warning(
                "%s partition %s: rows of categories the model never saw: %s (unseen: warn)",
                self.run.predictions_artifact,
                self.run.partition,
                ", ".join(f"{name} {count}" for name, count in found.items()),
                extra={UNSEEN_KEY: found},
            )
        return {
            **({} if report is None else {KEY: report.to_metadata()}),
            **({UNSEEN_KEY: found} if found else {}),
        }

    def report(self) -> drift.DriftReport | None:
        """The partition's report, after the ``drift`` mode is applied (``fail`` raises)."""
        if self.accumulator is None:
            if self.run.drift != "off":
                log.info(
                    "%s version %s records no reference statistics (trained before they were "
                    "recorded): drift not checked",
                    self.run.model_name,
                    self.run.model_version,
                )
            return None
        report = self.accumulator.report(self.run.drift_threshold)
        what = f"{self.run.predictions_artifact} partition {self.run.partition}"
        drift.enforce(report, self.run.drift, what)
        return report


class ShardDrift(PartitionDrift):
    """One shard's share of a partition: fed every batch like the partition's check; its
    :meth:`state` is what the commit merges. A share is not judged (it may drift where the
    partition does not) unless it is the whole partition (``judge``: one shard), and then only
    to refuse it (``drift: fail``) before its output copy is in place; the commit records it."""

    def __init__(self, run: PartitionRun, shard: int, judge: bool = False) -> None:
        # Each shard draws its own sample keys: merged, the sample is uniform over all rows.
        super().__init__(run, seed=shard)
        self.judge = judge

    def summary(self) -> dict[str, Any]:
        if self.judge and self.run.drift == "fail" and self.accumulator is not None:
            self.report()
        return {}

    def state(self) -> bytes | None:
        """The accumulator's state and the unseen counts as an ``.npz`` file's bytes; None when
        there is nothing to gather."""
        if not self.active:
            return None
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {} if self.accumulator is None else self.accumulator.state()
        arrays[UNSEEN_KEY] = np.asarray(list(self.unseen.values()), dtype=np.int64)
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()


def state_name(shard: int, shards: int) -> str:
    """A shard's drift state beside its part (a leading ``_``: not a part to parquet readers)."""
    return f"_drift-{shard:05d}-of-{shards:05d}.npz"


def write_picture(run: PartitionRun, folder: str, summaries: Mapping[str, Any]) -> str | None:
    """The drift picture of a scored partition into its folder of the artifact store (beside
    the parts: registered with them as the version's visualization); its URI, or None."""
    if KEY not in summaries:
        return None
    report = drift.DriftReport.from_metadata(summaries[KEY])
    page = drift.picture(
        report,
        f"partition {run.partition} of {run.input}, against the training data of "
        f"{run.model_name} version {run.model_version}",
    )
    uri = streaming.join(folder, PICTURE)
    with streaming.open_file(uri, "wb") as handle:
        handle.write(page.encode())
    return uri
