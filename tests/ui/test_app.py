"""The shell: start-up and screenshots, the main window, placeholders, and workers."""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from builders import patient_raw
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from ketadesk.access import users
from ketadesk.access.os_accounts import os_user_name
from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.packages import default_templates
from ketadesk.clinic import patients
from ketadesk.db import Database
from ketadesk.errors import ValidationError
from ketadesk.ui import app, timing
from ketadesk.ui.context import AppContext
from ketadesk.ui.login import LoginDialog
from ketadesk.ui.main_window import AREAS, MainWindow, describe_database
from ketadesk.ui.workers import Progress, Worker, run_with_progress

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parents[2]


def make_window(qtbot: QtBot, db: Database, actor: Actor, initial: str = "patients") -> MainWindow:
    window = MainWindow(AppContext(db, actor), initial=initial)
    qtbot.add_widget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    return window


# --- the main window ---------------------------------------------------------------------


def test_reports_say_in_words_who_may_read_them(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    from ketadesk.ui.reports import ReportsView

    window = make_window(qtbot, sqlite_db, front_desk)
    page = window.show_area("reports")
    assert isinstance(page, ReportsView)
    assert page.refusal is not None and "may not read the manager's reports" in page.refusal.text()
    assert not page.findChildren(QPushButton)  # nothing to click that does nothing
    assert window.windowTitle() == f"{AREAS['reports']} — KetaDesk"


def test_navigation_builds_areas_on_first_visit(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    window = make_window(qtbot, sqlite_db, front_desk)
    assert window.current_area() == "patients"
    assert window.area("billing") is None
    window.navigation.setCurrentRow(list(AREAS).index("billing"))
    assert window.current_area() == "billing"
    assert window.stack.currentWidget() is window.area("billing")
    settings = window.show_area("settings")  # the Settings area, or its placeholder
    assert settings is window.stack.currentWidget()


def test_today_and_schedule_are_the_real_views(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    from ketadesk.ui.schedule import ScheduleView
    from ketadesk.ui.today import TodayView

    window = make_window(qtbot, sqlite_db, front_desk)
    assert isinstance(window.show_area("today"), TodayView)
    assert isinstance(window.show_area("schedule"), ScheduleView)


def test_status_bar_names_the_user_role_and_database(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    window = make_window(qtbot, sqlite_db, Actor("carmen", Role.BILLING, user_id=3))
    assert window.user_label.text() == "carmen · Billing"
    assert window.database_label.text() == "Database: clinic.sqlite3"


def test_database_description_never_shows_a_password() -> None:
    url = "postgresql+psycopg://clinic:s3cret@db.example.org:5433/ketadesk"
    assert describe_database(url) == "db.example.org:5433/ketadesk"
    assert "s3cret" not in describe_database(url)
    assert describe_database("postgresql+psycopg://clinic@db/ketadesk") == "db/ketadesk"
    assert describe_database("sqlite:////var/lib/ketadesk/main.sqlite3") == "main.sqlite3"


# --- start-up ----------------------------------------------------------------------------


def clinic_file(sqlite_template: Path, tmp_path: Path, *, with_user: bool) -> Path:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    admin = Actor("test-admin", Role.ADMIN)
    with db.transaction() as session:
        if with_user:  # linked: a screenshot acts as the operating-system user's account
            alice = users.create_user(session, admin, username="alice", full_name="Alice",
                                      role=Role.MANAGER, password="a long password")
            alice.os_account = os_user_name()
        add_patients(session, admin, 3)
    db.dispose()
    return path


def add_patients(session: Session, actor: Actor, count: int) -> None:
    for number in range(count):
        patients.create_patient(session, actor, patient_raw(family_name=f"Doe{number}"))


def ketadesk(*options: str, timing: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if timing:
        env["KETADESK_TIMING"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "ketadesk", *options], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.slow
def test_screenshot_writes_the_patients_view_to_a_png(
    sqlite_template: Path, tmp_path: Path
) -> None:
    db_file = clinic_file(sqlite_template, tmp_path, with_user=True)
    png = tmp_path / "patients.png"
    done = ketadesk("--db", str(db_file), "--screenshot", str(png), "--view", "patients",
                    timing=True)
    assert done.returncode == 0, done.stderr
    image = QImage(str(png))
    assert (image.width(), image.height()) == app.SCREENSHOT_SIZE
    assert "first-paint-ms: " in done.stderr
    assert "propagateSizeHints" not in done.stderr
    # a clinic set up before protocols existed gets the shipped ones on its first start,
    # and the shipped package templates with them
    with sqlite3.connect(db_file) as raw:
        keys = {row[0] for row in raw.execute("SELECT key FROM protocol")}
        templates = {row[0] for row in raw.execute("SELECT name FROM package_template")}
    raw.close()
    assert {"iv-induction", "esketamine-induction", "kap"} <= keys
    assert templates == set(default_templates())


@pytest.mark.slow
def test_a_database_without_users_says_to_run_init(
    sqlite_template: Path, tmp_path: Path
) -> None:
    db_file = clinic_file(sqlite_template, tmp_path, with_user=False)
    png = tmp_path / "never.png"
    done = ketadesk("--db", str(db_file), "--screenshot", str(png))
    assert done.returncode == 2
    assert "ketadesk init" in done.stderr and "--admin USER" in done.stderr
    assert not png.exists()


@pytest.mark.slow
def test_demo_screenshot_logs_in_as_the_demo_manager(tmp_path: Path) -> None:
    png = tmp_path / "demo.png"
    done = ketadesk("--demo", "--screenshot", str(png), "--view", "billing")
    assert done.returncode == 0, done.stderr
    assert QImage(str(png)).width() == app.SCREENSHOT_SIZE[0]


def test_run_logs_in_through_the_dialog_then_opens_the_window(
    qtbot: QtBot, sqlite_template: Path, tmp_path: Path
) -> None:
    """The whole interactive start: the log-in dialog (wrong, then right), then the window."""
    db_file = clinic_file(sqlite_template, tmp_path, with_user=True)
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    look = (qapp.styleSheet(), qapp.style().name())
    seen: dict[str, str] = {}

    def log_in() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):
            QTimer.singleShot(20, log_in)
            return
        dialog.username.setText("alice")
        dialog.password.setText("not it at all")
        dialog.submit()
        seen["refused"] = dialog.message.text()
        dialog.password.setText("a long password")
        dialog.submit()
        QTimer.singleShot(0, look_at_window)

    def look_at_window() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if not windows:
            QTimer.singleShot(20, look_at_window)
            return
        seen["user"] = windows[0].user_label.text()
        seen["area"] = windows[0].current_area()
        windows[0].close()

    QTimer.singleShot(0, log_in)
    try:
        status = app.run(argparse.Namespace(db=str(db_file), demo=False, screenshot=None,
                                            view="patients"))
    finally:
        qapp.setStyleSheet(look[0])
        qapp.setStyle(look[1])
    assert status == 0
    assert seen == {"refused": "Wrong user name or password.", "user": "alice · Manager",
                    "area": "patients"}


def test_unknown_view_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status = app.run(argparse.Namespace(db=None, demo=False, screenshot="x.png", view="nope"))
    assert status == 2
    assert capsys.readouterr().err.startswith("ketadesk: error: there is no view called 'nope'")


def test_process_age_is_measured_from_process_start() -> None:
    age = timing.process_age()
    if sys.platform.startswith("linux"):
        assert age is not None and 0 < age < 3600
    else:
        assert age is None


# --- workers -----------------------------------------------------------------------------


def count_patients_slowly(session: Session, progress: Progress) -> int:
    total = patients.count_patients(session)
    for done in range(1, 4):
        progress.check()
        progress.report(done, 3, f"Step {done} of 3")
    return total


def test_a_worker_runs_a_job_in_its_own_thread_and_session(
    qtbot: QtBot, sqlite_db: Database, front_desk: Actor
) -> None:
    with sqlite_db.transaction() as session:
        add_patients(session, front_desk, 2)
    threads: list[threading.Thread] = []
    results: list[int] = []

    def job(session: Session, progress: Progress) -> int:
        threads.append(threading.current_thread())
        return count_patients_slowly(session, progress)

    run_with_progress(None, sqlite_db, "Counting patients", job, on_done=results.append)
    # A short job may emit ``finished`` before a wait_signal could connect, so wait for
    # the result it delivers to the window's thread instead.
    qtbot.waitUntil(lambda: results == [2], timeout=10_000)
    assert threads and threads[0] is not threading.main_thread()


def test_a_worker_reports_refusals_and_can_be_cancelled(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    def refuse(_session: Session, _progress: Progress) -> None:
        raise ValidationError.single("file", "is empty")

    failures: list[object] = []
    _refusing = run_with_progress(None, sqlite_db, "Importing", refuse, write=True,
                                  on_failed=failures.append)
    # The refusal is instant: ``finished`` may be emitted before a wait_signal could
    # connect, so wait for what it delivers instead.
    qtbot.waitUntil(lambda: len(failures) == 1, timeout=10_000)
    assert str(failures[0]) == "file: is empty"

    started = threading.Event()

    def forever(_session: Session, progress: Progress) -> None:
        started.set()
        while True:
            progress.check()
            threading.Event().wait(0.01)

    endless: Worker[None] = Worker(sqlite_db, forever)
    with qtbot.wait_signal(endless.signals.cancelled, timeout=10_000):
        endless.start()
        assert started.wait(5)
        endless.progress.cancel()
