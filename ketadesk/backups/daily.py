"""The daily backup: taken when KetaDesk starts and the newest backup is from an earlier day.

:func:`due` only lists the backups folder (well under a millisecond), so a start-up that
finds a fresh backup pays nothing. :func:`start_daily` then runs :func:`take_daily` in a
background thread, so neither the window nor a command waits for the copy; the thread is not
a daemon, so a command's process still finishes the copy before it exits (the file appears
under its final name only when whole). A failure is logged, never raised into the face that
started it. Settings come from :func:`ketadesk.config.backup_settings`.

``after`` is what the same thread does once a daily backup is whole: the faces start the
daily duties through :func:`ketadesk.access.daily_check.start_daily_duties`, which walks the
audit chain there.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from ketadesk.backups.archive import BackupError
from ketadesk.backups.backup import BackupTaken, folder_for, stem_of, take_backup
from ketadesk.backups.rotation import backups_in
from ketadesk.config import backup_settings

DAY = timedelta(days=1)
log = logging.getLogger(__name__)


def due(url: str, now: datetime, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``url`` needs its daily backup: its newest backup (daily or by hand) is over
    a day old or from an earlier day (UTC). The second half matters to a clinic that opens
    KetaDesk at nine every morning: yesterday's nine o'clock backup is a few seconds short of
    a day old, and without it the backups would come every other day."""
    taken = [d for d in backups_in(folder_for(url, environ), stem_of(url)) if d.series == "backup"]
    if not taken:
        return True
    newest = taken[-1].taken_at
    return now - newest > DAY or newest.astimezone(UTC).date() < now.astimezone(UTC).date()


def take_daily(
    url: str, now: datetime, environ: Mapping[str, str] | None = None
) -> BackupTaken | None:
    """Take the daily backup of ``url`` if one is due; rotate; ``None`` when none was due."""
    env = os.environ if environ is None else environ
    settings = backup_settings(env)
    if not settings.daily or not due(url, now, env):
        return None
    passphrase = None
    if settings.passphrase_file is not None:
        lines = settings.passphrase_file.read_text(encoding="utf-8").splitlines()
        passphrase = lines[0] if lines else ""
    return take_backup(url, now=now, passphrase=passphrase, kind="daily", environ=env)


def start_daily(
    url: str,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    environ: Mapping[str, str] | None = None,
    after: Callable[[str], None] | None = None,
) -> threading.Thread | None:
    """Start the daily backup in the background when one is due; the thread, else ``None``.
    ``after(url)`` runs in that thread once the backup is whole."""
    env = dict(os.environ if environ is None else environ)
    try:
        if not backup_settings(env).daily or not due(url, clock(), env):
            return None
    except (BackupError, ValueError, OSError) as error:
        log.warning("daily backup not checked: %s", error)
        return None
    thread = threading.Thread(target=_run, args=(url, clock(), env, after), name="daily-backup")
    thread.start()
    return thread


def _run(
    url: str, now: datetime, environ: Mapping[str, str], after: Callable[[str], None] | None
) -> None:
    try:
        taken = take_daily(url, now, environ)
    except (BackupError, ValueError, OSError) as error:
        log.warning("daily backup failed: %s", error)
        return
    if taken is None:
        return
    log.info("daily backup written to %s", taken.path)
    if after is None:
        return
    try:
        after(url)
    except Exception as error:  # a background thread: log whatever stops the duty after it
        log.warning("after the daily backup: %s", error)
