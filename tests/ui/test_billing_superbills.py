"""Billing → Superbills driven as billing uses it: one patient's PDF, and a month's batch.

December 2026: three self-pay patients had IV infusions posted; a fourth was treated by a
provider whose NPI is not on file, so that patient's superbill is refused and listed with
the reason. The batch runs off the window's thread with a progress dialog; the test holds
the batch at its start to show the window still answers meanwhile, then lets it finish.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from billing.billing_helpers import (
    BillingClinic,
    billing_clinic,
    completed_iv_session,
    posted_charges,
)
from builders import add_provider, patient_raw
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget
from pytestqt.qtbot import QtBot

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.documents import superbill_batch
from ketadesk.ui.billing.superbills import RangeDialog, SuperbillsTab, month_range
from ketadesk.ui.context import AppContext

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="bill-ann", role=Role.BILLING)
TODAY = date(2027, 1, 5)
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(_parent: QWidget | None, _title: str, text: str, *_args: object) -> object:
        shown.append(text)
        return QMessageBox.StandardButton.No

    for name in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


@pytest.fixture
def december(sqlite_db: Database) -> tuple[BillingClinic, str]:
    """Four self-pay patients with December visits; returns the clinic and the refused MRN."""
    with sqlite_db.transaction() as session:
        clinic = billing_clinic(session, ADMIN)
        clinic.location.phone = "2125550142"
        others = [
            create_patient(session, ADMIN, patient_raw(family_name=name, given_name=given))
            for name, given in (("Nguyễn", "Văn An"), ("O'Brien", "Siobhán"), ("Abara", "Tobi"))
        ]
        no_npi = add_provider(session, npi="", family_name="Reyes", given_name="Luis")
        days = ("2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04")
        for patient, day in zip([clinic.patient, *others], days, strict=True):
            ts = completed_iv_session(session, clinic, f"{day} 09:00", minutes=55, patient=patient)
            if patient is others[-1]:
                ts.provider_id = no_npi.id
            posted_charges(session, BILLING, ts)
        refused_mrn = others[-1].mrn
    return clinic, refused_mrn


def open_tab(qtbot: QtBot, db: Database) -> SuperbillsTab:
    tab = SuperbillsTab(AppContext(db, BILLING), today=lambda: TODAY)
    qtbot.add_widget(tab)
    tab.resize(1280, 800)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds the batch at its start until the test sets the event (then it runs for real)."""
    release = threading.Event()
    real = superbill_batch.write_superbills

    def held(*args: Any, **kwargs: Any) -> superbill_batch.BatchResult:
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(superbill_batch, "write_superbills", held)
    yield release
    release.set()  # never leave a worker waiting


def test_the_month_batch_writes_one_pdf_per_patient_and_lists_the_refused(
    qtbot: QtBot,
    sqlite_db: Database,
    december: tuple[BillingClinic, str],
    tmp_path: Path,
    gate: threading.Event,
    messages: list[str],
) -> None:
    _clinic, refused_mrn = december
    tab = open_tab(qtbot, sqlite_db)
    assert month_range(tab.month.date().toPython()) == (date(2026, 12, 1), date(2026, 12, 31))
    tab.workers = 1  # in this process, on the worker's thread: no pool to start in CI
    out = tmp_path / "superbills"
    tab.folder.setText(str(out))
    qtbot.mouseClick(tab.batch_button, LEFT)

    # The batch is under way: the progress dialog shows, the button waits for it...
    progress = tab.progress
    assert isinstance(progress, QProgressDialog)
    qtbot.waitUntil(progress.isVisible)
    assert not tab.batch_button.isEnabled()
    # ...and the window still answers: a timer fires and typing reaches a field.
    ticks: list[int] = []
    timer = QTimer(tab)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.keyClicks(tab.picker.search, "Abara")
    qtbot.waitUntil(lambda: len(ticks) >= 3)
    assert tab.picker.search.text() == "Abara" and tab.worker is not None
    timer.stop()

    gate.set()
    qtbot.waitUntil(lambda: tab.worker is None, timeout=30_000)
    result = tab.result
    assert result is not None and not result.cancelled
    assert len(result.written) == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in result.written)
    assert all(p.read_bytes().startswith(b"%PDF") for p in result.written)
    assert tab.summary.text().startswith(f"Wrote 3 superbills to {out}.")
    assert "1 patient was refused" in tab.summary.text()
    [(mrn, why)] = tab.refused_rows()
    assert mrn == refused_mrn and "the NPI of rendering provider Luis Reyes" in why
    assert tab.refused.item(0, 1).text() == "Abara, Tobi"
    assert tab.progress is None and tab.batch_button.isEnabled()
    assert messages == []


def test_one_patients_superbill_opens_as_a_pdf(
    qtbot: QtBot, sqlite_db: Database, december: tuple[BillingClinic, str]
) -> None:
    clinic, _refused = december
    opened: list[bytes] = []

    def opener(url: QUrl) -> bool:
        opened.append(Path(url.toLocalFile()).read_bytes())
        return True

    tab = open_tab(qtbot, sqlite_db)
    tab.opener = opener
    assert not tab.pdf_button.isEnabled()  # nobody chosen yet
    assert (tab.date_from.date().toPython(), tab.date_to.date().toPython()) == (
        date(2026, 12, 1),
        TODAY,
    )
    tab.picker.choose(clinic.patient.mrn)
    assert tab.pdf_button.isEnabled()
    qtbot.mouseClick(tab.pdf_button, LEFT)
    assert len(opened) == 1 and opened[0].startswith(b"%PDF")
    assert tab.last_pdf is not None and tab.last_pdf.suffix == ".pdf"


def test_a_refused_superbill_says_what_is_missing(
    qtbot: QtBot, sqlite_db: Database, december: tuple[BillingClinic, str], messages: list[str]
) -> None:
    _clinic, refused_mrn = december
    tab = open_tab(qtbot, sqlite_db)
    tab.opener = lambda _url: pytest.fail("nothing may open")  # type: ignore[assignment]
    tab.picker.choose(refused_mrn)
    qtbot.mouseClick(tab.pdf_button, LEFT)
    assert len(messages) == 1 and "the NPI of rendering provider Luis Reyes" in messages[0]


def test_the_range_dialog_refuses_an_end_before_the_start(qtbot: QtBot) -> None:
    dialog = RangeDialog(date(2026, 12, 31), date(2026, 12, 1))
    qtbot.add_widget(dialog)
    dialog.accept()
    assert dialog.result() != RangeDialog.DialogCode.Accepted
    assert dialog.problem.text() == "The range ends before it starts."


def test_the_patient_picker_says_how_many_more_match(
    qtbot: QtBot, sqlite_db: Database, december: tuple[BillingClinic, str]
) -> None:
    with sqlite_db.transaction() as session:
        for n in range(33):  # more than the picker lists
            create_patient(session, ADMIN, patient_raw(family_name="Abara", given_name=f"K{n}"))
    tab = open_tab(qtbot, sqlite_db)
    tab.picker.search.setText("abara")
    tab.picker.search_now()
    results = tab.picker.results
    assert results.count() == 31  # 30 patients, then the note
    assert results.item(30).text().startswith("… and 4 more; type more of the name")
    results.setCurrentRow(30)
    assert tab.picker.patient() is None and not tab.pdf_button.isEnabled()
