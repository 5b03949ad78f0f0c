"""Per-feature drift: the training distribution again is no drift, a shifted feature is named."""

from __future__ import annotations

import io
import json
import logging

import numpy as np
import pandas as pd
import pytest

from jobs.common.quality import drift


def detect(reference, data: pd.DataFrame, threshold: float = drift.DEFAULT_THRESHOLD):
    """A whole table as one batch, as the partition's check sees it."""
    accumulator = drift.DriftAccumulator(reference)
    accumulator.update(data)
    return accumulator.report(threshold)


def table(rows: int, seed: int, shift: dict[str, float] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "normal": rng.normal(5.0, 1.0, rows),
            "skewed": rng.lognormal(0.0, 0.8, rows),
            "count": rng.poisson(3, rows).astype("int64"),
        }
    )
    for name, by in (shift or {}).items():
        frame[name] = frame[name] + by
    return frame


@pytest.fixture(scope="module")
def reference() -> dict[str, drift.FeatureReference]:
    # what training records, read back the way batch inference reads it
    recorded = json.loads(json.dumps(drift.to_metadata(drift.reference_statistics(table(5000, 1)))))
    return drift.from_metadata(recorded)


def test_a_partition_from_the_training_distribution_has_no_drift(reference):
    small = detect(reference, table(60, seed=60))
    assert small.drifted == [], small.features  # PSI of 60 rows is noisy; KS holds it back
    large = detect(reference, table(3000, seed=3000))
    assert large.drifted == [], large.features
    assert all(found.psi < 0.05 for found in large.features.values())
    assert set(large.features) == {"normal", "skewed", "count"}


def test_shifted_features_are_named(reference):
    report = detect(reference, table(2000, 2, shift={"normal": 1.0, "count": 2}))
    assert report.drifted == ["normal", "count"]
    assert report.features["normal"].psi > 0.25 and report.features["normal"].ks > 0.3
    assert not report.features["skewed"].drifted


def test_a_small_shift_below_the_threshold_is_not_drift(reference):
    report = detect(reference, table(2000, 3, shift={"normal": 0.1}))
    assert "normal" not in report.drifted
    assert 0 < report.features["normal"].psi < drift.DEFAULT_THRESHOLD


def test_batches_give_the_same_answer_as_the_whole_table(reference):
    data = table(4000, 4, shift={"skewed": 1.5})
    whole = detect(reference, data)
    accumulator = drift.DriftAccumulator(reference, sample_size=1000)
    for start in range(0, len(data), 333):
        accumulator.update(data.iloc[start : start + 333])
    batched = accumulator.report()
    assert batched.drifted == whole.drifted == ["skewed"]
    for name, found in whole.features.items():
        assert batched.features[name].psi == found.psi, "bin counts are exact"
        assert batched.features[name].rows == 4000
        assert abs(batched.features[name].ks - found.ks) < 0.05, "a 1000-row sample is close"


def test_the_sample_is_bounded_and_the_same_whatever_the_batch_sizes(reference):
    data = table(20_000, 6, shift={"normal": 0.05})
    reports = []
    for sizes in ([20_000], [1, 999, 7_000, 12_000], [250] * 80):
        accumulator = drift.DriftAccumulator(reference, sample_size=500, seed=7)
        start = 0
        for size in sizes:
            accumulator.update(data.iloc[start : start + size])
            start += size
            assert all(len(values) <= 500 for values in accumulator._sample.values())
        reports.append(accumulator.report().to_metadata())
    assert reports[0] == reports[1] == reports[2], "the same rows are sampled"
    assert reports[0]["features"]["normal"]["rows"] == 20_000


def test_the_report_is_plain_json_for_run_metadata(reference):
    recorded = detect(reference, table(500, 5, shift={"normal": 2.0})).to_metadata()
    again = json.loads(json.dumps(recorded))
    assert drift.DriftReport.from_metadata(again).to_metadata() == recorded
    assert again["drifted"] == ["normal"]
    assert again["features"]["normal"]["drifted"] is True
    assert set(again["features"]["skewed"]) == {"psi", "ks", "p_value", "rows", "drifted"}


def test_a_constant_or_missing_feature():
    reference = drift.reference_statistics(pd.DataFrame({"flag": [1.0] * 100, "name": ["a"] * 100}))
    assert list(reference) == ["flag"], "only numeric features have statistics"
    assert detect(reference, pd.DataFrame({"flag": [1.0] * 50})).drifted == []
    assert detect(reference, pd.DataFrame({"flag": [2.0] * 50})).drifted == ["flag"]
    with pytest.raises(ValueError, match="'flag'"):
        detect(reference, pd.DataFrame({"other": [1.0]}))


