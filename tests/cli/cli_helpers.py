"""Running the command line in-process, for the command tests.

:func:`runner` gives a function that runs :func:`ketadesk.cli.main.main` with the words
given and returns a :class:`Result`: the exit status and what was printed on stdout and
stderr (read back from pytest's ``capsys``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ketadesk.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``run("patient", "find", ...)`` runs main() and returns its status and output."""

    def run(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
