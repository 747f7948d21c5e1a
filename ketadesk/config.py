"""Where KetaDesk keeps its data, and which database a run talks to.

The database is chosen, in order, by the ``--db`` option, the ``KETADESK_DB`` environment
variable, or the default SQLite file in the user's data directory (platformdirs). A value
without ``://`` is taken as a path to a SQLite file, so ``--db clinic.sqlite3`` works.
The demo clinic lives in its own file, apart from real data.

The files KetaDesk ships (fonts, seed protocols, fee schedule and package templates, the
icon and desktop entry, a sample CSV) are package data in ``ketadesk/resources/``, reached
through :data:`RESOURCES` so that an installed wheel finds them as a checkout does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from ketadesk.errors import InvalidValue

APP_NAME = "KetaDesk"
ENV_DATABASE = "KETADESK_DB"
ENV_DATA_DIR = "KETADESK_DATA_DIR"  # moves the data directory (tests, portable installs)
# Backups (ketadesk.backups): where they go, how many the rotation keeps, whether one is taken
# daily when KetaDesk starts, and the file holding the passphrase that seals the daily ones.
ENV_BACKUP_DIR = "KETADESK_BACKUP_DIR"
ENV_BACKUP_KEEP = "KETADESK_BACKUP_KEEP"  # daily,weekly,monthly, e.g. 7,4,12
ENV_BACKUP_DAILY = "KETADESK_BACKUP_DAILY"  # "off" switches the daily backup off
ENV_BACKUP_PASSPHRASE_FILE = "KETADESK_BACKUP_PASSPHRASE_FILE"
# importlib.resources, not a path beside the source: in a wheel (pip, pipx) only the package
# is installed. Read with .open() / .read_bytes(); a caller needing a real file (a font for
# reportlab or Qt) wraps it in importlib.resources.as_file.
RESOURCES: Traversable = files("ketadesk") / "resources"


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder for the default and demo databases and their backups."""
    import platformdirs  # only when no database was named: not on a start with --db

    override = environ.get(ENV_DATA_DIR)
    path = Path(override) if override else platformdirs.user_data_path(APP_NAME, appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalize_url(value: str) -> str:
    """Turn a bare file path into a SQLite URL; pick psycopg 3 for plain PostgreSQL URLs."""
    if "://" not in value:
        return sqlite_url(Path(value).expanduser().resolve())
    if value.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def database_url(option: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    """The URL of the database this run uses: ``--db``, else ``KETADESK_DB``, else the default."""
    chosen = option or environ.get(ENV_DATABASE)
    if chosen:
        return normalize_url(chosen)
    return sqlite_url(data_dir(environ) / "ketadesk.sqlite3")


def demo_database_url(environ: Mapping[str, str] = os.environ) -> str:
    """The demo clinic's own SQLite file, never the clinic's real data."""
    return sqlite_url(data_dir(environ) / "demo.sqlite3")


# Accounts (issue 13): how many wrong passwords in a row lock an account, for how long, and
# how long the window may sit idle before it locks. Set for every workstation in the
# environment; the lock itself is kept in the database, so it holds on every workstation.
ENV_LOCK_AFTER = "KETADESK_LOCK_AFTER"
ENV_LOCK_MINUTES = "KETADESK_LOCK_MINUTES"
ENV_IDLE_MINUTES = "KETADESK_IDLE_MINUTES"


@dataclass(frozen=True)
class AccountPolicy:
    """``lock_after`` wrong passwords in a row lock an account for ``lock_minutes``; the
    window locks itself after ``idle_minutes`` without a key press or a mouse move."""

    lock_after: int = 5
    lock_minutes: int = 15
    idle_minutes: int = 10


def account_policy(environ: Mapping[str, str] = os.environ) -> AccountPolicy:
    """The :class:`AccountPolicy` set by the environment, defaults for what is not set.

    Raises :class:`~ketadesk.errors.InvalidValue` (a sentence naming the variable) for a
    value that is not a whole number of at least 1.
    """
    values = {}
    for field, name in (
        ("lock_after", ENV_LOCK_AFTER),
        ("lock_minutes", ENV_LOCK_MINUTES),
        ("idle_minutes", ENV_IDLE_MINUTES),
    ):
        text = environ.get(name, "").strip()
        if not text:
            continue
        if not text.isdigit() or int(text) < 1:
            raise InvalidValue(f"{name} must be a whole number of at least 1, not {text!r}")
        values[field] = int(text)
    return AccountPolicy(**values)


@dataclass(frozen=True)
class BackupSettings:
    """How backups are kept, from the environment (``KETADESK_BACKUP_*``)."""

    folder: Path | None
    """Where backups go; ``None``: a ``backups`` folder beside the database."""
    keep: tuple[int, int, int]
    """How many daily, weekly and monthly backups the rotation keeps."""
    daily: bool
    passphrase_file: Path | None
    """A file whose first line seals the daily backups; ``None``: they are not encrypted."""


def backup_settings(environ: Mapping[str, str] = os.environ) -> BackupSettings:
    """The backup settings; a malformed ``KETADESK_BACKUP_KEEP`` raises ``ValueError``."""
    folder = environ.get(ENV_BACKUP_DIR)
    keep_text = environ.get(ENV_BACKUP_KEEP, "7,4,12")
    parts = [p.strip() for p in keep_text.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{ENV_BACKUP_KEEP} must be three whole numbers, daily,weekly,monthly "
                         f"(such as 7,4,12), not {keep_text!r}")
    passphrase = environ.get(ENV_BACKUP_PASSPHRASE_FILE)
    return BackupSettings(
        folder=Path(folder).expanduser() if folder else None,
        keep=(int(parts[0]), int(parts[1]), int(parts[2])),
        daily=environ.get(ENV_BACKUP_DAILY, "on").strip().lower() not in ("off", "0", "no"),
        passphrase_file=Path(passphrase).expanduser() if passphrase else None,
    )


# Time limits on PostgreSQL (issue 13): how long an interactive action -- a save in the window
# or a command -- may wait for a row another workstation holds, and how long one of its
# statements may run, in seconds. Long jobs (imports, reports, backups, migrations) run
# without these limits.
ENV_LOCK_TIMEOUT = "KETADESK_LOCK_TIMEOUT"
ENV_STATEMENT_TIMEOUT = "KETADESK_STATEMENT_TIMEOUT"


@dataclass(frozen=True)
class TimeLimits:
    """An interactive action waits at most ``lock_seconds`` for a lock and runs each
    statement for at most ``statement_seconds``."""

    lock_seconds: float = 5.0
    statement_seconds: float = 30.0


def time_limits(environ: Mapping[str, str] = os.environ) -> TimeLimits:
    """The :class:`TimeLimits` set by the environment, defaults for what is not set.

    Raises :class:`~ketadesk.errors.InvalidValue` (a sentence naming the variable) for a
    value that is not a number of seconds above zero.
    """
    values = {}
    for field, name in (("lock_seconds", ENV_LOCK_TIMEOUT),
                        ("statement_seconds", ENV_STATEMENT_TIMEOUT)):
        text = environ.get(name, "").strip()
        if not text:
            continue
        try:
            seconds = float(text)
        except ValueError:
            seconds = 0.0
        if not 0 < seconds <= 86400:
            raise InvalidValue(f"{name} must be a number of seconds above 0 (such as 5), "
                               f"not {text!r}")
        values[field] = seconds
    return TimeLimits(**values)
