"""Start the window: pick the database, log in, show the main window or render it to a PNG.

:func:`run` is what ``ketadesk`` (no sub-command) calls with its parsed options:

1. ``--view NAME`` is checked first (an unknown name is one line on stderr, exit 2).
2. The database: ``--demo`` opens the demo clinic (:func:`ketadesk.demo.ensure_demo_clinic`)
   and logs in as its demo manager; otherwise ``--db`` / ``KETADESK_DB`` / the default file
   is opened and migrated. A database without users cannot be logged into, so the person is
   told to run ``ketadesk init --admin USER`` (exit 2).
3. Log-in: the :class:`~ketadesk.ui.login.LoginDialog`. With ``--screenshot`` there is nobody
   to type a password, so the window acts as a command does without ``--user``: as the
   user linked to the operating-system account running it
   (:func:`~ketadesk.access.os_accounts.linked_actor`), or not at all. The shipped defaults
   a database lacks are written before the log-in by KetaDesk's own
   :func:`~ketadesk.access.permissions.seeding_actor`, which never acts for a person.
4. The :class:`~ketadesk.ui.main_window.MainWindow` opens on the chosen area, at
   ``--size WxH`` (default 1280×800, a laptop; checked with the view, before anything
   opens). With ``--screenshot FILE`` it is shown at that size (offscreen unless a
   platform was chosen),
   the program waits for its first paint — the Patients list's first page is loaded by then,
   because the view loads it while being built — saves ``window.grab()`` and exits 0.
   Otherwise an :class:`~ketadesk.ui.lock.IdleLock` watches it: after
   ``KETADESK_IDLE_MINUTES`` (10 by default) without input the window is covered until the
   logged-in user's password is typed again.

Start-up timing: with ``KETADESK_TIMING=1`` the program prints ``first-paint-ms: N`` to stderr,
where N is milliseconds from **process start** to the first paint of the first area shown
(Patients by default); :mod:`ketadesk.ui.timing` says how it is measured. Behind the log-in
dialog the figure includes the time spent logging in, so measure start-up with ``--demo`` or
``--screenshot``.

Start-up imports only what the first paint needs: the other areas, the fee module and the
``holidays`` calendars load when first used (``tests/ui/test_startup.py`` holds the line).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from importlib.resources import as_file
from pathlib import Path
from types import TracebackType

# The database side first, Qt after it, on purpose: once PySide6 is loaded, its import hook
# (shiboken's ``__feature__`` check) reads the source of every module imported after it,
# which made SQLAlchemy's import about 70 ms of CPU dearer at every start
# (docs/PERFORMANCE.md). tests/ui/test_startup.py holds the order.
from sqlalchemy import exists, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

import ketadesk
from ketadesk.access.daily_check import start_daily_duties
from ketadesk.access.os_accounts import linked_actor, os_user_name
from ketadesk.access.permissions import Actor, seeding_actor
from ketadesk.access.users import authenticate, count_users
from ketadesk.config import APP_NAME, RESOURCES, AccountPolicy, account_policy, database_url
from ketadesk.db import Database
from ketadesk.errors import AuthenticationFailed, InvalidValue, KetaDeskError
from ketadesk.migrations import open_database

# isort: split
from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from ketadesk.ui import style
from ketadesk.ui.context import AppContext
from ketadesk.ui.lock import IdleLock
from ketadesk.ui.main_window import AREAS, TAB_VIEWS, MainWindow, describe_database, known_view
from ketadesk.ui.timing import (
    ENV_TIMING,
    PAINT_TIMEOUT_MS,
    FirstPaint,
    report_first_paint,
    wait_for_first_paint,
)

EXIT_OK, EXIT_BUG, EXIT_REFUSED = 0, 1, 2
SCREENSHOT_SIZE = (1280, 800)
# Filled on first start when empty.
SEEDED_TABLES = ("protocol", "fee_item", "package_template", "consent_text")
SMALLEST, LARGEST = (640, 480), (7680, 4320)  # --size bounds: a tiny screen, an 8K one


# --- opening the database ----------------------------------------------------------------


def _tell(text: str, *, quiet: bool) -> None:
    """Say ``text`` on stderr (screenshot mode: nobody is looking) or in a dialog."""
    if quiet:
        print(f"ketadesk: error: {text}", file=sys.stderr)
    else:
        QMessageBox.warning(None, APP_NAME, text)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _open_demo() -> tuple[Database, Actor]:
    from ketadesk.demo import (
        DEMO_PASSWORD,
        DEMO_USER,
        ensure_demo_clinic,
        renew_published_password,
    )

    db = ensure_demo_clinic()
    try:
        with db.transaction() as session:
            return db, authenticate(session, DEMO_USER, DEMO_PASSWORD)
    except AuthenticationFailed:
        if not renew_published_password(db):  # a demo file from before the strength rule
            raise
    with db.transaction() as session:
        return db, authenticate(session, DEMO_USER, DEMO_PASSWORD)


def _init_hint(args: argparse.Namespace) -> str:
    where = f" --db {args.db}" if getattr(args, "db", None) else ""
    return ("This database has no users yet, so nobody can log in. Create its first "
            f"administrator with:  ketadesk init{where} --admin USER")


def _open(
    args: argparse.Namespace, *, quiet: bool, policy: AccountPolicy | None = None
) -> tuple[Database, Actor] | int:
    """The database and who acts in it, or an exit status when the window cannot open."""
    if getattr(args, "demo", False):
        return _open_demo()
    url = database_url(getattr(args, "db", None))
    try:
        db = open_database(url)
        start_daily_duties(url)  # in the background, only when the newest backup is a day old
        with db.reading() as session:
            users = count_users(session)
    except (SQLAlchemyError, OSError) as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        _tell(f"cannot open the database {_safe(url)}: {reason}", quiet=quiet)
        return EXIT_REFUSED
    if not users:
        db.dispose()
        _tell(_init_hint(args), quiet=quiet)
        return EXIT_REFUSED
    _seed_protocols_once(db)
    if quiet:
        return _linked(db)
    return _log_in(db, policy)


def _linked(db: Database) -> tuple[Database, Actor] | int:
    """A screenshot's actor: the user linked to the operating-system account, never more."""
    os_user = os_user_name()
    with db.reading() as session:
        actor = linked_actor(session, os_user)
    if actor is None:
        db.dispose()
        _tell(f"the operating-system user {os_user} has no KetaDesk account linked to it, so "
              f"there is nobody to show the window to; an administrator links one with: "
              f"ketadesk --user ADMIN user link NAME --os-account {os_user}", quiet=True)
        return EXIT_REFUSED
    return db, actor


