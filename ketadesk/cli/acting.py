"""Who a command acts as: a KetaDesk account, never the bare operating-system user.

In this order (:func:`resolve`):

1. ``ketadesk --user NAME ...``: the password is asked for without echo (or read as one
   line from standard input when that is not a terminal, for pipes and tests) and checked
   by :func:`ketadesk.access.users.log_in`, the window's own log-in: wrong passwords count
   toward the lock and are audited, a locked or disabled account is refused, and an account
   whose password an administrator reset is sent to ``ketadesk user passwd`` first.
   ``$KETADESK_PASSWORD`` is *not* read here: it already means "the new password" to
   ``user add`` / ``reset`` / ``passwd``, and a password in the environment is readable by
   the processes of the same account; a script uses a linked account instead.
2. The active user linked to the operating-system account running the command
   (:mod:`ketadesk.access.os_accounts`): no prompt, which is how cron backs up.
3. Nobody: one line saying which operating-system user has no account and how to get one.

The audit log names the user and the operating-system account (``nina (os:nina)``).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from ketadesk.errors import AuthenticationFailed, KetaDeskError

if TYPE_CHECKING:
    from ketadesk.access.permissions import Actor
    from ketadesk.db import Database


class NoAccount(KetaDeskError):
    """The command was run by an operating-system user no KetaDesk account is linked to."""


def resolve(args: argparse.Namespace, db: Database, *, while_empty: bool = False) -> Actor | None:
    """The actor ``args`` (``--user``) or the linked account names; ``None`` only when
    ``while_empty`` and the database has no users yet (``init``, ``demo-data``).

    Raises :class:`NoAccount` when nobody is linked, :class:`AuthenticationFailed` for a
    refused ``--user`` log-in (after it is written to the audit log).
    """
    from ketadesk.access import os_accounts, users

    os_user = os_accounts.os_user_name()
    name = getattr(args, "acting_user", None)
    with db.reading() as session:
        has_users = users.count_users(session) > 0
        linked = None if name else os_accounts.linked_actor(session, os_user)
    if not has_users and while_empty:
        return None
    if name:
        return _logged_in(db, name, os_user)
    if linked is not None:
        return linked
    if not has_users:
        raise NoAccount("this database has no users yet; create its first administrator "
                        "with: ketadesk init --admin USER")
    raise NoAccount(
        f"the operating-system user {os_user} has no KetaDesk account linked to it; an "
        f"administrator links one with: ketadesk --user ADMIN user link NAME --os-account "
        f"{os_user} (or run the command with --user NAME)")


def _logged_in(db: Database, name: str, os_user: str) -> Actor:
    from ketadesk.access import users
    from ketadesk.config import account_policy

    password = login_password(name)
    with db.transaction() as session:
        attempt = users.log_in(session, name, password, policy=account_policy(),
                               os_account=os_user)
    actor = attempt.accepted()  # after the commit: a refusal is counted and audited
    if attempt.must_change_password:
        raise AuthenticationFailed(
            f"an administrator reset {actor.username}'s password; choose a new one first "
            f"with: ketadesk user passwd {actor.username}")
    return actor


def login_password(name: str) -> str:
    """The password for ``--user name``: typed without echo at a terminal, else the first
    line of standard input."""
    if sys.stdin.isatty():
        return getpass.getpass(f"KetaDesk password for {name}: ")
    line = sys.stdin.readline()
    if not line:
        raise AuthenticationFailed(
            f"no password for --user {name}: type it at the prompt, or give it as the first "
            "line of standard input")
    return line.removesuffix("\n").removesuffix("\r")
