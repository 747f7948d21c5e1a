"""Typed errors that every service raises and every face (window, CLI) shows in words.

A service never lets a database or library exception reach the user: it raises one of
these, whose ``str()`` is a sentence fit for a message box or a one-line CLI error.
Validation problems are data (:class:`FieldProblem`), so a form can show every problem
beside its field at once instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class KetaDeskError(Exception):
    """Base of every error meant to be shown to a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidValue(KetaDeskError, ValueError):
    """One value failed a validator; the message says why, without naming the field."""


@dataclass(frozen=True)
class FieldProblem:
    """A problem with one field of a form, CSV row or command-line option."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(KetaDeskError):
    """One or more fields are wrong; nothing was changed."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("ValidationError needs at least one problem")
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([FieldProblem(field, message)])

    def for_field(self, field: str) -> list[str]:
        """Messages that belong to ``field``."""
        return [p.message for p in self.problems if p.field == field]


class NotFound(KetaDeskError):
    """The record asked for does not exist (or is not visible to this user)."""


class PermissionDenied(KetaDeskError):
    """The acting user's role does not allow this action."""


class Conflict(KetaDeskError):
    """The action collides with something that already exists; the message names it."""


class AppendOnly(Conflict):
    """The database refused to change or delete a row that is append-only (a ledger entry,
    an allocation, an issued invoice's line, an audit row); the message says what to do
    instead, such as reversing the entry."""


class SlotTaken(Conflict):
    """A booking or move collides with a session already holding the chair, provider or
    patient; ``session_id`` is the session in the way."""

    def __init__(self, message: str, session_id: int | None = None) -> None:
        super().__init__(message)
        self.session_id = session_id


class ConsentRequired(Conflict):
    """Check-in refused: the session's treatment has no valid signed consent.

    ``treatment`` is the consent's name ("IV ketamine"), ``reason`` why it does not hold
    (missing, expired on a day, a new version to sign, withdrawn).
    """

    def __init__(self, message: str, treatment: str, reason: str) -> None:
        super().__init__(message)
        self.treatment = treatment
        self.reason = reason


class Unacknowledged(KetaDeskError):
    """Booking needs the user to acknowledge these warnings first (codes and sentences)."""

    def __init__(self, warnings: Iterable[tuple[str, str]]) -> None:
        self.warnings = list(warnings)
        lines = "; ".join(text for _code, text in self.warnings)
        super().__init__(f"acknowledge before booking: {lines}")


class StaleEdit(KetaDeskError):
    """Someone else saved this record after it was opened; reload and edit again."""


class AuthenticationFailed(KetaDeskError):
    """Wrong user name or password, or the account is disabled."""


class Incomplete(KetaDeskError):
    """A document cannot be produced because required items are missing (a superbill
    without the provider's NPI); ``missing`` lists every one, in words."""

    def __init__(self, what: str, missing: Iterable[str]) -> None:
        self.missing: tuple[str, ...] = tuple(missing)
        if not self.missing:
            raise ValueError("Incomplete needs at least one missing item")
        super().__init__(f"{what} cannot be produced; missing: " + "; ".join(self.missing))


class Busy(KetaDeskError):
    """The action waited longer than it may for something another workstation held (a row
    being saved, the database's write lock during a long import) or ran past its time limit;
    nothing was changed, and the message says in words what was busy. Trying again in a
    moment usually works."""


class FileNotWritten(KetaDeskError):
    """A file could not be written whole (the disk is full, the folder is missing or not
    writable); nothing was left under its name. ``disk_full`` tells a full disk apart."""

    def __init__(self, path: object, reason: str, *, disk_full: bool = False) -> None:
        self.path = path
        self.disk_full = disk_full
        self.reason = "the disk is full" if disk_full else reason
        if disk_full:
            super().__init__(f"the disk is full; nothing was written to {path}")
        else:
            super().__init__(f"cannot write {path}: {reason}; nothing was written")
