"""The evaluation report the ZenML dashboard shows on the run and the model version.

Confusion matrix, per-class precision/recall/F1 on the testing dataset, and the candidate
against the champion it was judged against (the promotion decision). Plain functions, no ZenML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sklearn.base import ClassifierMixin

from jobs.common.quality import pictures

TITLE = "Evaluation report"


@dataclass(frozen=True)
class Evaluation:
    classes: list[str]
    confusion: list[list[int]]
    """confusion[i][j]: rows of true class i predicted as class j."""
    per_class: dict[str, dict[str, float]]
    """class -> precision, recall, f1, support."""
    rows: int


def evaluate(model: ClassifierMixin, test: pd.DataFrame, target: str) -> Evaluation:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    truth = test[target]
    predicted = model.predict(test.drop(columns=[target]))
    classes = list(model.classes_)
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
        rows=len(test),
    )


def render(
    evaluation: Evaluation,
    decision: Mapping[str, Any],
    model: str,
    version: str,
    testing: str,
) -> str:
    """The whole report as one self-contained HTML page."""
    metric = str(decision.get("metric", "metric"))
    candidate = float(decision.get("candidate", float("nan")))
    champion = decision.get("champion")
    threshold = float(decision.get("threshold", 0.0))
    judged = [(f"candidate (version {version})", candidate)]
    if champion is not None:
        judged.append((f"champion (version {decision.get('champion_version')})", float(champion)))
    verdict = pictures.section(
        f"Candidate against champion ({metric})",
        pictures.bars(
            judged,
            limit=threshold,
            limit_label="threshold",
            # the candidate is red when it did not earn production
            highlight=[judged[0][0]] if decision.get("stage") != "production" else [],
            scale=1.0,
        ),
        note=f"decision: {decision.get('stage', 'unknown')} — {decision.get('reason', '')}",
    )
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
    return pictures.page(
        TITLE,
        verdict,
        pictures.side_by_side(confusion, scores),
        subtitle=f"{model} version {version} on {testing}",
    )
