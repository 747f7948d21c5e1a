"""``ketadesk user``: add, list, disable and enable the people who log in to the window.

Every action goes through :mod:`ketadesk.access.users` as the command-line actor (the OS
user, named in the audit log). A new user's password comes from ``$KETADESK_PASSWORD`` or
is typed twice at a prompt, never from an option (options end up in shell history).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.access.models import User

ENV_PASSWORD = "KETADESK_PASSWORD"
OPTIONS = {"username": "USER", "full_name": "--name", "role": "--role",
           "password": f"password (${ENV_PASSWORD})"}
ROLES = "front_desk, clinical, billing, manager, admin"
GROUP_EPILOG = """\
examples:
  ketadesk user add maria --name "Maria Gómez" --role front_desk
  ketadesk user list --json
  ketadesk user disable maria

'ketadesk user ACTION --help' describes each action."""


def register(commands: Any) -> None:
    group = commands.add_parser(
        "user", help="add, list, disable and enable users",
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


def add(args: argparse.Namespace) -> int:
    from ketadesk.access import users
    from ketadesk.access.permissions import command_line_actor

    role = users.parse_role(args.role)
    with common.opened(args) as db:
        password = common.read_password(ENV_PASSWORD, args.username)
        with db.transaction() as session:
            user = users.create_user(
                session, command_line_actor(), username=args.username,
                full_name=args.full_name, role=role, password=password,
            )
            data = _user_data(user)
    common.emit(args, data, lambda: f"Added {data['username']} ({data['full_name']}) "
                                    f"as {role.label.lower()}.")
    return 0


def list_users(args: argparse.Namespace) -> int:
    from ketadesk.access import users
    from ketadesk.access.permissions import command_line_actor

    with common.opened(args) as db, db.reading() as session:
        data = [_user_data(u) for u in users.list_users(session, command_line_actor())]
    common.emit(args, data, lambda: _users_table(data))
    return 0


def disable(args: argparse.Namespace) -> int:
    return _switch(args, active=False)


def enable(args: argparse.Namespace) -> int:
    return _switch(args, active=True)


def _switch(args: argparse.Namespace, *, active: bool) -> int:
    from ketadesk.access import users
    from ketadesk.access.permissions import command_line_actor

    with common.opened(args) as db, db.transaction() as session:
        user = users.set_active(session, command_line_actor(), args.username, active)
        data = _user_data(user)
    state = "enabled" if active else "disabled"
    common.emit(args, data, lambda: f"{data['username']} is now {state}.")
    return 0


def _user_data(user: User) -> dict[str, Any]:
    return {
        "username": user.username, "full_name": user.full_name, "role": user.role.value,
        "active": user.active, "created_at": user.created_at, "last_login_at": user.last_login_at,
    }


def _users_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No users yet; add one with: ketadesk user add USER --name NAME --role ROLE"
    return common.table(
        ["User", "Name", "Role", "Status", "Last log-in"],
        [[r["username"], r["full_name"], r["role"], "enabled" if r["active"] else "disabled",
          r["last_login_at"].strftime("%Y-%m-%d %H:%M UTC") if r["last_login_at"] else "never"]
         for r in rows],
    )
