"""``ketadesk user``: add, list, disable, enable, rename the people who log in to the window,
reset their passwords, let a user change their own, link operating-system accounts.

Every action goes through :mod:`ketadesk.access.users` as the account the command runs as
(:mod:`ketadesk.cli.acting`), named in the audit log with the operating-system user.
``link`` lets the commands an operating-system account runs act as a user (no password:
how cron backs up); ``unlink`` ends that. A new password comes from ``$KETADESK_PASSWORD``
or is typed twice at a prompt, never from an option (options end up in shell history).
``passwd`` is the user's own change, open to anyone who knows the current password: it
asks for it (or reads ``$KETADESK_OLD_PASSWORD``), and a wrong one counts toward the
account's lock as a wrong log-in does. ``reset`` is the administrator's: the user must
choose a new password at the next log-in, which ``list`` and ``reset`` say.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.access.models import User

ENV_PASSWORD = "KETADESK_PASSWORD"
ENV_OLD_PASSWORD = "KETADESK_OLD_PASSWORD"
OPTIONS = {"username": "USER", "full_name": "--name", "role": "--role",
           "os_account": "--os-account",
           "password": f"password (${ENV_PASSWORD})",
           "new_password": f"new password (${ENV_PASSWORD})"}
ROLES = "front_desk, clinical, billing, manager, admin"
GROUP_EPILOG = """\
examples:
  ketadesk user add maria --name "Maria Gómez" --role front_desk
  ketadesk user list --json
  ketadesk user disable maria
  ketadesk user passwd maria
  ketadesk user reset maria
  ketadesk user rename maria mgomez
  ketadesk user link maria --os-account maria
  ketadesk user unlink maria

