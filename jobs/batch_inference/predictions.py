"""The predictions of one batch as a table: plain functions, no ZenML.

Columns: the configured id columns as they were in the input (to join back), ``prediction``,
and with ``probabilities`` one ``proba_<class>`` column per class the model knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from jobs.common.runtime.errors import BadInput

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
