"""The ``ketadesk`` entry point: the window without a sub-command, else one command.

:func:`main` builds the parser from the command modules (each has ``register``), runs the
chosen command and turns every outcome into an exit status:

* 0 — done;
* 2 — bad input, refused action or unusable database (argparse usage errors too): one
  ``ketadesk: error: ...`` line on stderr, never a traceback;
* 1 — a bug: one line and a hint to rerun with ``KETADESK_DEBUG=1``, which shows it;
* 130 — interrupted with Ctrl-C.

Qt is imported only when the window is asked for, so the commands start quickly and work
on machines without a display. The other way round, a window start (only the window's own
options on the line) reads them with the top-level parser alone: building the 26 command
parsers means importing every command module, which cost the first paint about a tenth of
its time (docs/PERFORMANCE.md). Anything else -- a command, ``--help``, a mistake -- goes
through the whole parser, so its help and its error messages are the same as ever.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from ketadesk import __version__
from ketadesk.cli import common
from ketadesk.cli.terminal import scrubbed_output
from ketadesk.errors import KetaDeskError

VIEWS = ("today", "schedule", "patients", "billing", "claims", "reports", "settings")


def _view(text: str) -> str:
    """A --view name: one of VIEWS, or ``reports:NAME`` for a report of the catalog."""
    if text in VIEWS:
        return text
    from ketadesk.reports.catalog import NAMES  # only for a report's page, not at every start

    area, colon, page = text.partition(":")
    if colon and area == "reports" and page in NAMES:
        return text
    raise argparse.ArgumentTypeError(
        f"there is no view {text!r}; choose from {', '.join(VIEWS)} or reports:NAME "
        f"({', '.join(NAMES)})"
    )
EXIT_OK, EXIT_BUG, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
KetaDesk: practice management for ketamine and esketamine clinics.

Without a command, opens the window. The commands set up and administer a database and
work with patients from scripts."""

EXAMPLES = """\
examples:
  ketadesk                              open the window on the default database
  ketadesk --demo                       open a demo clinic (kept apart from real data)
  ketadesk --db clinic.sqlite3 --view schedule
  ketadesk --demo --screenshot today.png --view today --size 1366x768
  ketadesk init --admin alice           create the database and its first administrator
  ketadesk patient find lukas --json
  ketadesk series plan --patient 100001 --protocol iv-induction --start 2026-12-07 --book
  ketadesk schedule day today --pdf day-sheet.pdf
  ketadesk invoice create --patient 100001
  ketadesk payment add --patient 100001 --amount 450.00 --method card
  ketadesk superbill --month 2026-12 --out superbills/
  ketadesk claims build --through 2026-12-31
  ketadesk report revenue --by month,payer --pdf revenue.pdf
  ketadesk backup --encrypt             back the database up (restore FILE puts one back)
  ketadesk audit --patient 100001 --pdf disclosures.pdf
  ketadesk --user alice user link maria --os-account maria
                                        maria's commands act as her account
  ketadesk install-desktop              add KetaDesk to the desktop's application menu
  ketadesk <command> --help             what a command does and its options

The database is --db URL, else $KETADESK_DB, else a file in your data folder.
A command acts as a KetaDesk account: --user NAME (asks for the password), else the user
linked to your operating-system account; without one only init on a new database works.
Set KETADESK_DEBUG=1 to see the full traceback of an internal error."""


