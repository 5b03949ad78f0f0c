from jobs.common.store.promotion import PRODUCTION, STAGING, decide


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
