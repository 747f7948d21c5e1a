"""``ketadesk init``: create or migrate a database, and optionally its first administrator.

The migration backs a SQLite file up first (see :mod:`ketadesk.migrations`); the command
says what happened — created, migrated from one schema to another, or already current —
and where the backup went. With ``--admin`` the password comes from
``$KETADESK_ADMIN_PASSWORD`` or is typed twice at a prompt; it is asked for, and the name
and password checked by :func:`ketadesk.access.users.check_new_user`, before the database is
touched, so a missing or too-short password changes nothing and creates no file. It also
writes the shipped treatment protocols, fee schedule rows and package templates the
database lacks, leaving any a clinic has edited as they are.

On a database without users anyone may run it (that is how a clinic starts), and the first
administrator is linked to the operating-system account that ran it, so that account's
commands -- and its cron jobs -- act as the administrator. Once there are users, init acts
as the account of whoever runs it, like every other command (:mod:`ketadesk.cli.acting`).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ketadesk.cli import common

if TYPE_CHECKING:
    from ketadesk.access.permissions import Actor
    from ketadesk.db import Database

ENV_ADMIN_PASSWORD = "KETADESK_ADMIN_PASSWORD"
OPTIONS = {"username": "--admin", "full_name": "--admin",
           "password": f"password (${ENV_ADMIN_PASSWORD})"}

DESCRIPTION = """\
Create the database, or migrate an existing one to this version's schema. A SQLite file
is copied to backups/ beside it before any migration. Running it again is harmless."""

EXAMPLES = """\
  ketadesk init --db clinic.sqlite3
  ketadesk init --db clinic.sqlite3 --admin alice       (asks for the password twice)
  KETADESK_ADMIN_PASSWORD=... ketadesk init --admin alice \
      --db postgresql://db.clinic.lan/ketadesk"""


def register(commands: Any) -> None:
    parser = common.command_parser(
        commands, "init", summary="create or migrate the database",
        description=DESCRIPTION, examples=EXAMPLES, json_output=True,
    )
    parser.add_argument(
        "--admin", metavar="USER",
        help=f"also create the first administrator USER (password from ${ENV_ADMIN_PASSWORD} "
             "or a prompt); only while the database has no users",
    )
    parser.set_defaults(func=run, options=OPTIONS)


def run(args: argparse.Namespace) -> int:
    from ketadesk.db import Database

    password = common.read_password(ENV_ADMIN_PASSWORD, args.admin) if args.admin else None
    if args.admin and password is not None:
        from ketadesk.access.users import check_new_user

        # Refused here, before the database exists: a short password creates nothing.
        check_new_user(username=args.admin, full_name=args.admin, password=password)
    url = common.chosen_url(args)
    with common.database_errors(url, opening=True):
        db = Database(url)  # loads the driver the URL names
    try:
        with common.database_errors(url):
            data = _migrate(db, url)
            actor = _acting(args, db)
            if not args.json:
                print(_migration_text(data))
            data["protocols_added"] = _seed_protocols(db, actor)
            if data["protocols_added"] and not args.json:
                print(_protocols_text(data["protocols_added"]))
            data["fee_items_added"] = _seed_fee_schedule(db, actor)
            data["package_templates_added"] = _seed_package_templates(db, actor)
            data["consent_texts_added"] = _seed_consent_texts(db, actor)
            if args.admin and password is not None:
                data["admin"], data["os_account"] = _create_admin(db, actor, args.admin, password)
    finally:
        db.dispose()
    if args.json or data["admin"]:
        common.emit(args, data, lambda: _admin_text(data["admin"], data["os_account"]))
    return 0


def _acting(args: argparse.Namespace, db: Database) -> Actor:
    """Who init acts as: KetaDesk itself while the database has no users (a new clinic),
    else the account of whoever runs it, like any other command."""
    from ketadesk.access.permissions import seeding_actor
    from ketadesk.cli import acting

    return acting.resolve(args, db, while_empty=True) or seeding_actor()


def _migrate(db: Database, url: str) -> dict[str, Any]:
    from ketadesk.migrations import upgrade

    result = upgrade(db)
    return {
        "database": common.shown_url(url), "created": result.before is None,
        "before": result.before, "after": result.after,
        "backup": str(result.backup) if result.backup else None, "admin": None,
        "os_account": None,
    }


def _migration_text(data: dict[str, Any]) -> str:
    where, after = data["database"], data["after"]
    if data["created"]:
        text = f"Created a new KetaDesk database at {where} (schema {after})."
    elif data["before"] == after:
        text = f"The database at {where} is already current (schema {after})."
    else:
        text = f"Migrated the database at {where} from schema {data['before']} to {after}."
    if data["backup"]:
        text += f"\nBackup of the previous file: {data['backup']}"
    return text


def _seed_protocols(db: Database, actor: Actor) -> list[str]:
    """Write the shipped protocols whose keys the database lacks; return those keys."""
    from ketadesk.scheduling.protocols import ensure_default_protocols

    with db.transaction() as session:
        return [p.key for p in ensure_default_protocols(session, actor)]


def _seed_fee_schedule(db: Database, actor: Actor) -> int:
    """Write the shipped fee items the database lacks (never a clinic's edited row)."""
    from ketadesk.billing.fees import ensure_default_fee_schedule

    with db.transaction() as session:
        return len(ensure_default_fee_schedule(session, actor))


def _seed_package_templates(db: Database, actor: Actor) -> list[str]:
    """Write the shipped package templates whose names the database lacks; return those
    names (a clinic's edited, retired or priced-anew template stays as it is)."""
    from ketadesk.billing.packages import ensure_default_templates

    with db.transaction() as session:
        return [t.name for t in ensure_default_templates(session, actor)]


def _seed_consent_texts(db: Database, actor: Actor) -> list[str]:
    """Write version 1 of the shipped consent texts whose treatments have none; return
    those keys (a clinic's own versions are never touched)."""
    from ketadesk.clinic.consent.texts import ensure_default_consent_texts

    with db.transaction() as session:
        added = ensure_default_consent_texts(session, actor)
        return [text.key.value for text in added]


def _protocols_text(keys: list[str]) -> str:
    return (f"Added {len(keys)} shipped protocol{'s' if len(keys) > 1 else ''} "
            f"({', '.join(keys)}); edit them in Settings → Protocols.")


def _create_admin(db: Database, actor: Actor, username: str, password: str) -> tuple[str, str]:
    """The first administrator, linked to the operating-system account running init: that
    is how a clinic's first administrator (and its cron jobs) get in at the command line."""
    from ketadesk.access import os_accounts, users

    os_account = os_accounts.os_user_name()
    with db.transaction() as session:
        user = users.create_first_admin(session, actor, username=username, password=password)
        os_accounts.link(session, actor, user.username, os_account)
        return user.username, os_account


def _admin_text(admin: str, os_account: str) -> str:
    return (f"Created the administrator {admin}, linked to the operating-system account "
            f"{os_account}: commands {os_account} runs act as {admin}.")
