"""Running the command line in-process, for the command tests.

:func:`runner` gives a function that runs :func:`ketadesk.cli.main.main` with the words
given and returns a :class:`Result`: the exit status and what was printed on stdout and
stderr (read back from pytest's ``capsys``). A test that needs a fixed "today" states it:
``runner(capsys, clock=clock_on(date(2027, 1, 4)))`` hands that clock to ``main``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from ketadesk.cli.common import Clock
from ketadesk.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def clock_on(day: date) -> Clock:
    """A clock stopped at noon UTC on ``day``: the commands' "today" is ``day``."""
    return Clock(at=datetime.combine(day, time(12), UTC))


def runner(
    capsys: pytest.CaptureFixture[str], clock: Clock | None = None
) -> Callable[..., Result]:
    """``run("patient", "find", ...)`` runs main() and returns its status and output.

    ``clock`` is when the commands run (default: the workstation's clock).
    """

    def run(*argv: str) -> Result:
        code = main(list(argv), clock=clock)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
