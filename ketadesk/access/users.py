"""User accounts: create, list, disable, and log in with an argon2-hashed password."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.models import User
from ketadesk.access.permissions import Actor, Permission, Role
from ketadesk.db import utcnow
from ketadesk.errors import AuthenticationFailed, Conflict, FieldProblem, NotFound, ValidationError

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,59}$")


@cache
def _hasher() -> PasswordHasher:
    """The one password hasher, made when a password is first hashed or checked: counting
    users -- all the window's start asks of this module -- needs no argon2."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def _problems(username: str, full_name: str, password: str) -> list[FieldProblem]:
    problems = []
    if not _USERNAME.match(username):
        problems.append(
            FieldProblem(
                "username",
                "use 2–60 lower-case letters, digits, dots, dashes or underscores, "
                "starting with a letter",
            )
        )
    if not full_name.strip():
        problems.append(FieldProblem("full_name", "is required"))
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(
            FieldProblem("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
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
        password_hash=_hasher().hash(password),
        active=True,
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


def authenticate(session: Session, username: str, password: str) -> Actor:
    """Check a password and return the logged-in :class:`Actor`.

    The same message covers an unknown name and a wrong password, so the dialog does not
    reveal which user names exist.
    """
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    wrong = AuthenticationFailed("wrong user name or password")
    if user is None:
        raise wrong
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    if not user.active:
        raise AuthenticationFailed(f"the account {user.username} is disabled; ask an administrator")
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = utcnow()
    actor = Actor(username=user.username, role=user.role, user_id=user.id)
    audit.record(session, actor, "login", "user", user.id)
    return actor
