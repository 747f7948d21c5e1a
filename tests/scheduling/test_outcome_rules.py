"""The arithmetic of response, remission and the baseline (pure; properties with hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketadesk.scheduling.outcomes import rules
from ketadesk.scheduling.outcomes.rules import Taken

scores = st.integers(min_value=0, max_value=80)
thresholds = st.one_of(st.none(), st.integers(min_value=1, max_value=80))
FIRST = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


@given(baseline=st.integers(min_value=1, max_value=80), latest=scores)
def test_response_is_a_fall_of_at_least_half(baseline: int, latest: int) -> None:
    assert rules.responded(baseline, latest) == (2 * latest <= baseline)
    assert rules.responded(baseline, latest) == (
        Fraction(baseline - latest, baseline) >= Fraction(1, 2)
    )


@given(latest=scores)
def test_no_response_from_a_baseline_of_zero(latest: int) -> None:
    assert not rules.responded(0, latest)
    assert not rules.responded(0, latest, lower_is_better=False)


@given(baseline=scores, latest=scores, other=scores, threshold=thresholds)
def test_remission_does_not_depend_on_the_baseline(
    baseline: int, latest: int, other: int, threshold: int | None
) -> None:
    del baseline, other  # the point: remission takes no baseline at all
    said = rules.remitted(latest, threshold)
    if threshold is None:
        assert said is None
    else:
        assert said == (latest < threshold)


@given(baseline=scores, low=scores, high=scores, threshold=st.integers(1, 80))
def test_a_lower_latest_is_never_worse(baseline: int, low: int, high: int, threshold: int) -> None:
    low, high = min(low, high), max(low, high)
    if rules.responded(baseline, high):
        assert rules.responded(baseline, low)
    if rules.remitted(high, threshold):
        assert rules.remitted(low, threshold)


@given(baseline=st.integers(1, 80), low=scores, high=scores)
def test_higher_is_better_measures_mirror_it(baseline: int, low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    if rules.responded(baseline, low, lower_is_better=False):
        assert rules.responded(baseline, high, lower_is_better=False)
    assert rules.responded(baseline, high, lower_is_better=False) == (2 * high >= 3 * baseline)


@given(baseline=scores, latest=scores)
def test_change_is_exact(baseline: int, latest: int) -> None:
    assert rules.change(baseline, latest) == latest - baseline
    fraction = rules.change_fraction(baseline, latest)
    if baseline == 0:
        assert fraction is None
    else:
        assert fraction is not None and fraction * baseline == latest - baseline


@pytest.mark.parametrize(
    ("baseline", "latest", "responded", "remitted"),
    [(20, 10, True, False), (20, 11, False, False), (9, 4, True, True), (8, 4, True, True)],
)
def test_the_edges(baseline: int, latest: int, responded: bool, remitted: bool) -> None:
    assert rules.responded(baseline, latest) is responded
    assert rules.remitted(latest, 5) is remitted


@pytest.mark.parametrize(
    ("fraction", "words"),
    [(Fraction(-1, 2), "-50%"), (Fraction(-1, 3), "-33%"), (Fraction(1, 200), "+1%"), (None, "—")],
)
def test_percent_words(fraction: Fraction | None, words: str) -> None:
    assert rules.percent_words(fraction) == words


def _taken(score_id: int, days_before: float, session_id: int | None = None) -> Taken:
    return Taken(score_id, 10 + score_id, FIRST - timedelta(days=days_before), session_id)


def test_the_baseline_is_the_latest_score_within_the_window_before_the_first_dose() -> None:
    found = [_taken(1, 40), _taken(2, 12), _taken(3, 3), _taken(4, -2)]
    chosen = rules.baseline_of(found, first_session_id=None, first_dose=FIRST)
    assert chosen is not None and chosen.score_id == 3


def test_a_score_older_than_the_window_is_no_baseline() -> None:
    old = [_taken(1, 31), _taken(2, 45)]
    assert rules.baseline_of(old, first_session_id=None, first_dose=FIRST) is None
    edge = [_taken(3, 30)]
    chosen = rules.baseline_of(edge, first_session_id=None, first_dose=FIRST)
    assert chosen is not None and chosen.score_id == 3


def test_the_score_taken_at_the_first_session_is_its_baseline() -> None:
    # filled in the chair and typed in after the dose: still the first session's score
    found = [_taken(1, 10), _taken(2, -0.05, session_id=77), _taken(3, -3, session_id=78)]
    chosen = rules.baseline_of(found, first_session_id=77, first_dose=FIRST)
    assert chosen is not None and chosen.score_id == 2


def test_the_latest_score_stops_at_the_next_series() -> None:
    baseline = _taken(1, 2)
    found = [baseline, _taken(2, -5), _taken(3, -12), _taken(4, -40)]
    latest = rules.latest_of(found, baseline, until=FIRST + timedelta(days=30))
    assert latest is not None and latest.score_id == 3
    assert rules.latest_of([baseline], baseline, until=None) is None
