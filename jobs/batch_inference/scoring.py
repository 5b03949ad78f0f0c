"""Score one partition in bounded memory: read once, batch by batch, check, predict, write.

No ZenML here. Each batch goes through the ``checks`` (the data contract; drift checks belong
beside it), then ``predict``, then straight into parquet part files in the folder the caller
gives and, if asked, into the optional output file — which appears under its name only once it
is complete. A bad batch anywhere raises ``BadInput``; the caller throws the folder away.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from jobs.batch_inference.params import PartitionRun
from jobs.common.data import iris, streaming
from jobs.common.data.data_contract import check_features, require_columns
from jobs.common.data.schema import CountedCategories, TableSchema
from jobs.common.runtime import logs
from jobs.common.runtime.errors import BadInput
from jobs.common.store.parquet import part_name

BUILTIN_IRIS = iris.SOURCE

BatchCheck = Callable[[pd.DataFrame, str, CountedCategories], None]
"""Called with each batch's feature columns, where the rows are (``file (rows a-b)``) and the
batch's categories (counted once, when a check first asks, for every check of the batch);
raises ``BadInput`` to reject the whole partition. A check that also has a ``summary()``
method returning a dict (e.g. drift statistics gathered over the batches) has it recorded in
the predictions' metadata once every batch passed."""


def contract(schema: TableSchema, unseen: str = "warn") -> BatchCheck:
    """The model's data contract: its feature columns, each holding its recorded kind (gaps
    only where the model imputes them); a category the model never saw with ``unseen: fail``."""

    def check(frame: pd.DataFrame, where: str, categories: CountedCategories) -> None:
        check_features(
            frame, schema, where, unseen="fail" if unseen == "fail" else None, categories=categories
        )

    return check


@dataclass(frozen=True)
class Scored:
    rows: int
    input: dict[str, Any]
    """Where the input was, its size and identity: recorded instead of a copy."""
    summaries: dict[str, Any]
    """What the checks with a ``summary()`` gathered over all batches."""


@dataclass(frozen=True)
class Input:
    description: dict[str, Any]
    columns: dict[str, list[str]]
    """Each file's column names, read from footers before any row is."""
    source: streaming.Source | None
    """None for the built-in iris table."""

    @property
    def identity(self) -> str:
        """Changes when the content changes (the built-in table never does)."""
        return self.source.identity if self.source is not None else BUILTIN_IRIS

    def layout(self) -> list[streaming.FileLayout]:
        """Rows per file and row group, from the footers alone (no row is read)."""
        if self.source is None:
            return [streaming.FileLayout(BUILTIN_IRIS, len(iris.features()), None)]
        return streaming.layout_of(self.source)

    def batches(
        self, rows: int, columns: Sequence[str], pieces: streaming.Pieces | None = None
    ) -> Iterator[streaming.Batch]:
        if self.source is None:
            table = pa.Table.from_pandas(iris.features(), preserve_index=False)
            yield streaming.Batch(table=table.select(list(columns)), file=BUILTIN_IRIS, first_row=0)
            return
        yield from streaming.batches(self.source, rows, columns, pieces)


def open_input(uri: str) -> Input:
    found = landed_input(uri)
    if found is None:
        streaming.locate(uri)  # raises the one message for "nothing there"
    assert found is not None
    return found


def landed_input(uri: str) -> Input | None:
    """As :func:`open_input`, but None when nothing has landed at ``uri`` yet."""
    if uri == BUILTIN_IRIS:
        names = list(iris.features().columns)
        return Input({"uri": uri, "format": "builtin"}, {uri: names}, None)
    source = streaming.landed(uri)
    if source is None:
        return None
    return Input(source.describe(), streaming.columns_of(source), source)


def content_key(uri: str) -> str:
    """The partition key of an input without ``{partition}``: its content identity."""
    if uri == BUILTIN_IRIS:
        return BUILTIN_IRIS
    return "input-" + streaming.locate(uri).identity[:12]


def preflight(run: PartitionRun, found: Input, model: Any = None) -> None:
    """What can be checked before any row is read: every file of the input has the model's
    columns (plus the id columns), the model can give probabilities if asked."""
    schema = run.table_schema()
    for where, names in found.columns.items():
        require_columns(names, schema, where, run.id_columns)
    if run.probabilities and model is not None:
        require_probabilities(model, run.model_name)


