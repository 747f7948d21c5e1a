"""Operating-system accounts linked to KetaDesk users: who a command line acts as.

A clinic's administrator links the operating-system account a person (or cron) runs
``ketadesk`` under to that person's KetaDesk user; the command line then acts with that
user's role, and the audit log names both (``nina (os:nina)``). One operating-system account
belongs to at most one user (a unique index, ``app_user.os_account``); a disabled user's
link gives nothing. Linking and unlinking are administrators' work and are audited.
"""

from __future__ import annotations

import getpass
import os
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.models import User
from ketadesk.access.permissions import Actor, Permission
from ketadesk.access.users import get_user
from ketadesk.errors import Conflict, ValidationError

# What POSIX and Windows allow in a log-in name, without spaces or control characters.
_OS_ACCOUNT = re.compile(r"^[A-Za-z0-9._$@\\-]{1,60}$")


def os_user_name() -> str:
    """The operating-system account running this process, from its user id.

    Never from ``$USER`` or ``$LOGNAME`` (which :func:`getpass.getuser` reads first): anyone
    can set those to a linked account's name. A user id without a name (a container's
    numeric user) is ``uid-N``, still that one account. Where there are no user ids
    (Windows) the log-in name is the best there is.
    """
    if not hasattr(os, "getuid"):
        return getpass.getuser()
    import pwd

    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"


def linked_actor(session: Session, os_account: str) -> Actor | None:
    """The active KetaDesk user linked to ``os_account``, as the actor a command runs as;
    ``None`` when there is none (never linked, or the user is disabled)."""
    user = session.scalar(select(User).where(User.os_account == os_account, User.active))
    if user is None:
        return None
    return Actor(username=user.username, role=user.role, user_id=user.id, os_account=os_account)


def link(session: Session, actor: Actor, username: str, os_account: str) -> User:
    """Let commands run by ``os_account`` act as the user ``username``.

    Raises :class:`ValidationError` for a name no operating system has, and
    :class:`Conflict` naming the user who already holds ``os_account``.
    """
    actor.require(Permission.USER_ADMIN)
    user = get_user(session, username)
    os_account = os_account.strip()
    if not _OS_ACCOUNT.match(os_account):
        raise ValidationError.single(
            "os_account",
            f"{os_account!r} is not an operating-system account name; use 1-60 letters, "
            "digits, dots, dashes or underscores",
        )
    holder = session.scalar(select(User).where(User.os_account == os_account))
    if holder is not None and holder.id != user.id:
        raise _taken(os_account, holder.username)
    if user.os_account == os_account:
        return user
    before = {"os_account": user.os_account}
    user.os_account = os_account
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # linked by someone else at the same moment
        raise Conflict(f"the operating-system account {os_account} was linked to another "
                       "user at the same moment; look with: ketadesk user list") from None
    audit.record(session, actor, "link-os-account", "user", user.id, before=before,
                 after={"os_account": os_account})
    return user


def unlink(session: Session, actor: Actor, username: str) -> User:
    """Commands run by the account linked to ``username`` no longer act as that user."""
    actor.require(Permission.USER_ADMIN)
    user = get_user(session, username)
    if user.os_account is None:
        return user
    before = {"os_account": user.os_account}
    user.os_account = None
    audit.record(session, actor, "unlink-os-account", "user", user.id, before=before,
                 after={"os_account": None})
    return user


def _taken(os_account: str, holder: str) -> Conflict:
    return Conflict(f"the operating-system account {os_account} is already linked to "
                    f"{holder}; unlink it first with: ketadesk user unlink {holder}")
