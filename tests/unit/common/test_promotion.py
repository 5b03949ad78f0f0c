from jobs.common.store.promotion import PRODUCTION, STAGING, LivePartition, decide, decide_live


def test_first_model_needs_only_the_threshold():
    decision = decide(0.91, None, 0.9)
    assert decision.promote and decision.stage == PRODUCTION
    assert "no production version yet" in decision.reason


def test_below_threshold_stays_in_staging_even_without_a_champion():
    decision = decide(0.85, None, 0.9)
    assert not decision.promote and decision.stage == STAGING
    assert "below the threshold" in decision.reason


def test_worse_than_champion_stays_in_staging():
    decision = decide(0.93, 0.97, 0.9, champion_version="4")
    assert not decision.promote and decision.stage == STAGING
    assert "worse than production version 4" in decision.reason


def test_equal_to_champion_is_promoted():
    decision = decide(0.97, 0.97, 0.9, champion_version="4")
    assert decision.promote and decision.stage == PRODUCTION


def test_better_than_champion_is_promoted_and_the_record_has_the_numbers():
    decision = decide(0.99, 0.97, 0.9, metric="f1_macro", champion_version="4")
    assert decision.promote
    assert decision.as_metadata() == {
        "promote": True,
        "stage": "production",
        "reason": decision.reason,
        "metric": "f1_macro",
        "candidate": 0.99,
        "threshold": 0.9,
        "champion": 0.97,
        "champion_version": "4",
    }


def test_below_threshold_loses_even_if_better_than_champion():
    assert not decide(0.8, 0.7, 0.9).promote


def test_an_error_metric_promotes_the_lower_error_and_has_no_threshold():
    first = decide(12.5, None, 0.9, metric="rmse", baseline=30.0)
    assert first.promote and "beats the trivial baseline" in first.reason
    assert decide(11.0, 12.5, 0.9, metric="rmse", champion_version="2", baseline=30.0).promote
    worse = decide(13.0, 12.5, 0.9, metric="rmse", champion_version="2", baseline=30.0)
    assert not worse.promote and "worse than production version 2" in worse.reason


def test_no_better_than_the_trivial_baseline_stays_in_staging():
    decision = decide(31.0, None, 0.9, metric="mae", baseline=30.0)
    assert not decision.promote and "no better than the trivial baseline" in decision.reason
    assert not decide(0.95, None, 0.9, metric="accuracy", baseline=0.96).promote


def live(*values: tuple[str, float, float], ahead: str = "") -> list[LivePartition]:
    return [
        LivePartition(partition, champion, challenger, look_ahead=partition == ahead)
        for partition, champion, challenger in values
    ]


def test_a_challenger_better_on_each_of_the_last_k_partitions_is_promoted_with_the_evidence():
    measured = live(
        ("2026-10-03", 0.80, 0.90),
        ("2026-10-01", 0.95, 0.70),  # lost, but older than the last 2
        ("2026-10-02", 0.85, 0.88),
    )
    decision = decide_live("balanced_accuracy", measured, 2, challenger="m version 2")
    assert decision.promote
    assert decision.reason.startswith("m version 2 beat production on each of the last 2")
    assert decision.as_metadata() == {
        "basis": "live",
        "metric": "balanced_accuracy",
        "evidence": [
            {"partition": "2026-10-02", "champion": 0.85, "challenger": 0.88},
            {"partition": "2026-10-03", "champion": 0.80, "challenger": 0.90},
        ],
    }


def test_a_tie_or_a_loss_on_any_of_the_last_k_keeps_the_champion():
    tie = live(("2026-10-01", 0.80, 0.90), ("2026-10-02", 0.85, 0.85))
    assert not decide_live("accuracy", tie, 2).promote
    lost = live(("2026-10-01", 0.80, 0.90), ("2026-10-02", 0.85, 0.84))
    decision = decide_live("accuracy", lost, 2)
    assert not decision.promote and "not better than production on 1 of the last 2" in (
        decision.reason
    )


def test_an_error_metric_is_won_by_the_smaller_value():
    measured = live(("2026-10-01", 2.0, 1.5), ("2026-10-02", 2.5, 1.0))
    assert decide_live("rmse", measured, 2).promote
    assert not decide_live("rmse", live(("2026-10-01", 1.0, 1.5)), 1).promote


def test_fewer_than_k_partitions_not_look_ahead_is_no_decision():
    measured = live(("2026-10-01", 0.8, 0.9), ("2026-10-02", 0.8, 0.9), ahead="2026-10-01")
    decision = decide_live("accuracy", measured, 2)
    assert not decision.promote and decision.evidence == ()
    assert "measured on 1 of the 2 labelled partition(s)" in decision.reason
    assert "no decision yet" in decision.reason