def test_the_drift_picture_names_the_drifted_features(reference):
    import re

    report = detect(reference, table(1000, 6, shift={"skewed": 3.0}))
    html = drift.picture(report, "iris_predictions partition 2026-11-25")
    text = re.sub(r"<[^>]+>", " ", html)
    assert "drifted: skewed" in text and "partition 2026-11-25" in text
    assert 'fill="#dc2626"><title>skewed' in html, "the drifted feature's bar is red"
    assert 'fill="#2563eb"><title>normal' in html


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_fail_refuses_warn_logs_one_line_and_off_says_nothing(reference):
    from jobs.common.runtime.errors import BadInput, ExitCode

    shifted = detect(reference, table(800, 7, shift={"normal": 1.5}))
    with pytest.raises(BadInput) as refused:
        drift.enforce(shifted, "fail", "iris_predictions partition 2026-11-25")
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    assert "partition 2026-11-25: drift in normal (PSI" in str(refused.value)

    logger, collect = logging.getLogger("handoff"), Collect()
    logger.addHandler(collect)
    try:
        drift.enforce(shifted, "warn", "partition 2026-11-25")
        drift.enforce(shifted, "off", "partition 2026-11-25")
        drift.enforce(detect(reference, table(800, 8)), "fail", "partition 2026-11-26")
    finally:
        logger.removeHandler(collect)
    (line,) = collect.records
    assert line.levelname == "WARNING" and "normal" in line.getMessage()
    assert line.drifted == ["normal"]


def test_shards_merged_give_the_whole_partitions_counts_and_a_sample_of_all_of_it(reference):
    data = table(9000, 8, shift={"count": 2})
    whole = drift.DriftAccumulator(reference, sample_size=1000)
    whole.update(data)
    merged = drift.DriftAccumulator(reference, sample_size=1000)
    for seed, start in enumerate(range(0, 9000, 3000)):
        shard = drift.DriftAccumulator(reference, sample_size=1000, seed=seed)
        shard.update(data.iloc[start : start + 3000])
        # what a shard leaves in the artifact store and the committing shard reads back
        buffer = io.BytesIO()
        np.savez(buffer, **shard.state())
        buffer.seek(0)
        merged.merge(dict(np.load(buffer, allow_pickle=False)))
    got, want = merged.report(), whole.report()
    assert got.drifted == want.drifted == ["count"]
    for name, found in want.features.items():
        assert got.features[name].psi == found.psi, "bin counts add up exactly"
        assert got.features[name].rows == 9000
        assert abs(got.features[name].ks - found.ks) < 0.06, "a 1000-row sample of all rows"
    assert all(len(values) == 1000 for values in merged._sample.values())
    # every shard has its share in the sample, about a third each
    parts = [set(data["normal"].iloc[s : s + 3000]) for s in range(0, 9000, 3000)]
    shares = [sum(v in part for v in merged._sample["normal"]) for part in parts]
    assert all(250 < share < 420 for share in shares), shares


def test_a_state_over_another_reference_is_refused(reference):
    other = drift.DriftAccumulator({"normal": reference["normal"]})
    with pytest.raises(ValueError, match="different reference"):
        drift.DriftAccumulator(reference).merge(other.state())


def shop(rows: int, seed: int, red: float = 0.5, gaps: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "blue", "green"], size=rows, p=[red, (1 - red) / 2, (1 - red) / 2])
    size = rng.normal(size=rows)
    size[rng.random(rows) < gaps] = np.nan
    return pd.DataFrame({"colour": colour, "size": size, "member": rng.choice(["yes", "no"], rows)})


KINDS = {"colour": "categorical", "size": "numeric", "member": "boolean"}


def test_category_shares_and_gaps_drift_like_numbers():
    reference = drift.reference_statistics(shop(5000, 1), KINDS)
    assert reference["colour"].kind == "categorical" and reference["colour"].levels
    assert reference["member"].discrete, "a boolean is a number of two values"
    same = detect(reference, shop(2000, 2))
    assert same.drifted == [] and same.features["colour"].chi2 is not None
    moved = detect(reference, shop(2000, 3, red=0.9))
    assert moved.drifted == ["colour"] and moved.features["colour"].p_value < drift.ALPHA
    emptied = detect(reference, shop(2000, 4, gaps=0.4))
    assert emptied.drifted == ["size"] and emptied.features["size"].missing == pytest.approx(
        0.4, abs=0.05
    )


def test_a_category_never_seen_lands_in_the_rest_and_shards_merge_exactly():
    reference = drift.reference_statistics(shop(5000, 1), KINDS)
    partition = shop(1000, 5).assign(colour="purple")
    whole = drift.DriftAccumulator(reference, sample_size=1000)
    whole.update(partition)
    merged = drift.DriftAccumulator(reference, sample_size=1000)
    for seed, part in enumerate((partition.iloc[:400], partition.iloc[400:])):
        shard = drift.DriftAccumulator(reference, sample_size=1000, seed=seed)
        shard.update(part)
        merged.merge(shard.state())
    assert whole.report().features["colour"] == merged.report().features["colour"]
    assert whole.report().drifted == ["colour"]


def test_a_report_with_categories_reads_back_from_its_metadata():
    reference = drift.reference_statistics(shop(5000, 1), KINDS)
    recorded = json.loads(json.dumps(detect(reference, shop(500, 2, red=0.9)).to_metadata()))
    assert drift.DriftReport.from_metadata(recorded).to_metadata() == recorded
    assert "ks" not in recorded["features"]["colour"] and "chi2" in recorded["features"]["colour"]
