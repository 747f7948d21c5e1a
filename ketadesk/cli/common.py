"""What every command shares: options, opening the database, output, errors, progress.

A command module registers its parsers with :func:`command_parser` (which adds ``--db``
and, where asked, ``--json``), opens the database with :func:`opened`, runs one service
inside one ``db.transaction()``, and hands its result to :func:`emit`, which prints
readable text or JSON. Errors travel as :class:`ketadesk.errors.KetaDeskError`; the entry
point (:mod:`ketadesk.cli.main`) turns them into one ``ketadesk: error: ...`` line on
stderr with :func:`describe`, which names command-line options instead of field names.

The scheduling commands (``schedule``, ``series``, ``session``) share their look-ups here
too: a patient by MRN, a protocol by key, a location by code or by elimination. Every
option that takes a date goes through :func:`parse_date` and every one that takes a date
and time through :func:`parse_instant`, so ``12/15/2026 9:00`` is read the same way by every
command and ``0001-01-01`` is refused in words, never with an ``OverflowError``. Each
look-up turns "not found" into a :class:`~ketadesk.errors.ValidationError` on the option's
field, so the error line names the option (``--location: there is no location
with code BOS``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO
from zoneinfo import ZoneInfo

from ketadesk.errors import InvalidValue, KetaDeskError, NotFound, Unacknowledged, ValidationError
from ketadesk.money import decimal_text

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ketadesk.access.permissions import Actor
    from ketadesk.clinic.models import Location, Patient
    from ketadesk.db import Database
    from ketadesk.scheduling.models import Protocol

PROG = "ketadesk"
Command = Callable[[argparse.Namespace], int]
"""What a sub-command runs: it takes the parsed options and returns the exit status."""
ENV_DEBUG = "KETADESK_DEBUG"
ACKNOWLEDGE_HINT = "acknowledge with --acknowledge: "

@dataclass(frozen=True)
class Clock:
    """When a command runs: the workstation's clock, or an instant stated by the caller.

    :func:`ketadesk.cli.main.main` puts one on the parsed options as ``args.clock`` (the
    real clock for the console script), and every command reads "now" and "today" from it
    -- for the services' ``now=``, ``today``/``tomorrow`` in a date option, the day a
    payment or an invoice is dated. A test states its time by passing
    ``Clock(at=...)`` to ``main`` instead of patching a module.
    """

    at: datetime | None = None
    """The stated instant (time-zone aware), or ``None`` for the workstation's clock."""

    def __post_init__(self) -> None:
        if self.at is not None and self.at.utcoffset() is None:
            raise ValueError("a stated clock needs a time-zone aware instant")

    def now(self) -> datetime:
        """The instant in UTC."""
        return datetime.now(UTC) if self.at is None else self.at.astimezone(UTC)

    def today(self) -> date:
        """The workstation's date (the stated instant's own calendar date when stated)."""
        return date.today() if self.at is None else self.at.date()

    def today_in(self, time_zone: str) -> date:
        """The date at a location: "today" in ``time_zone``."""
        return self.now().astimezone(ZoneInfo(time_zone)).date()


SYSTEM_CLOCK = Clock()
"""The real clock: what the console script runs with."""


def clock_of(args: argparse.Namespace) -> Clock:
    """The clock :func:`ketadesk.cli.main.main` put on ``args`` (the real one if none)."""
    clock = getattr(args, "clock", None)
    return clock if isinstance(clock, Clock) else SYSTEM_CLOCK


# Imported lazily by the functions below: the database layer (SQLAlchemy, Alembic) is not
# needed for `--help` or `--version`, and keeping it out makes those instant.


class UsageError(KetaDeskError):
    """The command line asked for something that cannot be done as asked."""


class DatabaseUnavailable(KetaDeskError):
    """The database URL is malformed, the server unreachable, or the file not a database."""


# --------------------------------------------------------------------------------------
# Parsers
# --------------------------------------------------------------------------------------


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of descriptions and examples, and shows defaults."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text:
            text += " (default: %(default)s)"
        return text