def _top_level_parser(*, add_help: bool = True) -> argparse.ArgumentParser:
    """The options given before any command: ``--version``, ``--db`` and the window's."""
    parser = argparse.ArgumentParser(
        prog=common.PROG, description=DESCRIPTION, epilog=EXAMPLES,
        formatter_class=common.HelpFormatter, add_help=add_help, exit_on_error=add_help,
    )
    parser.add_argument("--version", action="version", version=f"ketadesk {__version__}")
    common.add_db_option(parser, top_level=True)
    parser.add_argument(
        "--user", dest="acting_user", metavar="NAME",
        help="run the command as this KetaDesk user, asking for the password (read from "
             "standard input when it is not a terminal); without it a command acts as the "
             "user linked to your operating-system account (ketadesk user link)")
    window = parser.add_argument_group("window options (without a command)")
    window.add_argument("--demo", action="store_true",
                        help="open the demo clinic, created on first use, already logged in")
    window.add_argument("--screenshot", metavar="FILE",
                        help="render the window to this PNG file and exit")
    window.add_argument("--view", type=_view, metavar="NAME",
                        help=f"the view to show first: {', '.join(VIEWS)}, or one report "
                        "as reports:NAME (reports:aging)")
    window.add_argument("--size", metavar="WxH",
                        help="the window's size, e.g. 1280x800 (a laptop; the default) "
                        "or 1920x1080")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: top-level window options and every sub-command."""
    from ketadesk.cli import (  # the command modules: only when a command may be run
        audit,
        backups,
        charges,
        claims,
        consent,
        demo,
        desktop,
        estimates,
        history,
        intake,
        invoices,
        ledger,
        outcomes,
        patients,
        payments,
        protocols,
        reports,
        schedule,
        series,
        sessions,
        setup,
        side_effects,
        superbills,
        users,
    )

    parser = _top_level_parser()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    scheduling = (setup, users, patients, protocols, series, sessions, schedule, outcomes)
    billing = (charges, invoices, payments, ledger, superbills, estimates, claims)
    clinical = (intake, consent, history, side_effects)
    for module in (*scheduling, *clinical, *billing, reports, backups, audit, demo, desktop):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: common.Clock | None = None) -> int:
    """Run ``ketadesk`` with ``argv`` (default: the process arguments); return the exit status.

    ``clock`` is when the command runs (default: the workstation's clock); it reaches the
    command as ``args.clock``, so a caller -- a test -- states its time instead of patching.
    """
    try:
        with scrubbed_output():
            return _main(list(sys.argv[1:] if argv is None else argv), clock or common.SYSTEM_CLOCK)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SystemExit as stop:  # argparse: --help, --version and usage errors
        return _status(stop.code)
    except BrokenPipeError:  # e.g. `ketadesk user list | head -1`
        _silence_stdout()
        return EXIT_BUG


def window_arguments(argv: list[str]) -> argparse.Namespace | None:
    """``argv`` read as a window start, or ``None`` when it is anything else.

    Only the top-level options are known here and none of them is ``--help``, so a command
    name, ``--help`` or anything argparse refuses is left over or raises, and the caller
    reads ``argv`` with the whole parser instead.
    """
    try:
        args, left = _top_level_parser(add_help=False).parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if left:
        return None
    args.command = None
    return args


def _main(argv: list[str], clock: common.Clock) -> int:
    window = window_arguments(argv)
    if window is not None:
        return _guarded(window, _open_window)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.clock = clock
    if args.command is None:
        return _guarded(args, _open_window)
    if args.demo or args.screenshot or args.view or args.size:
        parser.error("--demo, --screenshot, --view and --size are for the window; "
                     f"they cannot be used with '{args.command}'")
    return _guarded(args, args.func)


def _guarded(args: argparse.Namespace, action: common.Command) -> int:
    """Run ``action``; errors become one line on stderr and an exit status."""
    try:
        return action(args)
    except KetaDeskError as error:
        common.print_error(common.describe(error, getattr(args, "options", None)))
        return EXIT_REFUSED
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as error:
        if common.debugging():
            raise
        common.print_error(
            f"internal error ({type(error).__name__}: {common.one_line(error)}); rerun with "
            f"{common.ENV_DEBUG}=1 to see the details, and report them")
        return EXIT_BUG


def _open_window(args: argparse.Namespace) -> int:
    try:
        with _collector_paused():
            from ketadesk.ui.app import run  # lazy: only the window needs Qt
    except ImportError as error:
        if common.debugging():
            raise
        common.print_error(f"cannot open the window: {common.one_line(error)}; "
                           "the commands still work (ketadesk --help)")
        return EXIT_BUG
    return run(args)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while the window's modules are imported.

    Importing Qt, SQLAlchemy and the window allocates some 70,000 objects that live as long
    as the process, and next to no garbage (a few hundred objects in cycles); the
    collector's passes over them cost the first paint about 8% of its CPU. Afterwards they
    are frozen -- left out of every later pass -- and collection resumes for what the
    window allocates from then on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _status(code: object) -> int:
    if code is None:
        return EXIT_OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return EXIT_BUG


def _silence_stdout() -> None:
    """After a closed pipe, point stdout at nowhere so the interpreter's flush is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
