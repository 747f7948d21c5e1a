"""``ketadesk demo-data``: fill an empty database with a generated clinic (or chain).

:func:`ketadesk.demo.demo_target` chooses the database: without ``--db`` the demo clinic's
own file (the one ``ketadesk --demo`` opens), never the clinic's; ``--db`` naming the
clinic's own database is refused. The database is created or migrated, and one holding
anything ``ketadesk init`` does not make (patients, sessions, money, …) is refused, so demo
records never mix with a clinic's real ones. The generator reports its stages to a progress
bar on stderr (a single final line when stderr is not a terminal) and returns a summary,
printed as text or, with ``--json``, as JSON. Outside the demo clinic's file the demo users
get random passwords, printed here once and never again.
"""

from __future__ import annotations

import argparse
from typing import Any

from ketadesk.cli import common

DESCRIPTION = """\
Generate a demo clinic (or chain) into an empty database: locations with opening hours,
chairs, providers, payers, demo users, and patients with diagnoses and insurance. The
same seed always gives the same clinic. Without --db it writes the demo clinic's own
file (what 'ketadesk --demo' opens), never the clinic's database. A database holding
anything 'ketadesk init' does not make is refused: choose a new file with --db. Outside
the demo clinic's file the demo users get random passwords, shown once."""

OPTIONS = {"patients": "--patients", "years": "--years", "locations": "--locations",
           "seed": "--seed"}

EXAMPLES = """\
  ketadesk demo-data                                  (the demo clinic's own file)
  ketadesk demo-data --db demo.sqlite3
  ketadesk demo-data --db chain.sqlite3 --patients 20000 --years 5 --locations 6 --seed 7
  ketadesk demo-data --db postgresql://localhost/ketadesk_demo --json"""


def register(commands: Any) -> None:
    parser = common.command_parser(
        commands, "demo-data", summary="generate a demo clinic into an empty database",
        description=DESCRIPTION, examples=EXAMPLES, json_output=True,
    )
    parser.add_argument("--patients", type=_count_or_zero, metavar="N",
                        help="how many patients (default: the generator's)")
    parser.add_argument("--years", type=_count, metavar="Y",
                        help="years of history up to today (default: the generator's)")
    parser.add_argument("--locations", type=_count, metavar="L",
                        help="how many clinic locations (default: the generator's)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="random seed; the same seed gives the same clinic")
    parser.set_defaults(func=run, options=OPTIONS)


def _whole(text: str, minimum: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < minimum:
        raise argparse.ArgumentTypeError(f"{number} is less than {minimum}")
    return number


def _count(text: str) -> int:
    return _whole(text, 1)


def _count_or_zero(text: str) -> int:
    return _whole(text, 0)


def run(args: argparse.Namespace) -> int:
    from ketadesk.demo import DemoSpec, clinic_records, demo_target, describe_records, generate

    target = demo_target(getattr(args, "db", None))
    given = {name: getattr(args, name) for name in ("patients", "years", "locations", "seed")}
    spec = DemoSpec(**{name: value for name, value in given.items() if value is not None},
                    accounts=target.accounts)
    args.db = target.url  # what common.opened() opens
    from ketadesk.access.os_accounts import os_user_name

    # Anyone while the database has no users; the demo administrator is then linked to the
    # operating-system user running this, so its commands (and `make run`'s owner) get in.
    with common.opened(args, create=True, who="account-unless-empty") as db:
        where = common.shown_url(db.url)
        with db.reading() as session:
            held = clinic_records(session)
        if held:
            hint = ("open it with: ketadesk --demo, or choose a new file with --db"
                    if target.demo_file else
                    "leave out --db for the demo clinic's own file, or choose a new file")
            raise common.UsageError(
                f"{where} already holds {describe_records(held)}; demo data goes only into "
                f"a database that holds nothing but what 'ketadesk init' made ({hint})")
        progress = common.Progress()
        summary = generate(db, spec, progress=progress, actor=args.actor,
                           os_account=os_user_name())
        progress.finish(f"Generated the demo clinic into {where}")
    data: dict[str, Any] = summary.as_dict()
    accounts = [{"username": a.username, "full_name": a.full_name, "role": a.role.value,
                 "password": a.password} for a in summary.accounts]
    if accounts:
        data["accounts"] = accounts
    common.emit(args, data, lambda: _summary_text(summary.as_dict(), accounts))
    return 0


def _summary_text(counts: dict[str, int], accounts: list[dict[str, str]]) -> str:
    width = max((len(key) for key in counts), default=0)
    lines = [f"{key.replace('_', ' '):<{width}}  {value}" for key, value in counts.items()]
    if accounts:
        lines += ["", "Demo accounts, with random passwords shown only this once:"]
        name_width = max(len(a["username"]) for a in accounts)
        lines += [f"  {a['username']:<{name_width}}  {a['password']}  ({a['full_name']}, "
                  f"{a['role'].replace('_', ' ')})" for a in accounts]
    return "\n".join(lines)