def command_group(
    commands: Any, name: str, *, summary: str, description: str, examples: str
) -> Any:
    """A command's parser (``ketadesk NAME``) and the sub-parser group for its actions.

    The epilog lists ``examples`` and says how to read each action's own help.
    """
    shown = examples.strip("\n")
    epilog = f"examples:\n{shown}\n\n'{PROG} {name} ACTION --help' describes each action."
    group = commands.add_parser(
        name, help=summary, description=description, epilog=epilog,
        formatter_class=HelpFormatter,
    )
    return group.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)


def add_db_option(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """``--db URL``. On sub-commands it does not override a ``--db`` given before them."""
    parser.add_argument(
        "--db", metavar="URL", default=None if top_level else argparse.SUPPRESS,
        help="database: a SQLite file path or a URL such as postgresql://host/clinic "
             "(else $KETADESK_DB, else the default file in your data folder)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def command_parser(
    group: Any, name: str, *, summary: str, description: str, examples: str,
    json_output: bool = False,
) -> argparse.ArgumentParser:
    """A sub-command parser with the shared options and an examples epilog."""
    parser: argparse.ArgumentParser = group.add_parser(
        name, help=summary, description=description,
        epilog="examples:\n" + examples.strip("\n"), formatter_class=HelpFormatter,
    )
    add_db_option(parser)
    if json_output:
        add_json_option(parser)
    return parser


# --------------------------------------------------------------------------------------
# The database
# --------------------------------------------------------------------------------------


def shown_url(url: str) -> str:
    """A URL fit to print: the file path for SQLite, the password hidden otherwise."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


def chosen_url(args: argparse.Namespace) -> str:
    """The URL from ``--db``, ``$KETADESK_DB`` or the default, as :mod:`ketadesk.config` says."""
    from ketadesk import config

    return config.database_url(getattr(args, "db", None))


def _missing_sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    return None if path.exists() or parsed.database == ":memory:" else path


@contextmanager
def database_errors(url: str, *, opening: bool = False) -> Iterator[None]:
    """Turn a bad URL, an unreachable server or a foreign file into one clear error.

    While ``opening``, an :class:`ImportError` means the URL names a driver that is not
    installed; later it would be a bug, and is left alone.
    """
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, DatabaseError, InterfaceError, OperationalError

    where = shown_url(url)
    try:
        yield
    except CommandError as error:
        raise DatabaseUnavailable(
            f"cannot bring {where} up to date: {one_line(error)} "
            "(was it written by a newer KetaDesk?)") from None
    except ArgumentError as error:
        raise DatabaseUnavailable(f"{where} is not a database URL KetaDesk can use: "
                                  f"{one_line(error)}") from None
    except ImportError as error:
        if not opening:
            raise
        raise DatabaseUnavailable(
            f"cannot open {where}: no driver ({error.name or error}); KetaDesk works with "
            "SQLite files and postgresql:// URLs") from None
    except (OperationalError, InterfaceError) as error:
        raise DatabaseUnavailable(
            f"cannot use the database at {where}: {one_line(error.orig)}") from None
    except DatabaseError as error:
        if type(error) is not DatabaseError:  # integrity or programming errors are bugs
            raise
        raise DatabaseUnavailable(f"{where} is not a KetaDesk database: "
                                  f"{one_line(error.orig)}") from None


def one_line(error: object) -> str:
    """The first line of an error's text (driver errors run to several)."""
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


Who = Literal["account", "account-unless-empty", "anyone"]
"""Who may run a command that opens the database (:func:`opened`): only a KetaDesk account
(:mod:`ketadesk.cli.acting`); anyone while the database has no users yet (``init``,
``demo-data``); or anyone, for ``user passwd``, which proves who it is by the old password."""


@contextmanager
def opened(
    args: argparse.Namespace, *, create: bool = False, who: Who = "account"
) -> Iterator[Database]:
    """The chosen database, migrated to the newest schema; disposed of afterwards.

    Opening it also starts the daily backup when one is due (:mod:`ketadesk.backups.daily`),
    then settles who the command acts as (``who``), which :func:`actor` hands out.

    Without ``create`` a SQLite file that does not exist yet is refused rather than made,
    so a mistyped ``--db`` path does not quietly start an empty clinic.
    """
    url = chosen_url(args)
    db = _open(url, create=create)
    from ketadesk.access.daily_check import start_daily_duties

    start_daily_duties(url)  # in the background, only when the newest backup is a day old
    try:
        with database_errors(url):
            if who != "anyone":
                _settle_actor(args, db, while_empty=who == "account-unless-empty")
            yield db
    finally:
        db.dispose()


def _open(url: str, *, create: bool) -> Database:
    from ketadesk.migrations import open_database

    with database_errors(url, opening=True):
        missing = None if create else _missing_sqlite_file(url)
        if missing is not None:
            raise UsageError(f"there is no KetaDesk database at {missing}; "
                             f"create it with: ketadesk init --db {missing}")
        return open_database(url)


def _settle_actor(args: argparse.Namespace, db: Database, *, while_empty: bool) -> None:
    """Settle who acts once per command: a second opening asks for no second password."""
    from ketadesk.cli import acting

    if getattr(args, "actor", None) is None:
        args.actor = acting.resolve(args, db, while_empty=while_empty)


def account_of(args: argparse.Namespace) -> Actor:
    """Who a command that handles the database as a whole file (``backup``, ``restore``)
    acts as: the database is opened only to settle that, and closed again."""
    url = chosen_url(args)
    db = _open(url, create=False)
    try:
        with database_errors(url):
            _settle_actor(args, db, while_empty=False)
    finally:
        db.dispose()
    return actor(args)


def actor(args: argparse.Namespace) -> Actor:
    """Who the command acts as, settled when :func:`opened` opened the database."""
    found = getattr(args, "actor", None)
    if found is None:
        raise RuntimeError("a command acted before opened() settled who runs it")
    return found  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """``value`` as JSON types: dates in ISO form, money as a decimal string."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def emit(args: argparse.Namespace, data: Any, text: Callable[[], str]) -> None:
    """Print ``data`` as JSON with ``--json``, otherwise the text ``text()`` builds."""
    if getattr(args, "json", False):
        print(json.dumps(plain(data), indent=2, ensure_ascii=False))
    else:
        print(text())


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows under headers, in columns as wide as their widest cell."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe(error: KetaDeskError, options: Mapping[str, str] | None = None) -> str:
    """The error as one line; validation problems name the option instead of the field."""
    if isinstance(error, ValidationError):
        names = options or {}
        return "; ".join(f"{names.get(p.field, p.field)}: {p.message}" for p in error.problems)
    return " ".join(str(error).split())


def print_error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def debugging() -> bool:
    return os.environ.get(ENV_DEBUG, "") not in ("", "0")


# --------------------------------------------------------------------------------------
# Passwords
# --------------------------------------------------------------------------------------


def read_password(env_name: str, whose: str) -> str:
    """A new password from ``$env_name``, else typed twice at a terminal prompt.

    Raises :class:`UsageError` without a terminal and without the variable, or when the two
    typed passwords differ.
    """
    from_env = os.environ.get(env_name)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise UsageError(f"no password for {whose}: set {env_name} or run this in a terminal")
    first = getpass.getpass(f"Password for {whose}: ")
    if getpass.getpass("Type it again: ") != first:
        raise UsageError("the two passwords differ; nothing was changed")
    return first


# --------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------


class Progress:
    """A progress bar on stderr for long work; quiet when stderr is not a terminal.

    Call it as ``progress(stage, done, total)`` as work advances (the shape the demo
    generator reports in), then :meth:`finish` once, which prints a final line in every case.
    """

    WIDTH = 30
    INTERVAL = 0.1  # seconds between redraws

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.started = time.monotonic()
        self._drawn_at = 0.0
        self._stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if stage != self._stage:
            if self._stage:
                self.stream.write("\n")
            self._stage = stage
        elif now - self._drawn_at < self.INTERVAL and done < total:
            return
        self._drawn_at = now
        self.stream.write("\r" + self.line(stage, done, total))
        self.stream.flush()

    def line(self, stage: str, done: int, total: int) -> str:
        share = done / total if total else 1.0
        filled = round(self.WIDTH * min(share, 1.0))
        bar = "#" * filled + "." * (self.WIDTH - filled)
        return f"{stage[:24]:<24} [{bar}] {share:4.0%} {done}/{total}"

    def finish(self, summary: str) -> None:
        """End the bar and print ``summary`` with the time taken."""
        if self.live and self._stage:
            self.stream.write("\n")
        self.stream.write(f"{summary} ({time.monotonic() - self.started:.1f} s)\n")
        self.stream.flush()


# --------------------------------------------------------------------------------------
# Look-ups and sentences shared by the scheduling commands
# --------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------
# Dates and times typed in options: one parser for every command
# --------------------------------------------------------------------------------------

# Any date an option may name (a service date, a day to show, a series' start, a period).
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)
# The window in which a session may be booked: wide enough for back-entering records and
# planning years ahead, narrow enough that no time-zone arithmetic runs off the calendar.
EARLIEST_BOOKING, LATEST_BOOKING = date(2000, 1, 1), date(2099, 12, 31)
_DAY_WORDS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_INSTANT = re.compile(
    r"(?P<day>[0-9/-]+)[ Tt]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"\s*(?P<half>[AaPp][Mm])?\s*(?P<offset>[Zz]|[+-][0-9]{2}:?[0-9]{2})?"
)
_INSTANT_EXPECTED = "write it as 2026-12-07 09:00 or 12/07/2026 9:00"


def parse_date(
    text: str,
    field: str,
    *,
    time_zone: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
    earliest: date = EARLIEST_DATE,
    latest: date = LATEST_DATE,
) -> date:
    """A date typed in an option: ``YYYY-MM-DD``, ``MM/DD/YYYY`` or ``yesterday`` /
    ``today`` / ``tomorrow`` (by ``clock``: in ``time_zone`` when given, else the
    workstation's date).

    The calendar date is read by :func:`ketadesk.clinic.validation.parse_date`, the one the
    forms use; a date outside ``earliest``..``latest`` is refused in words. Every refusal is
    a :class:`ValidationError` on ``field``.
    """
    from ketadesk.clinic.validation import parse_date as read_date

    word = text.strip().casefold()
    if word in _DAY_WORDS:
        now = clock.today() if time_zone is None else clock.today_in(time_zone)
        return now + timedelta(days=_DAY_WORDS[word])
    try:
        day = read_date(text)
    except InvalidValue as error:
        raise ValidationError.single(field, str(error)) from None
    _within(day, text.strip(), field, earliest, latest)
    return day


def _within(day: date, shown: str, field: str, earliest: date, latest: date) -> None:
    if day < earliest:
        raise ValidationError.single(
            field, f"{shown} is before {earliest:%m/%d/%Y}, the earliest date this takes"
        )
    if day > latest:
        raise ValidationError.single(
            field, f"{shown} is after {latest:%m/%d/%Y}, the latest date this takes"
        )


def parse_day(text: str, time_zone: str, clock: Clock, field: str = "day") -> date:
    """A day at a location: :func:`parse_date` with ``today``/``tomorrow`` in its zone."""
    return parse_date(text, field, time_zone=time_zone, clock=clock)


def parse_instant(
    text: str,
    time_zone: str,
    field: str = "start",
    *,
    earliest: date = EARLIEST_BOOKING,
    latest: date = LATEST_BOOKING,
) -> datetime:
    """A date and time typed in an option, as an aware instant at ``time_zone``.

    The date is any form :func:`parse_date` reads (``2026-12-15``, ``12/15/2026``), then a
    space or ``T`` and ``H:MM`` or ``HH:MM[:SS]``, optionally ``am``/``pm`` and a UTC offset
    (taken as written). The date must lie within ``earliest``..``latest`` — checked before
    any time-zone arithmetic, which runs off the calendar near years 1 and 9999. A wall-clock
    time the clocks skip (spring forward) or pass twice (fall back) is refused in words:
    booking it would be a guess.
    """
    stripped = text.strip()
    match = _INSTANT.fullmatch(stripped)
    if match is None:
        raise ValidationError.single(
            field, f"{stripped!r} is not a date and time; {_INSTANT_EXPECTED}"
        )
    day = parse_date(match["day"], field, earliest=earliest, latest=latest)
    hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
    if match["half"]:
        if not 1 <= hour <= 12:
            raise ValidationError.single(field, f"{stripped!r} has hour {hour} with am/pm")
        hour = hour % 12 + (12 if match["half"].casefold() == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValidationError.single(
            field, f"{stripped!r} is not a time of day; {_INSTANT_EXPECTED}"
        )
    parsed = datetime.combine(day, clock_time(hour, minute, second))
    if match["offset"]:
        offset = match["offset"].upper().replace("Z", "+00:00")
        try:
            return datetime.fromisoformat(f"{parsed.isoformat()}{offset}")
        except ValueError:
            raise ValidationError.single(
                field, f"{match['offset']} is not a UTC offset; write it like -05:00"
            ) from None
    zone = ZoneInfo(time_zone)
    first, second_ = parsed.replace(tzinfo=zone, fold=0), parsed.replace(tzinfo=zone, fold=1)
    shown = f"{parsed:%Y-%m-%d %H:%M}"
    if first.utcoffset() != second_.utcoffset():
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != parsed:
            raise ValidationError.single(
                field,
                f"{shown} does not exist in {time_zone}: the clocks go forward "
                "that night; choose another time",
            )
        raise ValidationError.single(
            field,
            f"{shown} happens twice in {time_zone}: the clocks go back that night; "
            f"choose another time or add the UTC offset, e.g. {parsed:%Y-%m-%dT%H:%M}"
            f"{first.isoformat()[-6:]}",
        )
    return first


def only_or_chosen_location(session: Session, actor: Actor, code: str | None) -> Location:
    """The location with ``code``; without one, the only active location there is."""
    from ketadesk.clinic.locations import list_locations

    if code:
        return location_by_code(session, code)
    active = list_locations(session, actor)
    if len(active) == 1:
        return active[0]
    if not active:
        raise UsageError(
            "there are no locations yet; add one in the window, under Settings → Locations"
        )
    codes = ", ".join(location.code for location in active)
    raise ValidationError.single(
        "location", f"there are {len(active)} locations; choose one of {codes}"
    )


def location_by_code(session: Session, code: str, field: str = "location") -> Location:
    from ketadesk.clinic.locations import get_location

    try:
        return get_location(session, code)
    except NotFound:
        raise ValidationError.single(
            field, f"there is no location with code {code.strip().upper()}"
        ) from None


def patient_by_mrn(session: Session, actor: Actor, mrn: str, field: str = "patient") -> Patient:
    """The patient with this MRN (:func:`ketadesk.clinic.patients.patient_by_mrn`, a look-up,
    not an audited record opening); not found is a problem of the option ``field``."""
    from ketadesk.clinic import patients

    try:
        return patients.patient_by_mrn(session, actor, mrn)
    except NotFound as error:
        raise ValidationError.single(field, str(error)) from None


def protocol_by_key(session: Session, key: str, field: str = "protocol") -> Protocol:
    from ketadesk.scheduling.protocols import get_protocol

    try:
        return get_protocol(session, key)
    except NotFound as error:
        raise ValidationError.single(field, str(error)) from None


def home_or_chosen_location(session: Session, patient: Patient, code: str | None) -> Location:
    """``--location``, else the patient's home location; an error in words if neither."""
    if code:
        return location_by_code(session, code)
    if patient.home_location is None:
        raise ValidationError.single(
            "location",
            f"needed, because {patient.display_name} (MRN {patient.mrn}) has no home location",
        )
    return patient.home_location


def unacknowledged_line(error: Unacknowledged) -> str:
    """The one error line for warnings booking wants acknowledged."""
    return ACKNOWLEDGE_HINT + sentences(text for _code, text in error.warnings)


def sentences(texts: Iterable[str]) -> str:
    """Sentences joined into one line: ``"a; b"`` (their full stops dropped)."""
    return "; ".join(text.strip().rstrip(".") for text in texts)
