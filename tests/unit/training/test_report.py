"""The evaluation report: what a reviewer reads in the dashboard, from a real model."""

from __future__ import annotations

import re

import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from jobs.training import report


def fitted() -> tuple[DecisionTreeClassifier, pd.DataFrame]:
    train = pd.DataFrame({"x": [0, 1, 2, 3, 4, 5], "y": ["a", "a", "b", "b", "c", "c"]})
    model = DecisionTreeClassifier(max_depth=1, random_state=0).fit(train[["x"]], train["y"])
    test = pd.DataFrame({"x": [0, 1, 2, 3, 4, 5, 5], "y": ["a", "a", "b", "b", "c", "c", "a"]})
    return model, test


def evaluated(model: DecisionTreeClassifier, test: pd.DataFrame) -> report.Evaluation:
    return report.evaluate(test["y"], model.predict(test[["x"]]), list(model.classes_))


def test_the_confusion_matrix_and_per_class_scores_come_from_the_predictions():
    model, test = fitted()
    predicted = list(model.predict(test[["x"]]))
    evaluation = evaluated(model, test)
    assert evaluation.classes == ["a", "b", "c"] and evaluation.rows == 7
    for i, truth in enumerate(evaluation.classes):
        for j, guess in enumerate(evaluation.classes):
            expected = sum(
                t == truth and p == guess for t, p in zip(test["y"], predicted, strict=True)
            )
            assert evaluation.confusion[i][j] == expected
    assert sum(map(sum, evaluation.confusion)) == 7
    assert evaluation.per_class["a"]["support"] == 3


def test_the_page_shows_the_matrix_the_scores_and_the_champion_it_was_judged_against():
    model, test = fitted()
    decision = {
        "stage": "staging",
        "reason": "accuracy 0.5714 is worse than production version 3 (0.9333)",
        "metric": "accuracy",
        "candidate": 0.5714,
        "champion": 0.9333,
        "champion_version": "3",
        "threshold": 0.5,
    }
    html = report.render(evaluated(model, test), decision, "iris_classifier", "4", "t")
    text = re.sub(r"<[^>]+>", " ", html)
    assert "Confusion matrix" in text and "Per class" in text
    assert "candidate (version 4)" in text and "champion (version 3)" in text
    assert "worse than production version 3" in text
    assert "0.9333" in text and "threshold 0.5" in text


def test_values_are_escaped():
    model, test = fitted()
    decision = {"reason": "<script>alert(1)</script>", "candidate": 1.0, "threshold": 0.9}
    html = report.render(evaluated(model, test), decision, "m", "1", "t")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_regression_report_shows_predicted_against_actual_and_the_residuals():
    from sklearn.linear_model import LinearRegression

    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.1, 1.1, 1.9, 3.2]})
    model = LinearRegression().fit(train[["x"]], train["y"])
    evaluation = report.evaluate_regression(train["y"], model.predict(train[["x"]]))
    assert evaluation.rows == 4 and len(evaluation.points) == 4
    assert sum(rows for _, rows in evaluation.residuals) == 4
    decision = {"stage": "production", "reason": "rmse 0.1 beats", "metric": "rmse",
                "candidate": 0.1, "threshold": 0.9, "baseline": 1.2}  # fmt: skip
    text = report.render(evaluation, decision, "cars_classifier", "2", "cars_testing_dataset:1")
    assert "Predicted against actual" in text and "Residuals" in text
    assert "trivial baseline" in text and "lower is better" in text and "threshold" not in text


def test_an_evaluation_travels_between_steps_as_plain_data():
    import json

    model, test = fitted()
    evaluation = evaluated(model, test)
    record = json.loads(json.dumps(report.to_record(evaluation)))
    assert report.from_record(record) == evaluation
