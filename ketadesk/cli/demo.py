"""``ketadesk demo-data``: fill an empty database with a generated clinic (or chain).

The database is created or migrated first; one that already holds patients is refused, so
demo records never mix with a clinic's real ones. The generator reports its stages to a
progress bar on stderr (a single final line when stderr is not a terminal) and returns a
summary, printed as text or, with ``--json``, as JSON.
"""

from __future__ import annotations

import argparse
from typing import Any

from ketadesk.cli import common

DESCRIPTION = """\
Generate a demo clinic (or chain) into an empty database: locations with opening hours,
chairs, providers, payers, demo users, and patients with diagnoses and insurance. The
same seed always gives the same clinic. A database that already has patients is
refused: choose a new file with --db."""

OPTIONS = {"patients": "--patients", "years": "--years", "locations": "--locations",
           "seed": "--seed"}

EXAMPLES = """\
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
    from ketadesk.clinic.patients import count_patients
    from ketadesk.demo.generator import DemoSpec, generate

    given = {name: getattr(args, name) for name in ("patients", "years", "locations", "seed")}
    spec = DemoSpec(**{name: value for name, value in given.items() if value is not None})
    with common.opened(args, create=True) as db:
        with db.reading() as session:
            existing = count_patients(session, include_inactive=True)
        if existing:
            raise common.UsageError(
                f"{common.shown_url(db.url)} already has {existing} patients; demo data goes "
                "into an empty database only (choose a new file with --db)")
        progress = common.Progress()
        summary = generate(db, spec, progress=progress)
        progress.finish(f"Generated the demo clinic into {common.shown_url(db.url)}")
    data = summary.as_dict()
    common.emit(args, data, lambda: _summary_text(data))
    return 0


def _summary_text(data: dict[str, int]) -> str:
    width = max((len(key) for key in data), default=0)
    return "\n".join(f"{key.replace('_', ' '):<{width}}  {value}" for key, value in data.items())
