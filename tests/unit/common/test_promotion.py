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