'ketadesk user ACTION --help' describes each action."""


def register(commands: Any) -> None:
    group = commands.add_parser(
        "user", help="add, list, disable, enable and rename users; passwords; OS accounts",
        description="Manage the people who log in to the window. Users are never deleted: "
                    "disable them,\nso the audit log keeps naming who did what.",
        epilog=GROUP_EPILOG,
        formatter_class=common.HelpFormatter,
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    _register_add(actions)
    _register_list(actions)
    for name, active in (("disable", False), ("enable", True)):
        _register_switch(actions, name, active)
    _register_passwd(actions)
    _register_reset(actions)
    _register_rename(actions)
    _register_link(actions)
    _register_unlink(actions)


def _register_add(actions: Any) -> None:
    parser = common.command_parser(
        actions, "add", summary="add a user",
        description=f"Add a user who can log in to the window. The password comes from "
                    f"${ENV_PASSWORD} or is asked for twice.",
        examples=f"""\
  ketadesk user add maria --name "Maria Gómez" --role front_desk
  {ENV_PASSWORD}=... ketadesk user add drlee --name "Dana Lee" --role clinical""",
        json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="log-in name: lower-case letters, "
                        "digits, dots, dashes or underscores")
    parser.add_argument("--name", dest="full_name", required=True, help="the person's full name")
    parser.add_argument("--role", required=True, help=f"one of {ROLES}")
    parser.set_defaults(func=add, options=OPTIONS)


def _register_list(actions: Any) -> None:
    parser = common.command_parser(
        actions, "list", summary="list users", description="List every user, enabled or not.",
        examples="  ketadesk user list\n  ketadesk user list --json", json_output=True,
    )
    parser.set_defaults(func=list_users, options=OPTIONS)


def _register_switch(actions: Any, name: str, active: bool) -> None:
    what = "may log in again" if active else "can no longer log in; the audit log keeps the name"
    parser = common.command_parser(
        actions, name, summary=f"{name} a user",
        description=f"{name.capitalize()} a user: the user {what}.",
        examples=f"  ketadesk user {name} maria", json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="the user's log-in name")
    parser.set_defaults(func=enable if active else disable, options=OPTIONS)


def _register_passwd(actions: Any) -> None:
    parser = common.command_parser(
        actions, "passwd", summary="change your own password",
        description=f"Change a user's password, knowing the current one (asked for, or "
                    f"${ENV_OLD_PASSWORD}).\nA wrong current password counts toward the "
                    f"account's lock. The new one comes from ${ENV_PASSWORD} or is asked "
                    f"for twice.",
        examples=f"  ketadesk user passwd maria\n  {ENV_OLD_PASSWORD}=... {ENV_PASSWORD}=... "
                 f"ketadesk user passwd maria",
        json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="the user's log-in name")
    parser.set_defaults(func=passwd, options=OPTIONS)


def _register_reset(actions: Any) -> None:
    parser = common.command_parser(
        actions, "reset", summary="reset a user's password (administrators)",
        description=f"Set a new password for a user who forgot theirs (from ${ENV_PASSWORD} "
                    f"or asked for twice).\nThe user must choose their own at the next "
                    f"log-in; a locked account is unlocked.",
        examples=f"  ketadesk user reset maria\n  {ENV_PASSWORD}=... ketadesk user reset maria",
        json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="the user's log-in name")
    parser.set_defaults(func=reset, options=OPTIONS)


def _register_rename(actions: Any) -> None:
    parser = common.command_parser(
        actions, "rename", summary="change a user's log-in name",
        description="Give a user a new log-in name; the audit log keeps both names.",
        examples="  ketadesk user rename maria mgomez", json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="the user's log-in name now")
    parser.add_argument("new_username", metavar="NEW", help="the new log-in name")
    parser.set_defaults(func=rename, options={**OPTIONS, "username": "NEW"})


def _register_link(actions: Any) -> None:
    parser = common.command_parser(
        actions, "link", summary="let an operating-system account act as a user",
        description="Commands run by the operating-system account OSUSER act as USER, with "
                    "USER's role and\nno password (cron jobs, a person's own login). One "
                    "operating-system account\nbelongs to one user. Administrators only.",
        examples="  ketadesk user link maria --os-account maria\n"
                 "  ketadesk user link backup-admin --os-account root      (cron's backups)",
        json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="the user's log-in name")
    parser.add_argument("--os-account", required=True, metavar="OSUSER",
                        help="the operating-system log-in name (as `whoami` prints it)")
    parser.set_defaults(func=link, options=OPTIONS)


def _register_unlink(actions: Any) -> None:
    parser = common.command_parser(
        actions, "unlink", summary="end an operating-system account's link to a user",
        description="Commands run by the operating-system account linked to USER no longer "
                    "act as USER.\nAdministrators only.",
        examples="  ketadesk user unlink maria", json_output=True,
    )
    parser.add_argument("username", metavar="USER", help="the user's log-in name")
    parser.set_defaults(func=unlink, options=OPTIONS)


def add(args: argparse.Namespace) -> int:
    from ketadesk.access import users

    role = users.parse_role(args.role)
    with common.opened(args) as db:
        password = common.read_password(ENV_PASSWORD, args.username)
        with db.transaction() as session:
            user = users.create_user(
                session, common.actor(args), username=args.username,
                full_name=args.full_name, role=role, password=password,
            )
            data = _user_data(user)
    common.emit(args, data, lambda: f"Added {data['username']} ({data['full_name']}) "
                                    f"as {role.label.lower()}.")
    return 0


def list_users(args: argparse.Namespace) -> int:
    from ketadesk.access import users

    with common.opened(args) as db, db.reading() as session:
        data = [_user_data(u) for u in users.list_users(session, common.actor(args))]
    common.emit(args, data, lambda: _users_table(data))
    return 0


def disable(args: argparse.Namespace) -> int:
    return _switch(args, active=False)


def enable(args: argparse.Namespace) -> int:
    return _switch(args, active=True)


def _switch(args: argparse.Namespace, *, active: bool) -> int:
    from ketadesk.access import users

    with common.opened(args) as db, db.transaction() as session:
        user = users.set_active(session, common.actor(args), args.username, active)
        data = _user_data(user)
    state = "enabled" if active else "disabled"
    common.emit(args, data, lambda: f"{data['username']} is now {state}.")
    return 0


def passwd(args: argparse.Namespace) -> int:
    from ketadesk.access import users

    # Anyone: the current password proves who it is (and a reset account gets out this way).
    with common.opened(args, who="anyone") as db:
        old = _old_password(args.username)
        new = common.read_password(ENV_PASSWORD, f"{args.username} (new)")
        with db.transaction() as session:
            attempt = users.change_password(session, args.username, old_password=old,
                                            new_password=new)
            data = _user_data(users.get_user(session, args.username))
    attempt.accepted()  # after the commit: a wrong current password is counted
    common.emit(args, data, lambda: f"{data['username']}'s password is changed.")
    return 0


def _old_password(username: str) -> str:
    import getpass
    import os
    import sys

    from_env = os.environ.get(ENV_OLD_PASSWORD)
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise common.UsageError(f"no current password for {username}: set "
                                f"{ENV_OLD_PASSWORD} or run this in a terminal")
    return getpass.getpass(f"Current password for {username}: ")


def reset(args: argparse.Namespace) -> int:
    from ketadesk.access import users

    with common.opened(args) as db:
        password = common.read_password(ENV_PASSWORD, args.username)
        with db.transaction() as session:
            user = users.reset_password(session, common.actor(args), args.username, password)
            data = _user_data(user)
    common.emit(args, data, lambda: f"{data['username']}'s password is reset; "
                                    f"{data['username']} must choose a new one at the next "
                                    f"log-in.")
    return 0


def rename(args: argparse.Namespace) -> int:
    from ketadesk.access import users

    with common.opened(args) as db, db.transaction() as session:
        user = users.rename_user(session, common.actor(args), args.username, args.new_username)
        data = _user_data(user)
    common.emit(args, data, lambda: f"{args.username.strip().lower()} is now called "
                                    f"{data['username']}.")
    return 0


def link(args: argparse.Namespace) -> int:
    from ketadesk.access import os_accounts

    with common.opened(args) as db, db.transaction() as session:
        user = os_accounts.link(session, common.actor(args), args.username, args.os_account)
        data = _user_data(user)
    common.emit(args, data, lambda: f"Commands run by the operating-system account "
                                    f"{data['os_account']} now act as {data['username']}.")
    return 0


def unlink(args: argparse.Namespace) -> int:
    from ketadesk.access import os_accounts

    with common.opened(args) as db, db.transaction() as session:
        user = os_accounts.unlink(session, common.actor(args), args.username)
        data = _user_data(user)
    common.emit(args, data, lambda: f"No operating-system account acts as {data['username']} "
                                    "now.")
    return 0


def _user_data(user: User) -> dict[str, Any]:
    return {
        "username": user.username, "full_name": user.full_name, "role": user.role.value,
        "active": user.active, "created_at": user.created_at, "last_login_at": user.last_login_at,
        "failed_logins": user.failed_logins, "locked_until": user.locked_until,
        "must_change_password": user.must_change_password,
        "password_changed_at": user.password_changed_at, "os_account": user.os_account,
    }


def _status(row: dict[str, Any]) -> str:
    from ketadesk.db import utcnow

    if not row["active"]:
        return "disabled"
    if row["locked_until"] is not None and row["locked_until"] > utcnow():
        return f"locked until {row['locked_until']:%Y-%m-%d %H:%M} UTC"
    return "must change password" if row["must_change_password"] else "enabled"


def _users_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No users yet; add one with: ketadesk user add USER --name NAME --role ROLE"
    return common.table(
        ["User", "Name", "Role", "Status", "OS account", "Last log-in"],
        [[r["username"], r["full_name"], r["role"], _status(r), r["os_account"] or "-",
          r["last_login_at"].strftime("%Y-%m-%d %H:%M UTC") if r["last_login_at"] else "never"]
         for r in rows],
    )
