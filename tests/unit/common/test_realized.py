"""Realized quality read back from predictions versions' metadata: the trend per model version
that `handoff status` shows and the dashboard's picture, with decayed cells marked."""

from __future__ import annotations

from jobs.common.quality import realized


def metadata(partition: str, model: str, value: float, metric: str = "rmse") -> dict:
    return {
        "partition": partition,
        "model_version": model,
        "realized": {"metric": metric, "value": value, "rows": 10},
    }


def test_a_version_without_realized_quality_is_no_point() -> None:
    assert realized.point("v", {"partition": "p", "model_version": "1"}) is None


def test_the_trend_is_per_model_version_by_partition_and_the_last_revision_wins() -> None:
    points = [
        realized.point("a", metadata("2026-11-25", "2", 1.0)),
        realized.point("b", metadata("2026-11-24", "10", 2.0)),
        realized.point("c", metadata("2026-11-24", "2", 3.0)),
        realized.point("d", metadata("2026-11-24", "2", 4.0)),  # a later revision
    ]
    lines = realized.trend(p for p in points if p is not None)
    assert list(lines) == ["2", "10"]
    assert [(p.partition, p.value, p.predictions) for p in lines["2"]] == [
        ("2026-11-24", 4.0, "d"),
        ("2026-11-25", 1.0, "a"),
    ]


def test_the_picture_marks_what_is_worse_than_the_bar_in_the_metrics_direction() -> None:
    points = [
        realized.point("a", metadata("2026-11-24", "1", 1.5)),
        realized.point("b", metadata("2026-11-25", "1", 2.5)),
    ]
    page = realized.picture("cars", [p for p in points if p is not None], bar=2.0)
    assert "cars: realized quality" in page and "version 1" in page
    assert '<td class="good">1.5000 (10 rows)</td>' in page
    assert '<td class="bad">2.5000 (10 rows)</td>' in page
    assert "retrain_below 2" in page


def test_status_lines_show_the_trend_and_the_retraining_a_version_started() -> None:
    found = {
        "versions": [
            {
                "model_version": "3",
                "metric": "rmse",
                "partitions": [
                    {"partition": "2026-11-24", "value": 1.5, "rows": 10},
                    {"partition": "2026-11-25", "value": 2.5, "rows": 12},
                ],
                "retraining": {"reason": "realized rmse 2.5000 ...", "time": "T"},
            }
        ]
    }
    assert realized.describe(found)[1:] == [
        "    version 3 rmse: 2026-11-24 1.5000 (10 rows), 2026-11-25 2.5000 (12 rows)",
        "         started training T: realized rmse 2.5000 ...",
    ]
    assert "none yet" in realized.describe(None)[1]


def test_the_newest_time_of_a_dataset_is_its_time_columns_last_time() -> None:
    from datetime import UTC, datetime

    schema = {"columns": {"date": {"kind": "datetime", "max": "2015-12-31T00:00:00"}}}
    dated = {"time_column": "date", "schema": schema}
    assert realized.newest_time(dated) == datetime(2015, 12, 31, tzinfo=UTC)
    # No time column, or one that holds numbers: nothing says how new the rows are.
    assert realized.newest_time({"schema": schema}) is None
    numbers = {"columns": {"date": {"kind": "numeric", "max": 20151231}}}
    assert realized.newest_time({"time_column": "date", "schema": numbers}) is None


def test_a_partition_not_newer_than_the_training_data_is_look_ahead() -> None:
    from datetime import UTC, datetime

    trained = realized.newest_dataset(
        [
            ("iris_training_dataset version 3", datetime(2026, 11, 20, 9, tzinfo=UTC)),
            ("iris_testing_dataset version 3", datetime(2026, 11, 24, 9, tzinfo=UTC)),
        ]
    )
    assert trained is not None and trained.dataset == "iris_testing_dataset version 3"
    day = datetime(2026, 11, 24, tzinfo=UTC)
    reason = realized.look_ahead("2026-11-24", day, trained)
    assert reason is not None and "iris_testing_dataset version 3" in reason
    assert "2026-11-24" in reason
    assert realized.look_ahead("2026-11-25", datetime(2026, 11, 25, tzinfo=UTC), trained) is None
    # Nothing to judge by: a key that is no time, a version that records no datasets.
    assert realized.look_ahead("iris", None, trained) is None
    assert realized.look_ahead("2026-11-24", day, realized.newest_dataset([])) is None


def test_look_ahead_points_are_left_out_of_the_trend_and_shown_apart() -> None:
    ahead = metadata("2026-11-23", "2", 0.5)
    ahead["realized"]["look_ahead"] = True
    points = [
        realized.point("a", ahead),
        realized.point("b", metadata("2026-11-25", "2", 1.0)),
    ]
    found = [p for p in points if p is not None]
    assert [p.partition for p in realized.trend(found)["2"]] == ["2026-11-25"]
    assert [p.partition for p in realized.trend(found, look_ahead=True)["2"]] == ["2026-11-23"]
    only_ahead = realized.trend(found[:1])
    assert only_ahead == {}
    lines = realized.describe(
        {
            "versions": [
                {
                    "model_version": "2",
                    "metric": "rmse",
                    "partitions": [],
                    "look_ahead": ["2026-11-23"],
                    "retraining": None,
                }
            ]
        }
    )
    assert lines[1:] == [
        "    version 2 rmse: none yet",
        "         not counted (look-ahead: not newer than its training data): 2026-11-23",
    ]


def test_live_pairs_the_champions_and_the_challengers_values_of_each_partition() -> None:
    def points(*entries: tuple[str, str, str, float]) -> list[realized.Point]:
        return [
            realized.Point(partition, model, "accuracy", value, 10, version)
            for version, partition, model, value in entries
        ]

    production = points(
        ("a", "2026-10-01", "1", 0.8),
        ("b", "2026-10-02", "1", 0.7),
        ("c", "2026-10-02", "1", 0.75),  # a later revision wins
        ("d", "2026-10-03", "1", 0.9),  # no shadow measured
    )
    shadow = points(
        ("e", "2026-10-01", "2", 0.9),
        ("f", "2026-10-02", "2", 0.85),
        ("g", "2026-10-01", "3", 0.1),  # another challenger
    )
    measured = realized.live(production, shadow, champion="1", challenger="2")
    assert [(p.partition, p.champion, p.challenger) for p in measured] == [
        ("2026-10-01", 0.8, 0.9),
        ("2026-10-02", 0.75, 0.85),
    ]


def test_status_lines_show_a_challengers_values_in_the_shadow() -> None:
    found = {
        "versions": [
            {
                "model_version": "4",
                "metric": "accuracy",
                "partitions": [],
                "shadow": [{"partition": "2026-11-24", "value": 0.9, "rows": 10}],
                "retraining": None,
            }
        ]
    }
    assert realized.describe(found)[1:] == [
        "    version 4 accuracy: none yet",
        "         in the shadow (challenger): 2026-11-24 0.9000 (10 rows)",
    ]
