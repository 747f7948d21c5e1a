"""The daily duties a start-up leaves running: the backup, then the whole audit chain.

The window and every command call :func:`start_daily_duties` when they open a database.
When the newest backup is from an earlier day it takes one in the background
(:mod:`ketadesk.backups.daily`) and, once that is whole, walks the audit chain from its first
row (:func:`ketadesk.access.audit.check_daily`), recording what it found. A row altered long
ago -- behind the checkpoint each administrator's log-in walks from -- is so found within a
day and shown at every administrator's next log-in.
"""

from __future__ import annotations

import logging
import threading

from ketadesk.access.audit import check_daily
from ketadesk.backups.daily import start_daily
from ketadesk.db import Database

log = logging.getLogger(__name__)


def start_daily_duties(url: str) -> threading.Thread | None:
    """The daily backup and then the audit check, in the background; the thread, if due."""
    return start_daily(url, after=check_audit_chain)


def check_audit_chain(url: str) -> None:
    """Walk the whole audit chain of ``url`` and record the outcome in the log itself."""
    db = Database(url)
    try:
        report = check_daily(db)
    finally:
        db.dispose()
    (log.info if report.ok else log.error)("daily audit check: %s", report.sentence())
