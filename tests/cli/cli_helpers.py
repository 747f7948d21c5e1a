"""Running the command line in-process, for the command tests.

:func:`runner` gives a function that runs :func:`ketadesk.cli.main.main` with the words
given and returns a :class:`Result`: the exit status and what was printed on stdout and
stderr (read back from pytest's ``capsys``). A test that needs a fixed "today" states it:
``runner(capsys, clock=clock_on(date(2027, 1, 4)))`` hands that clock to ``main``.

Every command acts as a KetaDesk account (:mod:`ketadesk.cli.acting`). A clinic gets one
from ``ketadesk init --admin`` (which links its administrator to the operating-system user
running it); the tests' databases are mostly made by fixtures instead, so before a command
the runner does once what that clinic's administrator did: :func:`link_os_admin` adds an
administrator linked to the operating-system user running the tests, unless one is linked
already. ``runner(capsys, linked=False)`` leaves that out, for the tests about who may act.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from ketadesk.cli.common import Clock
from ketadesk.cli.main import main

TEST_ADMIN = "clinic-admin"
SKIPPED = {"init", "demo-data", "--help", "-h", "--version", "install-desktop"}


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
    capsys: pytest.CaptureFixture[str], clock: Clock | None = None, *, linked: bool = True
) -> Callable[..., Result]:
    """``run("patient", "find", ...)`` runs main() and returns its status and output.

    ``clock`` is when the commands run (default: the workstation's clock); ``linked`` makes
    sure the database has an administrator linked to the operating-system user first.
    """

    def run(*argv: str) -> Result:
        if linked and not SKIPPED.intersection(argv):
            link_os_admin(_url_of(argv))
        code = main(list(argv), clock=clock)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def _url_of(argv: tuple[str, ...]) -> str:
    """The database ``argv`` names, as the command line chooses it."""
    from ketadesk.config import database_url

    chosen = None
    for i, word in enumerate(argv):
        if word == "--db" and i + 1 < len(argv):
            chosen = argv[i + 1]
        elif word.startswith("--db="):
            chosen = word.removeprefix("--db=")
    return database_url(chosen)


@functools.cache
def _admin_hash() -> str:
    """One argon2 hash for every test administrator (hashing is slow on purpose)."""
    from ketadesk.access.passwords import hash_password

    return hash_password(TEST_ADMIN_PASSWORD)


TEST_ADMIN_PASSWORD = "clinic admin test passphrase 42"


def link_os_admin(url: str | Path) -> None:
    """An active administrator linked to the operating-system user running the tests, as
    ``ketadesk init --admin`` makes one; nothing when someone is linked already, or when
    there is no migrated database at ``url`` yet (a path is taken as a SQLite file)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from ketadesk.access.models import User
    from ketadesk.access.os_accounts import os_user_name
    from ketadesk.access.permissions import Role
    from ketadesk.db import Database

    text = f"sqlite:///{url}" if isinstance(url, Path) else url
    if text.startswith("sqlite:///") and not Path(text.removeprefix("sqlite:///")).exists():
        return
    os_user = os_user_name()
    try:
        db = Database(text)
    except (SQLAlchemyError, ImportError):  # not a URL, or a driver that is not installed
        return
    try:
        with db.transaction() as session:
            if session.scalar(select(User.id).where(User.os_account == os_user)) is not None:
                return
            admin = session.scalar(select(User).where(User.username == TEST_ADMIN))
            if admin is None:
                admin = User(username=TEST_ADMIN, full_name="Clinic Administrator",
                             role=Role.ADMIN, password_hash=_admin_hash(), active=True)
                session.add(admin)
            admin.os_account = os_user
    except SQLAlchemyError:  # not a migrated KetaDesk database (yet): nothing to link
        return
    finally:
        db.dispose()
