"""Start-up imports only what the first paint needs (issue 14, "Start-up and the floors").

Each check runs in a fresh interpreter, because this test process has imported everything
already. The speed itself is measured by bench/bench_foundation.py against a bare PySide6
window, not here; these tests keep the imports that were taken off the start-up path from
creeping back.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ketadesk.access import users
from ketadesk.access.os_accounts import os_user_name
from ketadesk.access.permissions import Actor, Role, seeding_actor
from ketadesk.billing.fees import ensure_default_fee_schedule
from ketadesk.billing.models import FeeItem, PackageTemplate
from ketadesk.billing.packages import ensure_default_templates
from ketadesk.cli import main
from ketadesk.clinic.consent.models import ConsentText
from ketadesk.clinic.consent.texts import ensure_default_consent_texts
from ketadesk.db import Database
from ketadesk.scheduling.models import Protocol
from ketadesk.scheduling.protocols import ensure_default_protocols
from ketadesk.ui import app

ROOT = Path(__file__).resolve().parents[2]
# Loaded only when a person uses them: documents, billing, the holiday calendars, migrations,
# password hashing (a log-in), the default data folder (no --db), code descriptions.
LATER = ("ketadesk.billing", "ketadesk.documents", "ketadesk.reports", "ketadesk.demo",
         "holidays", "reportlab", "alembic", "argon2", "platformdirs", "html")
# Loaded when a patient's record first opens (its Series panel), not at first paint.
RECORD_FIRST_OPENED = ("ketadesk.scheduling", "sqlalchemy.dialects.postgresql")
# Modules of the record page alone: its cards, the insurance panel, the patient form whose
# sections the cards follow.
RECORD_PAGE = ("ketadesk.ui.card", "ketadesk.ui.forms", "ketadesk.ui.patients.form",
               "ketadesk.ui.patients.policies", "ketadesk.clinic.policies")
# Of the command line, a window start needs its entry point and the shared helpers only.
WINDOW_CLI = ["ketadesk.cli.common", "ketadesk.cli.main", "ketadesk.cli.terminal"]
LOADED = (
    "import json, sys\n"
    "{run}\n"
    "later = {later!r}\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in later\n"
    "                        or m.startswith(tuple(p + '.' for p in later)))))\n"
)


def _loaded_after(run: str, *, env: dict[str, str] | None = None,
                  later: tuple[str, ...] = LATER) -> list[str]:
    script = LOADED.format(run=run, later=later)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def _passes_fresh(run: str) -> None:
    """Run ``run`` in a fresh interpreter; an assertion failing there fails the test."""
    _loaded_after(run, later=())


def test_locations_load_the_holiday_package_only_for_a_calendar() -> None:
    assert _loaded_after("import ketadesk.clinic.locations") == []


def test_the_scheduling_models_load_no_postgresql_dialect() -> None:
    # A ``postgresql_*`` index option made SQLAlchemy import its PostgreSQL dialect (and its
    # asyncpg and psycopg modules) with the models, even for a SQLite file.
    loaded = _loaded_after("import ketadesk.scheduling.models",
                           later=("sqlalchemy.dialects.postgresql",))
    assert loaded == []


def test_the_window_imports_sqlalchemy_before_qt() -> None:
    # Once PySide6 is loaded, its import hook reads the source of every module imported
    # after it; SQLAlchemy's modules cost the start about 70 ms more CPU that way.
    run = ("import ketadesk.ui.app\n"
           "names = list(sys.modules)\n"
           "assert names.index('sqlalchemy.orm') < names.index('PySide6')")
    _passes_fresh(run)


def test_the_collector_rests_while_the_window_is_imported() -> None:
    # The window's modules are tens of thousands of objects that live as long as the
    # process: no collector pass during their import, none over them afterwards.
    run = ("import gc\n"
           "from ketadesk.cli.main import _collector_paused\n"
           "with _collector_paused():\n"
           "    assert not gc.isenabled()\n"
           "    import ketadesk.ui.app\n"
           "assert gc.isenabled() and gc.get_freeze_count() > 20_000\n"
           "gc.disable()\n"
           "with _collector_paused():\n"
           "    pass\n"
           "assert not gc.isenabled()  # a caller's choice to keep it off stands")
    _passes_fresh(run)


def test_window_options_are_read_without_building_the_commands() -> None:
    run = ("from ketadesk.cli.main import window_arguments\n"
           "args = window_arguments(['--db', 'x.sqlite3', '--view', 'schedule', '--demo'])\n"
           "assert args is not None and (args.db, args.view, args.demo, args.command) "
           "== ('x.sqlite3', 'schedule', True, None)")
    assert _loaded_after(run, later=("ketadesk.cli",)) == WINDOW_CLI


@pytest.mark.parametrize("argv", [["patient", "find", "x"], ["--help"], ["-h"],
                                  ["--view", "nowhere"], ["--db", "x", "init"], ["--screenshot"]])
def test_anything_but_a_window_start_goes_to_the_whole_parser(argv: list[str]) -> None:
    # A command, help or a mistake is read by the parser that knows every command, so
    # the help lists them and the error messages are the ones it always gave.
    assert main.window_arguments(argv) is None


def test_a_window_start_reads_as_the_whole_parser_reads_it() -> None:
    for argv in ([], ["--db", "x"], ["--demo", "--view", "today"], ["--screenshot=f.png"]):
        found = main.window_arguments(argv)
        assert found is not None
        assert vars(found) == vars(main.build_parser().parse_args(argv))


@pytest.mark.gui
def test_the_seed_check_names_the_tables_the_models_map() -> None:
    # The start-up check reads the tables by name so as not to import the models.
    seeded = (
        Protocol.__tablename__,
        FeeItem.__tablename__,
        PackageTemplate.__tablename__,
        ConsentText.__tablename__,
    )
    assert seeded == app.SEEDED_TABLES


@pytest.mark.gui
@pytest.mark.slow
def test_the_window_paints_patients_without_the_fee_module(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    with db.transaction() as session:
        alice = users.create_user(session, Actor("test-admin", Role.ADMIN), username="alice",
                                  full_name="Alice", role=Role.MANAGER,
                                  password="a long password")
        alice.os_account = os_user_name()  # a screenshot shows what the linked account sees
        ensure_default_protocols(session, seeding_actor())
        ensure_default_fee_schedule(session, seeding_actor())
        ensure_default_templates(session, seeding_actor())
        ensure_default_consent_texts(session, seeding_actor())  # as 'init' does
    db.dispose()
    shot = tmp_path / "patients.png"
    run = ("from ketadesk.cli.main import main\n"
           f"assert main(['--db', {str(path)!r}, '--screenshot', {str(shot)!r}]) == 0\n"
           # The first page is read without configuring the clinic's mappers: that waits
           # for the first record opened.
           "from sqlalchemy import inspect\n"
           "from ketadesk.clinic.models import Patient\n"
           "assert not inspect(Patient).configured\n"
           f"assert not set(sys.modules) & {set(RECORD_PAGE)!r}")
    loaded = _loaded_after(run, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                           later=(*LATER, "ketadesk.cli", *RECORD_FIRST_OPENED))
    assert shot.exists()
    # The window's money and dates are written by the documents' formatting module (pure
    # Python: no reportlab), so the list and the papers say an amount the same way.
    assert loaded == [*WINDOW_CLI, "ketadesk.documents.format"]