def _seed_protocols_once(db: Database) -> None:
    """A clinic set up before protocols (or the fee schedule, package templates or consent
    texts) existed gets the shipped ones on its first start.

    ``ketadesk init`` seeds them for new databases; a database migrated by the window at
    start-up never ran ``init`` since. Only an empty protocol (fee, template) table is
    filled, so a clinic's own edits and retirements are never undone.

    The look is one ``EXISTS`` per table, named as the migrations name it: importing the fee
    module and the billing models behind it only to find rows there slowed every start.
    """
    with db.reading() as session:
        has_protocols, has_fees, has_templates, has_consents = (
            session.scalar(select(exists().select_from(table(name)))) for name in SEEDED_TABLES
        )
    if has_protocols and has_fees and has_templates and has_consents:
        return
    from ketadesk.billing.fees import ensure_default_fee_schedule
    from ketadesk.billing.packages import ensure_default_templates
    from ketadesk.clinic.consent.texts import ensure_default_consent_texts
    from ketadesk.scheduling.protocols import ensure_default_protocols

    with db.transaction() as session:
        if not has_consents:
            ensure_default_consent_texts(session, seeding_actor())
        if not has_protocols:
            ensure_default_protocols(session, seeding_actor())
        if not has_fees:
            ensure_default_fee_schedule(session, seeding_actor())
        if not has_templates:
            ensure_default_templates(session, seeding_actor())


def _log_in(db: Database, policy: AccountPolicy | None) -> tuple[Database, Actor] | int:
    from ketadesk.ui.login import LoginDialog

    # The lock after wrong passwords follows KETADESK_LOCK_AFTER / _MINUTES here too.
    dialog = LoginDialog(db, database_label=describe_database(db.url), policy=policy)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.actor is None:
        db.dispose()
        return EXIT_OK
    return db, dialog.actor


# --- the application ---------------------------------------------------------------------


