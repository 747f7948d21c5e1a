"""User accounts: create, list, disable, rename, and log in with an argon2-hashed password.

Logging in (:func:`log_in`) checks the password once with argon2 whether or not the user
exists (:mod:`ketadesk.access.passwords`), counts wrong passwords in a row on the account,
and locks it for :attr:`AccountPolicy.lock_minutes` after :attr:`AccountPolicy.lock_after`
of them: while locked even the right password is refused, in words that say until when. A
successful log-in clears the count. Every refusal is an audit row ("login-failed").

A refusal has to be written although it is a refusal, so :func:`log_in` never raises for
one: it returns a :class:`LoginAttempt` the face commits, and then calls
:meth:`LoginAttempt.accepted`, which raises :class:`AuthenticationFailed` with the
sentence to show. :func:`change_password` (the user, knowing the old password) works the
same way; :func:`reset_password` (an administrator) makes the user choose a new password at
the next log-in (:attr:`LoginAttempt.must_change_password`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access import audit, passwords
from ketadesk.access.models import User
from ketadesk.access.passwords import MIN_PASSWORD_LENGTH
from ketadesk.access.permissions import Actor, Permission, Role
from ketadesk.config import AccountPolicy
from ketadesk.db import utcnow
from ketadesk.errors import AuthenticationFailed, Conflict, FieldProblem, NotFound, ValidationError

__all__ = ["MIN_PASSWORD_LENGTH"]  # re-exported: the users form shows it as a hint

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,59}$")


def _username_problems(username: str) -> list[FieldProblem]:
    if _USERNAME.match(username):
        return []
    return [
        FieldProblem(
            "username",
            "use 2–60 lower-case letters, digits, dots, dashes or underscores, "
            "starting with a letter",
        )
    ]


def _problems(username: str, full_name: str, password: str) -> list[FieldProblem]:
    problems = _username_problems(username)
    if not full_name.strip():
        problems.append(FieldProblem("full_name", "is required"))
    problems.extend(
        FieldProblem("password", text)
        for text in passwords.password_problems(password, (username, full_name))
    )
    return problems


def check_new_user(*, username: str, full_name: str, password: str) -> None:
    """Refuse, before anything is written anywhere, what :func:`create_user` would refuse
    for its fields (``ketadesk init --admin`` checks this before it creates a database).

    Raises :class:`ValidationError` listing every problem.
    """
    problems = _problems(username.strip().lower(), full_name, password)
    if problems:
        raise ValidationError(problems)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise ValidationError.single("role", f"{value!r} is not a role; choose {choices}") from None


def create_user(
    session: Session, actor: Actor, *, username: str, full_name: str, role: Role, password: str
) -> User:
    """Add a user. Raises ValidationError for bad fields, Conflict if the name is taken."""
    actor.require(Permission.USER_ADMIN)
    check_new_user(username=username, full_name=full_name, password=password)
    username = username.strip().lower()
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"there is already a user called {username}")
    user = User(
        username=username,
        full_name=full_name.strip(),
        role=role,
        password_hash=passwords.hash_password(password),
        active=True,
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id, after=audit.snapshot(user))
    return user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_first_admin(session: Session, actor: Actor, *, username: str, password: str) -> User:
    """The first administrator of a new database (``ketadesk init --admin``)."""
    if count_users(session):
        raise Conflict("this database already has users; add more with 'ketadesk user add'")
    return create_user(
        session, actor, username=username, full_name=username, role=Role.ADMIN, password=password
    )


def list_users(session: Session, actor: Actor) -> Sequence[User]:
    actor.require(Permission.USER_ADMIN)
    return session.scalars(select(User).order_by(User.username)).all()


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user called {username}")
    return user


def set_active(session: Session, actor: Actor, username: str, active: bool) -> User:
    """Disable (or re-enable) a user; users are never deleted, the audit log names them."""
    actor.require(Permission.USER_ADMIN)
    user = get_user(session, username)
    if actor.user_id == user.id and not active:
        raise Conflict("you cannot disable your own account")
    before = audit.snapshot(user)
    user.active = active
    audit.record(
        session,
        actor,
        "enable" if active else "disable",
        "user",
        user.id,
        before=before,
        after=audit.snapshot(user),
    )
    return user


def change_role(session: Session, actor: Actor, username: str, role: Role) -> User:
    actor.require(Permission.USER_ADMIN)
    user = get_user(session, username)
    before = audit.snapshot(user)
    user.role = role
    audit.record(
        session, actor, "update", "user", user.id, before=before, after=audit.snapshot(user)
    )
    return user


def rename_user(session: Session, actor: Actor, username: str, new_username: str) -> User:
    """Give an account a new log-in name (unique); the audit log keeps both names."""
    actor.require(Permission.USER_ADMIN)
    user = get_user(session, username)
    new_username = new_username.strip().lower()
    problems = _username_problems(new_username)
    if problems:
        raise ValidationError(problems)
    if new_username == user.username:
        return user
    if session.scalar(select(User.id).where(User.username == new_username)) is not None:
        raise Conflict(f"there is already a user called {new_username}")
    before = audit.snapshot(user)
    user.username = new_username
    session.flush()
    old, new = audit.changed(before, audit.snapshot(user))
    audit.record(session, actor, "rename", "user", user.id, before=old, after=new)
    return user


@dataclass(frozen=True)
class LoginAttempt:
    """What a log-in (or a password check) came to: who logged in, or why not.

    ``refusal`` is a sentence for the person; ``locked_until`` is set when the account is
    locked (the moment it opens again, UTC); ``must_change_password`` when an
    administrator reset the password and the user has to choose a new one before anything
    else.
    """

    actor: Actor | None
    refusal: str | None = None
    locked_until: datetime | None = None
    must_change_password: bool = False

    def accepted(self) -> Actor:
        """The actor, or :class:`AuthenticationFailed` with the refusal in words."""
        if self.actor is None:
            raise AuthenticationFailed(self.refusal or "wrong user name or password")
        return self.actor


WRONG = "wrong user name or password"


def log_in(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    policy: AccountPolicy | None = None,
    action: str = "login",
    os_account: str | None = None,
) -> LoginAttempt:
    """Check a password, keeping count of wrong ones, and say who logged in or why not.

    Argon2 runs exactly once whatever the outcome (an unknown name is checked against a
    dummy hash), so the time taken says nothing about which names exist. ``now`` is the
    clock (UTC); ``policy`` the lockout rule; ``action`` names the audit row of a success
    ("login", or "unlock" for the window's idle lock); ``os_account`` the operating-system
    account a command line runs under, named with the user in the audit log and carried by
    the actor. The caller commits whatever the outcome and then calls
    :meth:`LoginAttempt.accepted`.
    """
    now = now or utcnow()
    policy = policy or AccountPolicy()
    typed = username.strip().lower()
    user = session.scalar(select(User).where(User.username == typed))
    right = passwords.verify(user.password_hash if user else None, password)
    if user is None:
        return _refuse(session, None, typed, "unknown user", WRONG, os_account=os_account)
    if user.locked_until is not None and user.locked_until <= now:
        user.locked_until, user.failed_logins = None, 0  # the lock has run out
    if user.locked_until is not None:
        return _refuse(
            session, user, typed, "locked", _locked(user.locked_until), user.locked_until,
            os_account=os_account,
        )
    if not right:
        return _count_failure(session, user, now, policy, os_account)
    if not user.active:
        return _refuse(
            session,
            user,
            typed,
            "disabled",
            f"the account {user.username} is disabled; ask an administrator",
            os_account=os_account,
        )
    return _admit(session, user, password, now, action, os_account)


def authenticate(session: Session, username: str, password: str) -> Actor:
    """:func:`log_in` that raises :class:`AuthenticationFailed` at once on a refusal.

    For callers that log in with a password they know to be right (the demo clinic's
    published one): the count of a refusal is lost with the caller's rolled-back
    transaction, so faces that take a typed password use :func:`log_in`.
    """
    return log_in(session, username, password).accepted()


def _admit(
    session: Session, user: User, password: str, now: datetime, action: str,
    os_account: str | None,
) -> LoginAttempt:
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins = 0
    user.last_login_at = now
    actor = Actor(username=user.username, role=user.role, user_id=user.id, os_account=os_account)
    audit.record(session, actor, action, "user", user.id)
    return LoginAttempt(actor, must_change_password=user.must_change_password)


def _count_failure(
    session: Session, user: User, now: datetime, policy: AccountPolicy, os_account: str | None
) -> LoginAttempt:
    user.failed_logins += 1
    if user.failed_logins < policy.lock_after:
        return _refuse(session, user, user.username, "wrong password", WRONG, os_account=os_account)
    user.locked_until = now + timedelta(minutes=policy.lock_minutes)
    return _refuse(
        session,
        user,
        user.username,
        "wrong password",
        _locked(user.locked_until, f"{user.failed_logins} wrong passwords in a row; "),
        user.locked_until,
        os_account=os_account,
    )


def _locked(until: datetime, why: str = "") -> str:
    return (
        f"{why}the account is locked until {until:%H:%M} UTC on {until:%Y-%m-%d}; "
        "try again then, or ask an administrator to reset the password"
    )


def _refuse(
    session: Session,
    user: User | None,
    typed: str,
    reason: str,
    sentence: str,
    locked_until: datetime | None = None,
    *,
    os_account: str | None = None,
) -> LoginAttempt:
    """Write the refused attempt to the audit log (the typed name, clipped, for an unknown
    one) and return it."""
    who = Actor(username=typed[:60] or "?", role=Role.FRONT_DESK,
                user_id=user.id if user else None, os_account=os_account)
    after: dict[str, object] = {"reason": reason}
    if user is not None:
        after["failed_logins"] = user.failed_logins
        if locked_until is not None:
            after["locked_until"] = locked_until.isoformat()
    audit.record(session, who, "login-failed", "user", user.id if user else "?", after=after)
    return LoginAttempt(None, sentence, locked_until)


def change_password(
    session: Session,
    username: str,
    *,
    old_password: str,
    new_password: str,
    now: datetime | None = None,
    policy: AccountPolicy | None = None,
) -> LoginAttempt:
    """A user changes their own password, proving it with the old one.

    A wrong old password counts toward the lock like a wrong log-in, and comes back as a
    refused :class:`LoginAttempt` (commit, then :meth:`~LoginAttempt.accepted`). Raises
    :class:`ValidationError` before checking anything when the new password is weak or is
    the old one. Clears an administrator's "must change" mark.
    """
    now = now or utcnow()
    user = get_user(session, username)
    problems = passwords.password_problems(new_password, (user.username, user.full_name))
    if new_password == old_password:
        problems.append("must differ from the current password")
    if problems:
        raise ValidationError(FieldProblem("new_password", text) for text in problems)
    attempt = log_in(
        session, username, old_password, now=now, policy=policy, action="change-password"
    )
    if attempt.actor is not None:
        _set_password(user, new_password, now, must_change=False)
    return LoginAttempt(attempt.actor, attempt.refusal, attempt.locked_until)


def reset_password(
    session: Session, actor: Actor, username: str, new_password: str, *, now: datetime | None = None
) -> User:
    """An administrator sets a new password, which the user must change at the next log-in;
    the reset also lifts a lock. Raises :class:`ValidationError` for a weak password."""
    actor.require(Permission.USER_ADMIN)
    user = get_user(session, username)
    problems = passwords.password_problems(new_password, (user.username, user.full_name))
    if problems:
        raise ValidationError(FieldProblem("password", text) for text in problems)
    before = audit.snapshot(user)
    _set_password(user, new_password, now or utcnow(), must_change=True)
    old, new = audit.changed(before, audit.snapshot(user))
    audit.record(session, actor, "reset-password", "user", user.id, before=old, after=new)
    return user


def _set_password(user: User, password: str, now: datetime, *, must_change: bool) -> None:
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    user.must_change_password = must_change
    user.failed_logins = 0
    user.locked_until = None