def score(
    run: PartitionRun,
    model: Any,
    folder: str,
    found: Input,
    checks: Sequence[BatchCheck] = (),
    in_artifact_store: bool = False,
    pieces: streaming.Pieces | None = None,
    part: str = part_name(0),
    allow_empty: bool = False,
) -> Scored:
    """Score ``found`` (``run``'s input) into parquet parts in ``folder``. A shard scores only
    its ``pieces`` of the input into its own ``part`` (and may be empty). ``in_artifact_store``:
    ``folder`` is one of the active artifact store, written through it like any artifact."""
    preflight(run, found, model)
    schema = run.table_schema()
    features = list(schema.features)
    checks = [contract(schema, run.unseen), *checks]
    parts = streaming.TableWriter(
        streaming.join(folder, part), "parquet", through_store=in_artifact_store
    )
    staged = _staging_name(run.output) if run.output else None
    copy = streaming.TableWriter(staged, streaming.kind_of(run.output or "")) if staged else None
    rows = 0
    progress = logs.Progress("rows")
    try:
        for batch in found.batches(run.batch_rows, [*features, *run.id_columns], pieces):
            frame = feature_frame(batch.table, features)
            categories = CountedCategories(frame)
            for check in checks:
                check(frame, batch.where, categories)
            ids = batch.table.select(list(run.id_columns)) if run.id_columns else None
            table = predict(model, frame, ids, run.probabilities)
            parts.write(table)
            if copy:
                copy.write(table)
            rows += table.num_rows
            progress.advance(table.num_rows)
        if rows == 0 and not allow_empty:
            raise BadInput(f"{run.input}: the table is empty")
        progress.report(final=True)
        parts.close()
        # Summaries may still refuse the partition (drift: fail): before the copy is in place.
        summaries: dict[str, Any] = {}
        for check in checks:
            summary = getattr(check, "summary", None)
            if callable(summary):
                summaries.update(summary())
        if copy and staged and run.output:
            copy.close()
            streaming.move(staged, run.output)
            # What a killed earlier attempt left beside it (a SIGKILL cannot clean up).
            streaming.remove_siblings(run.output, _STAGING_PREFIX.format(name=_name(run.output)))
    except BaseException:
        parts.close()
        if copy and staged:
            copy.close()
            streaming.remove_tree(staged)
        raise
    return Scored(rows=rows, input=found.description, summaries=summaries)


_STAGING_PREFIX = ".{name}.partial-"


def _name(uri: str) -> str:
    return uri.rstrip("/").rpartition("/")[2]


def _staging_name(output: str) -> str:
    """A hidden sibling of the output: renamed into place once complete."""
    head = output.rstrip("/").rpartition("/")[0]
    hidden = _STAGING_PREFIX.format(name=_name(output)) + uuid.uuid4().hex[:8]
    return f"{head}/{hidden}" if head else hidden


# The predictions of one batch as a table: the configured id columns as they were in the input
# (to join back), ``prediction``, and with ``probabilities`` one ``proba_<class>`` column per
# class the model knows.
PREDICTION = "prediction"


def require_probabilities(model: Any, model_name: str) -> None:
    if not hasattr(model, "predict_proba"):
        raise BadInput(
            f"probabilities: the production model of {model_name} ({type(model).__name__}) "
            "has no predict_proba; set probabilities to false"
        )


def predict(
    model: Any,
    features: pd.DataFrame,
    ids: pa.Table | None = None,
    probabilities: bool = False,
) -> pa.Table:
    columns: dict[str, Any] = {}
    if ids is not None:
        columns.update({name: ids.column(name) for name in ids.column_names})
    columns[PREDICTION] = pa.array(model.predict(features))
    if probabilities:
        for label, values in zip(model.classes_, model.predict_proba(features).T, strict=True):
            columns[f"proba_{label}"] = pa.array(values)
    return pa.table(columns)


def feature_frame(table: pa.Table, features: Sequence[str]) -> pd.DataFrame:
    """The model's feature columns, in the order it was trained on."""
    return table.select(list(features)).to_pandas()
