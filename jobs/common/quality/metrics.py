"""The task's quality metrics on true and predicted values: training scores its testing rows
with them, monitoring the labelled rows of a scored partition (realized quality)."""

from __future__ import annotations

from typing import Any

import numpy as np

from jobs.common.data.kinds import Task


def metrics(truth: Any, predicted: Any, task: Task) -> dict[str, float]:
    """Every metric of ``task``: rmse, mae, r2 for regression; accuracy, balanced accuracy and
    macro F1 for classification."""
    from sklearn import metrics as m

    if task == "regression":
        return {
            "rmse": float(np.sqrt(m.mean_squared_error(truth, predicted))),
            "mae": float(m.mean_absolute_error(truth, predicted)),
            "r2": float(m.r2_score(truth, predicted)),
        }
    return {
        "accuracy": float(m.accuracy_score(truth, predicted)),
        "balanced_accuracy": float(m.balanced_accuracy_score(truth, predicted)),
        "f1_macro": float(m.f1_score(truth, predicted, average="macro")),
    }
