"""The evaluation report the ZenML dashboard shows on the run and the model version.

Classes: the confusion matrix and per-class precision/recall/F1 on the testing dataset. Numbers:
predicted against actual and the residuals. Both: the candidate against the champion it was
judged against and the trivial baseline (the promotion decision). Plain functions, no ZenML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from jobs.common.quality import pictures

TITLE = "Evaluation report"
MAX_POINTS = 1000
"""Points drawn in the predicted-against-actual picture (a uniform sample of the rows)."""
RESIDUAL_BINS = 12


@dataclass(frozen=True)
class Evaluation:
    classes: list[str]
    confusion: list[list[int]]
    """confusion[i][j]: rows of true class i predicted as class j."""
    per_class: dict[str, dict[str, float]]
    """class -> precision, recall, f1, support."""
    rows: int


@dataclass(frozen=True)
class RegressionEvaluation:
    points: list[tuple[float, float]]
    """(actual, predicted) of up to MAX_POINTS testing rows."""
    residuals: list[tuple[str, float]]
    """(bin, rows): how far the predictions miss (predicted - actual), in RESIDUAL_BINS bins."""
    rows: int


def evaluate_regression(truth: Any, predicted: Any) -> RegressionEvaluation:
    truth = np.asarray(truth, dtype=np.float64)
    predicted = np.asarray(predicted, dtype=np.float64)
    keep = np.random.default_rng(0).permutation(len(truth))[:MAX_POINTS]
    counts, edges = np.histogram(predicted - truth, bins=RESIDUAL_BINS)
    return RegressionEvaluation(
        points=[(float(truth[i]), float(predicted[i])) for i in sorted(keep)],
        residuals=[
            (f"{edges[i]:.3g} to {edges[i + 1]:.3g}", float(n)) for i, n in enumerate(counts)
        ],
        rows=len(truth),
    )


def evaluate(truth: Any, predicted: Any, classes: list[Any]) -> Evaluation:
    """The testing rows' classes against the predicted ones (``classes``: the model's)."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    matrix = confusion_matrix(truth, predicted, labels=classes)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    return Evaluation(
        classes=[str(c) for c in classes],
        confusion=[[int(n) for n in row] for row in matrix],
        per_class={
            str(c): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, c in enumerate(classes)
        },
        rows=len(truth),
    )


def to_record(evaluation: Evaluation | RegressionEvaluation) -> dict[str, Any]:
    """The evaluation as plain data: what the evaluation step hands to the report step, so the
    testing rows are predicted once."""
    from dataclasses import asdict

    kind = "regression" if isinstance(evaluation, RegressionEvaluation) else "classification"
    return {"kind": kind, **asdict(evaluation)}


def from_record(record: dict[str, Any]) -> Evaluation | RegressionEvaluation:
    fields = {k: v for k, v in record.items() if k != "kind"}
    if record.get("kind") == "regression":
        return RegressionEvaluation(**fields)
    return Evaluation(**fields)


def render(
    evaluation: Evaluation | RegressionEvaluation,
    decision: Mapping[str, Any],
    model: str,
    version: str,
    testing: str,
) -> str:
    """The whole report as one self-contained HTML page."""
    body = (
        _regression(evaluation, testing)
        if isinstance(evaluation, RegressionEvaluation)
        else _classes(evaluation, testing)
    )
    return pictures.page(
        TITLE,
        _verdict(decision, version),
        body,
        subtitle=f"{model} version {version} on {testing}",
    )


def _verdict(decision: Mapping[str, Any], version: str) -> str:
    from jobs.common.store.promotion import LOWER_IS_BETTER

    metric = str(decision.get("metric", "metric"))
    candidate = float(decision.get("candidate", float("nan")))
    champion = decision.get("champion")
    error = metric in LOWER_IS_BETTER
    threshold = None if error else float(decision.get("threshold", 0.0))
    judged = [(f"candidate (version {version})", candidate)]
    if champion is not None:
        judged.append((f"champion (version {decision.get('champion_version')})", float(champion)))
    if decision.get("baseline") is not None:
        judged.append(("trivial baseline", float(decision["baseline"])))
    return pictures.section(
        f"Candidate against champion ({metric}, {'lower' if error else 'higher'} is better)",
        pictures.bars(
            judged,
            limit=threshold,
            limit_label="threshold",
            # the candidate is red when it did not earn production
            highlight=[judged[0][0]] if decision.get("stage") != "production" else [],
            scale=None if error else 1.0,
        ),
        note=f"decision: {decision.get('stage', 'unknown')} — {decision.get('reason', '')}",
    )


def _classes(evaluation: Evaluation, testing: str) -> str:
    largest = max((n for row in evaluation.confusion for n in row), default=0) or 1
    confusion = pictures.section(
        "Confusion matrix",
        pictures.table(
            ["true \\ predicted", *evaluation.classes],
            [[c, *row] for c, row in zip(evaluation.classes, evaluation.confusion, strict=True)],
            shades=[[None, *(n / largest for n in row)] for row in evaluation.confusion],
        ),
        note=f"{evaluation.rows} rows of {testing}; rows are the true class",
    )
    scores = pictures.section(
        "Per class",
        pictures.table(
            ["class", "precision", "recall", "F1", "support"],
            [
                [c, s["precision"], s["recall"], s["f1"], int(s["support"])]
                for c, s in evaluation.per_class.items()
            ],
        ),
    )
    return pictures.side_by_side(confusion, scores)


def _regression(evaluation: RegressionEvaluation, testing: str) -> str:
    shown = len(evaluation.points)
    against = pictures.section(
        "Predicted against actual",
        pictures.scatter(evaluation.points, x_label="actual", y_label="predicted", diagonal=True),
        note=f"{shown} of {evaluation.rows} rows of {testing}; on the dashed line the "
        "prediction is exact",
    )
    residuals = pictures.section(
        "Residuals (predicted - actual)",
        pictures.bars(evaluation.residuals),
        note="rows per bin of the error",
    )
    return pictures.side_by_side(against, residuals)
