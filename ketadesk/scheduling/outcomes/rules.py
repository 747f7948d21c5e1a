"""The arithmetic of outcomes, pure and exact: a series' baseline, change, response, remission.

* **Baseline**: the score of the measure taken before the first session of the series: the
  latest one taken within :data:`BASELINE_WINDOW` before the first dose (or the session's
  start when it has not been dosed yet), or the one taken at the first session itself (the
  questionnaire filled in the chair, before the dose). An older score is not a baseline:
  symptoms a month and more before treatment say little about where it started.
* **Latest**: the last score of the measure after the baseline, before the patient's next
  series begins.
* **Response**: a fall of at least 50% from baseline, i.e. ``2·latest ≤ baseline``; never
  when the baseline is 0 (there is nothing to fall from). For a measure where higher is
  better, a rise of at least 50%: ``2·latest ≥ 3·baseline``.
* **Remission**: the latest score under the measure's threshold (PHQ-9 < 5, GAD-7 < 5,
  PCL-5 < 31), over it when higher is better; whatever the baseline was. ``None`` for a
  measure without a threshold.

Integers only, and :class:`~fractions.Fraction` for the percentage: no float ever decides
whether a patient responded. The manager's outcomes report calls :func:`responded` and
:func:`remitted` too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

BASELINE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Taken:
    """A score as the rules see it."""

    score_id: int
    total: int
    taken_at: datetime
    session_id: int | None = None


def responded(baseline: int, latest: int, *, lower_is_better: bool = True) -> bool:
    """Whether ``latest`` is at least 50% better than ``baseline``."""
    if baseline <= 0:
        return False
    if lower_is_better:
        return 2 * latest <= baseline
    return 2 * latest >= 3 * baseline


def remitted(latest: int, threshold: int | None, *, lower_is_better: bool = True) -> bool | None:
    """Whether ``latest`` is past the remission ``threshold``; ``None`` without one."""
    if threshold is None:
        return None
    return latest < threshold if lower_is_better else latest > threshold


def change(baseline: int, latest: int) -> int:
    """Latest − baseline: negative when the score fell."""
    return latest - baseline


def change_fraction(baseline: int, latest: int) -> Fraction | None:
    """(latest − baseline) ÷ baseline, exactly; ``None`` over a baseline of 0."""
    if baseline == 0:
        return None
    return Fraction(latest - baseline, baseline)


def percent_words(fraction: Fraction | None) -> str:
    """``"-57%"`` (rounded half away from zero to a whole percent), or ``"—"``."""
    if fraction is None:
        return "—"
    hundredths = fraction * 100
    whole = int(abs(hundredths) + Fraction(1, 2))
    sign = "-" if hundredths < 0 and whole else ("+" if hundredths > 0 and whole else "")
    return f"{sign}{whole}%"


def baseline_of(
    scores: Iterable[Taken], first_session_id: int | None, first_dose: datetime
) -> Taken | None:
    """The series' baseline among ``scores`` (one measure, one patient); see the module."""
    earliest = first_dose - BASELINE_WINDOW
    eligible = [
        s
        for s in scores
        if (first_session_id is not None and s.session_id == first_session_id)
        or earliest <= s.taken_at <= first_dose
    ]
    return max(eligible, key=lambda s: (s.taken_at, s.score_id), default=None)


def latest_of(scores: Iterable[Taken], baseline: Taken, until: datetime | None) -> Taken | None:
    """The last score after ``baseline`` and before ``until`` (the next series), if any."""
    after = [
        s
        for s in scores
        if (s.taken_at, s.score_id) > (baseline.taken_at, baseline.score_id)
        and (until is None or s.taken_at < until)
    ]
    return max(after, key=lambda s: (s.taken_at, s.score_id), default=None)