def _offscreen_messages(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages in screenshot mode, minus the offscreen platform's harmless note."""
    if "propagateSizeHints" in message:  # the offscreen platform has no window manager
        return
    print(message, file=sys.stderr)


def _application(*, screenshot: bool) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        if screenshot:
            # Render without a display (and without flashing a window on one).
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            qInstallMessageHandler(_offscreen_messages)
        app = QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(ketadesk.__version__)
    app.setDesktopFileName("ketadesk")  # ties the window to its menu entry (install-desktop)
    style.apply(app)
    _load_shipped_fonts()
    return app


def _load_shipped_fonts() -> None:
    """Make the fonts the PDFs use known to Qt too, so a workstation without a CJK system
    font still shows names like 阮文英 instead of boxes (Qt falls back to them by script)."""
    from PySide6.QtGui import QFontDatabase

    fonts = (RESOURCES / "fonts").iterdir()
    for font in sorted((f for f in fonts if f.name.endswith(".ttf")), key=lambda f: f.name):
        with as_file(font) as path:  # package data: a real file for Qt even from a zip
            QFontDatabase.addApplicationFont(str(path))


def _screenshot(window: MainWindow, target: Path, *, timing: bool) -> int:
    area = window.area(window.current_area()) or window
    if not wait_for_first_paint(area, window):
        print("ketadesk: error: the window did not paint within "
              f"{PAINT_TIMEOUT_MS // 1000} s", file=sys.stderr)
        return EXIT_BUG
    if timing:
        report_first_paint()
    _settle()
    if not window.grab().save(str(target), "PNG"):
        print(f"ketadesk: error: cannot write the screenshot to {target}", file=sys.stderr)
        return EXIT_REFUSED
    window.close()
    return EXIT_OK


def _settle() -> None:
    """Let work the view started in workers (Reports runs its figures there) finish and
    be shown, so the screenshot holds the figures and not a progress bar."""
    from PySide6.QtCore import QThreadPool

    for _round in range(3):  # an answer may start one more read (a chart's detail)
        QThreadPool.globalInstance().waitForDone(PAINT_TIMEOUT_MS)
        QApplication.processEvents()


def _show_unexpected(kind: type[BaseException], error: BaseException,
                     trace: TracebackType | None) -> None:
    """Last resort for a bug in a slot: the details to stderr, a sentence to the person."""
    traceback.print_exception(kind, error, trace, file=sys.stderr)
    text = str(error) if isinstance(error, KetaDeskError) else f"{kind.__name__}: {error}"
    QMessageBox.critical(None, APP_NAME, f"Something went wrong and the action stopped.\n\n{text}")


def _interactive(app: QApplication, window: MainWindow, *, timing: bool) -> int:
    if timing:
        area = window.area(window.current_area()) or window
        FirstPaint(area).painted.connect(report_first_paint)
    previous = sys.excepthook
    sys.excepthook = _show_unexpected
    try:
        window.show()
        return app.exec()
    finally:
        sys.excepthook = previous


def parse_size(text: str) -> tuple[int, int]:
    """``"1366x768"`` -> ``(1366, 768)``; raises ValueError saying what is wrong."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*[x×]\s*(\d{1,5})\s*", text, flags=re.IGNORECASE)
    if match is None:
        raise ValueError(f"--size {text!r} is not WIDTHxHEIGHT in pixels, e.g. 1280x800")
    width, height = int(match[1]), int(match[2])
    if not (SMALLEST[0] <= width <= LARGEST[0] and SMALLEST[1] <= height <= LARGEST[1]):
        raise ValueError(f"--size {text} is outside {SMALLEST[0]}x{SMALLEST[1]} to "
                         f"{LARGEST[0]}x{LARGEST[1]}")
    return width, height


def run(args: argparse.Namespace) -> int:
    """Open the window as ``args`` asks; return the process exit status."""
    view = getattr(args, "view", None) or "patients"
    if not known_view(view):
        print(f"ketadesk: error: there is no view called {view!r}; choose one of "
              f"{', '.join([*AREAS, *TAB_VIEWS])} (or reports:NAME)", file=sys.stderr)
        return EXIT_REFUSED
    try:
        size = parse_size(args.size) if getattr(args, "size", None) else SCREENSHOT_SIZE
    except ValueError as error:
        print(f"ketadesk: error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    screenshot = getattr(args, "screenshot", None)
    timing = os.environ.get(ENV_TIMING) == "1"
    try:
        policy = account_policy()
    except InvalidValue as error:
        print(f"ketadesk: error: {error}", file=sys.stderr)
        return EXIT_REFUSED
    app = _application(screenshot=bool(screenshot))
    opened = _open(args, quiet=bool(screenshot), policy=policy)
    if isinstance(opened, int):
        return opened
    db, actor = opened
    try:
        window = MainWindow(AppContext(db, actor), initial=view)
        window.resize(*size)
        if screenshot:
            return _screenshot(window, Path(screenshot), timing=timing)
        IdleLock(window, window.context, idle_ms=policy.idle_minutes * 60_000, policy=policy)
        return _interactive(app, window, timing=timing)
    finally:
        db.dispose()
