"""Saying in words what was busy when the database made an action wait too long.

On PostgreSQL an interactive transaction waits at most ``lock_timeout`` for a row another
workstation holds and runs each statement for at most ``statement_timeout``
(:class:`ketadesk.config.TimeLimits`); on SQLite a write waits for the database's write lock
for the busy timeout. Past either the driver raises an error no person should read
("canceling statement due to lock timeout", "database is locked"). :func:`busy_refusal`
turns it into :class:`~ketadesk.errors.Busy`, naming the records involved from the table
the statement touched.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError

from ketadesk.errors import Busy

LOCK_TIMEOUT = "55P03"  # PostgreSQL lock_not_available: lock_timeout ran out
STATEMENT_TIMEOUT = "57014"  # PostgreSQL query_canceled: statement_timeout ran out
SQLITE_LOCKED = ("database is locked", "database table is locked")

_PATIENTS = "patient records"
_BILLING = "billing records (invoices, payments, the ledger)"
_CLAIMS = "insurance claims"
_SCHEDULE = "the schedule"
RECORDS = {
    "patient": _PATIENTS,
    "patient_search_word": _PATIENTS,
    "diagnosis": _PATIENTS,
    "insurance_policy": "patients' insurance",
    "counter": "record numbers (MRNs, invoice and claim numbers)",
    "audit_entry": "the audit log",
    "app_user": "user accounts",
    "invoice": _BILLING,
    "invoice_line": _BILLING,
    "ledger_entry": _BILLING,
    "allocation": _BILLING,
    "charge": _BILLING,
    "estimate": _BILLING,
    "estimate_line": _BILLING,
    "package_purchase": _BILLING,
    "package_use": _BILLING,
    "claim": _CLAIMS,
    "claim_line": _CLAIMS,
    "claim_event": _CLAIMS,
    "claim_batch": _CLAIMS,
    "remit": _CLAIMS,
    "treatment_session": _SCHEDULE,
    "session_step": "treatment sessions",
    "series": _SCHEDULE,
    "waitlist_entry": _SCHEDULE,
}
_TABLE = re.compile(r'\b(?:UPDATE|INSERT\s+INTO|DELETE\s+FROM|FROM)\s+"?(\w+)"?', re.IGNORECASE)
_AUDIT_LOCK = "pg_advisory_xact_lock"  # ketadesk.access.audit_chain.lock


def what_was_busy(statement: str | None) -> str:
    """The records a statement was working on, in the clinic's words."""
    text = statement or ""
    if _AUDIT_LOCK in text:
        return RECORDS["audit_entry"]
    match = _TABLE.search(text)
    return RECORDS.get(match.group(1).lower(), "records") if match else "records"


def busy_refusal(error: DBAPIError, statement_seconds: float) -> Busy | None:
    """:class:`Busy` in words when ``error`` is a lock or statement timeout (PostgreSQL) or
    a write lock that stayed taken (SQLite); ``None`` for any other error."""
    code = getattr(error.orig, "sqlstate", None)
    what = what_was_busy(error.statement)
    if code == LOCK_TIMEOUT or any(text in str(error.orig) for text in SQLITE_LOCKED):
        if code is None:  # SQLite locks the whole file: the statement does not say who
            return Busy("another workstation is saving to the clinic's database (perhaps "
                        "a long import); nothing was changed; try again in a moment")
        return Busy(f"another workstation is saving {what}; nothing was changed; "
                    "try again in a moment")
    if code == STATEMENT_TIMEOUT:
        return Busy(f"working on {what} took longer than {statement_seconds:g} seconds, "
                    "the database is very busy; nothing was changed; try again in a moment")
    return None
