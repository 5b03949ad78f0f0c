"""The retention rules on inventories written by hand: what goes, what stays, and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs.common.runtime.errors import BadInput
from jobs.gc import retention
from jobs.gc.retention import Inventory, ModelVersion, Rules, StoredFile, Version
from jobs.gc.settings import Settings

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
ROOT = "s3://bucket"
RULES = Rules(
    keep_last=2, keep_days=None, keep_archived=1, keep_datasets=1, orphan_age=timedelta(hours=1)
)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def predictions(partition: str, model: int, days_ago: float = 30) -> Version:
    version = f"{partition}_model_{model}"
    return Version(
        id=f"p-{version}",
        name="iris_predictions",
        version=version,
        uri=f"{ROOT}/iris_predictions/{version}/shards-1-abc",
        created=ago(days=days_ago),
        run=f"run-{version}",
        partition=partition,
        model_version=str(model),
    )


def stored(uri: str, size: int = 10, hours_ago: float = 48) -> StoredFile:
    return StoredFile(uri, size, ago(hours=hours_ago).timestamp())


def inventory(**parts: object) -> Inventory:
    fields: dict = {
        "root": ROOT,
        "predictions": [],
        "datasets": [],
        "models": [],
        "registered": [],
        "files": [],
    }
    fields.update(parts)
    if "registered" not in parts:  # every version's files are registered unless a test says
        versions = [*fields["predictions"], *fields["datasets"]]
        versions += [v for m in fields["models"] for v in m.outputs]
        fields["registered"] = [v.uri for v in versions]
    return Inventory(**fields)


def kinds(plan: retention.Plan) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for deletion in plan.deletions:
        found.setdefault(deletion.kind, []).append(deletion.what)
    return found


def test_every_version_of_partitions_older_than_the_newest_n_goes_with_its_run_and_bytes():
    versions = [predictions(f"2026-08-0{d}", 1) for d in range(1, 5)]
    versions.append(predictions("2026-08-01", 2))  # rescored by a newer model: a second version
    files = [stored(v.uri + "/part-00000.parquet", size=100) for v in versions]
    plan = retention.plan(inventory(predictions=versions, files=files), RULES, NOW)
    assert kinds(plan) == {
        "predictions": [
            "iris_predictions version 2026-08-01_model_1 (partition 2026-08-01)",
            "iris_predictions version 2026-08-01_model_2 (partition 2026-08-01)",
            "iris_predictions version 2026-08-02_model_1 (partition 2026-08-02)",
        ]
    }
    first = plan.deletions[0]
    assert first.bytes == 100 and first.runs == ("run-2026-08-01_model_1",)
    assert first.uris == (versions[0].uri,) and first.versions == ("p-2026-08-01_model_1",)
    assert "newest 2 partition(s)" in first.rule
    assert plan.bytes == 300 and plan.store_bytes == 500


def test_keep_days_keeps_what_is_young_whatever_its_partition():
    versions = [
        predictions("2026-08-01", 1, days_ago=1),
        *(predictions(f"2026-08-0{d}", 1) for d in (2, 3, 4)),
    ]
    rules = Rules(**{**RULES.__dict__, "keep_days": 7})
    plan = retention.plan(inventory(predictions=versions), rules, NOW)
    assert [d.what for d in plan.deletions] == [
        "iris_predictions version 2026-08-02_model_1 (partition 2026-08-02)"
    ]


def model(number: int, stage: str | None, **kw: object) -> ModelVersion:
    return ModelVersion(
        id=f"m{number}",
        number=number,
        stage=stage,
        created=ago(days=40 - number),
        runs=(f"train-{number}",),
        outputs=(
            Version(
                f"a{number}", "trained_model", str(number), f"{ROOT}/train/{number}", ago(days=9)
            ),
        ),
        **kw,  # type: ignore[arg-type]
    )


def test_model_versions_in_a_stage_the_newest_others_and_those_still_named_stay():
    models = [
        model(1, "archived"),  # rollback target of production
        model(2, "archived"),  # scored a kept partition
        model(3, "archived"),  # old, unnamed: goes
        model(4, None),  # old, unnamed: goes
        model(5, "archived"),  # the newest other: kept by keep_archived=1
        model(6, "staging"),
        model(7, "production", previous_production="1"),
    ]
    kept_partitions = [predictions("2026-08-09", 2), predictions("2026-08-08", 7)]
    plan = retention.plan(inventory(models=models, predictions=kept_partitions), RULES, NOW)
    assert kinds(plan) == {
        "model_version": ["model version 3 (archived)", "model version 4 (no stage)"]
    }
    gone = plan.deletions[0]
    assert gone.model_version == "m3" and gone.runs == ("train-3",) and gone.versions == ("a3",)
    assert gone.uris == (f"{ROOT}/train/3",)


def test_model_versions_are_listed_in_number_order_not_text_order():
    models = [model(n, "archived") for n in (3, 10, 11)] + [model(12, "production")]
    plan = retention.plan(inventory(models=models), RULES, NOW)
    assert [d.what for d in plan.deletions if d.kind == "model_version"] == [
        "model version 3 (archived)",
        "model version 10 (archived)",
    ]


def dataset(name: str, version: str, days_ago: float, run: str) -> Version:
    return Version(
        f"{name}-{version}", name, version, f"{ROOT}/{name}/{version}", ago(days=days_ago), run
    )


def test_datasets_stay_while_a_kept_model_names_them_and_a_runs_pair_goes_together():
    datasets = [
        dataset("iris_training_dataset", "1", 30, "fe-1"),
        dataset("iris_testing_dataset", "1", 30, "fe-1"),
        dataset("iris_training_dataset", "raw_2023", 20, "fe-2"),
        dataset("iris_testing_dataset", "raw_2023", 20, "fe-2"),
        dataset("iris_training_dataset", "3", 10, "fe-3"),
        dataset("iris_testing_dataset", "3", 10, "fe-3"),
    ]
    trained = model(
        7,
        "production",
        datasets=(("iris_training_dataset", "raw_2023"), ("iris_testing_dataset", "raw_2023")),
    )
    plan = retention.plan(inventory(datasets=datasets, models=[trained]), RULES, NOW)
    (gone,) = plan.deletions
    assert gone.kind == "dataset" and gone.runs == ("fe-1",)
    assert gone.what == "iris_training_dataset version 1, iris_testing_dataset version 1"


def test_leftovers_go_once_old_a_staging_folder_as_one_and_logs_and_registered_files_stay():
    registered = f"{ROOT}/iris_predictions/2026-08-02_model_1/shards-1-abc"
    waiting = f"{ROOT}/iris_predictions/2026-08-03_model_1/shards-2-def"
    killed = f"{ROOT}/iris_predictions/2026-08-01_model_1/shards-1-abc"
    files = [
        stored(f"{registered}/part-00000.parquet"),
        stored(f"{ROOT}/logs/run.log"),
        stored(f"{killed}/part-00000.parquet", size=7),
        stored(f"{killed}/_drift-00000-of-00001.npz", size=3),
        stored(f"{waiting}/part-00000.parquet"),  # shard 0 done two days ago ...
        stored(f"{waiting}/part-00001.parquet", hours_ago=0.1),  # ... shard 1 writing now
        stored(f"{ROOT}/train/9/artifact.pkl", size=5),  # a killed step's output
        stored(f"{ROOT}/train/10/artifact.pkl", hours_ago=0.5),  # a step writing now
        stored(f"{ROOT}/incoming/dt=2026-08-01/rows.parquet"),  # inputs share the bucket
    ]
    areas = [registered, f"{ROOT}/train/1"]  # the artifact folders: predictions' and a step's
    plan = retention.plan(inventory(registered=areas, files=files), RULES, NOW)
    assert [(d.what, d.bytes) for d in plan.deletions] == [
        (killed, 10),
        (f"{ROOT}/train/9/artifact.pkl", 5),
    ]
    assert plan.deletions[0].uris == (killed,)
    held = inventory(registered=areas, files=files, held=frozenset({killed.rsplit("/", 1)[0]}))
    assert [d.what for d in retention.plan(held, RULES, NOW).deletions] == [
        f"{ROOT}/train/9/artifact.pkl"
    ]


@pytest.mark.parametrize(
    ("flags", "key"),
    [
        ({"keep_last": 0}, "keep_last"),
        ({"keep_days": -1}, "keep_days"),
        ({"keep_archived": -2}, "keep_archived"),
    ],
)
def test_bad_settings_name_their_key(flags: dict, key: str):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=key):
        Settings(**flags)


def test_a_negative_or_unreadable_age_is_bad_input_naming_orphan_age():
    with pytest.raises(BadInput, match="orphan_age '-1h'"):
        Settings(orphan_age="-1h")


def test_the_revisions_of_a_partition_count_as_that_one_partition():
    def revision(partition: str, k: int, days_ago: float) -> Version:
        first = predictions(partition, 1, days_ago)
        name = f"{first.version}_r{k}" if k > 1 else first.version
        return Version(**{**first.__dict__, "id": f"p-{name}", "version": name,
                          "uri": f"{ROOT}/iris_predictions/{name}/shards-1-abc"})  # fmt: skip

    versions = [
        revision("2026-08-01", 1, 30),
        revision("2026-08-02", 1, 29),
        revision("2026-08-02", 2, 20),  # late data: scored again, a second revision
        revision("2026-08-02", 3, 10),
        revision("2026-08-03", 1, 28),
    ]
    plan = retention.plan(inventory(predictions=versions), RULES, NOW)
    # keep_last 2: 2026-08-02 (all its revisions) and 2026-08-03 stay; only 2026-08-01 goes.
    assert kinds(plan) == {
        "predictions": ["iris_predictions version 2026-08-01_model_1 (partition 2026-08-01)"]
    }


def test_shadow_predictions_follow_the_predictions_rules_and_keep_the_challenger_they_name():
    def shadow(partition: str, model: int) -> Version:
        found = predictions(partition, model)
        uri = found.uri.replace("iris_predictions", "iris_shadow_predictions")
        return Version(**{**found.__dict__, "name": "iris_shadow_predictions", "uri": uri})

    versions = [predictions(f"2026-08-0{d}", 1) for d in (1, 2, 3)]
    shadows = [shadow(f"2026-08-0{d}", 2) for d in (1, 2, 3)]
    models = [model(1, "production"), model(2, "archived"), model(3, "archived")]
    # A killed shadow scoring's staging folder: a leftover of the shadow artifact's folder.
    killed = f"{ROOT}/iris_shadow_predictions/2026-08-04_model_2/shards-1-abc"
    files = [stored(f"{killed}/part-00000.parquet")]
    plan = retention.plan(
        inventory(predictions=[*versions, *shadows], models=models, files=files),
        Rules(**{**RULES.__dict__, "keep_archived": 0}),
        NOW,
    )
    assert kinds(plan) == {
        "predictions": [
            "iris_predictions version 2026-08-01_model_1 (partition 2026-08-01)",
            "iris_shadow_predictions version 2026-08-01_model_2 (partition 2026-08-01)",
        ],
        "model_version": ["model version 3 (archived)"],  # version 2 scored kept shadows
        "leftover": [killed],
    }
