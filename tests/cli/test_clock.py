"""The commands' clock: :class:`ketadesk.cli.common.Clock`, stated by a caller or real.

The command tests state their time by passing a clock to :func:`ketadesk.cli.main.main`;
these check what a stated clock answers and that a date option reads "today" from it.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ketadesk.cli import billing_common, common


def test_a_stated_clock_answers_now_and_today_from_its_instant() -> None:
    tokyo = datetime(2027, 1, 4, 8, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    clock = common.Clock(at=tokyo)
    assert clock.now() == datetime(2027, 1, 3, 23, 30, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)
    assert clock.today() == date(2027, 1, 4)
    assert clock.today_in("America/New_York") == date(2027, 1, 3)


def test_a_stated_clock_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        common.Clock(at=datetime(2027, 1, 4, 12, 0))


def test_date_words_are_read_by_the_clock_given() -> None:
    clock = common.Clock(at=datetime(2027, 3, 1, 12, 0, tzinfo=UTC))
    assert billing_common.parse_date("yesterday", "from", clock) == date(2027, 2, 28)
    assert billing_common.parse_date(" Today ", "from", clock) == date(2027, 3, 1)
    late = common.Clock(at=datetime(2027, 3, 1, 2, 0, tzinfo=UTC))
    assert common.parse_day("today", "America/Los_Angeles", late) == date(2027, 2, 28)


def test_the_real_clock_is_the_default_for_a_command() -> None:
    assert common.clock_of(argparse.Namespace()) is common.SYSTEM_CLOCK
    assert common.SYSTEM_CLOCK.now().tzinfo is UTC
