"""A small self-pay clinic for the Billing area's window tests, and ways to drive it.

:func:`billing_scene` fills a database with the billing clinic (New York, the shipped fee
schedule, late-cancel $75 / no-show $150) and three patients — Zoë Łukasiewicz, 文英 阮 and
Ana Ng — each with completed IV infusions in December 2026 that are captured into the
review queue (``posted=False``) or posted to their ledgers (``posted=True``). The day the
window works on is :data:`TODAY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from billing.billing_helpers import ADMIN, billing_clinic, completed_iv_session, ended_session
from builders import patient_raw
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from ketadesk.billing import ledger
from ketadesk.billing.capture import capture_pending
from ketadesk.billing.models import Charge, ChargeStatus
from ketadesk.billing.review import post_charges
from ketadesk.clinic.patients import create_patient
from ketadesk.db import Database
from ketadesk.scheduling.models import SessionStatus

TODAY = date(2026, 12, 10)
PNG_DIR = "/work/notes/png"

# (patient, booked start, infusion minutes or None, IV chair 0/1)
VISITS = (
    ("Zoë Łukasiewicz", "2026-12-01 09:00", 100, 0),
    ("文英 阮", "2026-12-01 09:00", 45, 1),
    ("Ana Ng", "2026-12-02 13:00", 55, 0),
    ("Zoë Łukasiewicz", "2026-12-03 09:00", 50, 0),
    ("Ana Ng", "2026-12-04 09:00", 130, 1),
    ("文英 阮", "2026-12-04 13:00", None, 0),  # infusion times never recorded: needs a look
)


@dataclass(frozen=True)
class Scene:
    location_id: int
    patients: dict[str, int]  # printed name -> patient id
    mrns: dict[str, str]


def billing_scene(
    db: Database, *, captured: bool = True, posted: bool = False, no_show: bool = False
) -> Scene:
    """The clinic, three patients and their December infusions, captured (and posted)."""
    with db.transaction() as session:
        clinic = billing_clinic(session, ADMIN)
        clinic.location.phone = "2125550100"
        patients = {
            "Zoë Łukasiewicz": clinic.patient,
            "文英 阮": create_patient(
                session, ADMIN, patient_raw(family_name="阮", given_name="文英")
            ),
            "Ana Ng": create_patient(
                session, ADMIN, patient_raw(family_name="Ng", given_name="Ana")
            ),
        }
        for name, start, minutes, chair in VISITS:
            completed_iv_session(
                session,
                clinic,
                start,
                minutes,
                patient=patients[name],
                chair=clinic.iv_chairs[chair],
            )
        if no_show:
            ended_session(session, clinic, SessionStatus.NO_SHOW, "2026-12-07 09:00")
        if captured:
            capture_pending(session, ADMIN, through=TODAY)
        if captured and posted:
            ids = session.scalars(
                select(Charge.id).where(  # the unpriced one waits
                    Charge.status == ChargeStatus.PENDING, Charge.amount > 0
                )
            ).all()
            post_charges(session, ADMIN, list(ids), on=TODAY)
        return Scene(
            location_id=clinic.location.id,
            patients={name: p.id for name, p in patients.items()},
            mrns={name: p.mrn for name, p in patients.items()},
        )


def balance(db: Database, patient_id: int) -> Decimal:
    with db.reading() as session:
        return ledger.balance(session, patient_id)


def pending_count(db: Database) -> int:
    with db.reading() as session:
        return len(
            session.scalars(select(Charge.id).where(Charge.status == ChargeStatus.PENDING)).all()
        )


def type_text(qtbot: QtBot, editor: QWidget, text: str) -> None:
    """Clear a line edit and type ``text`` into it key by key, as a person would."""
    if not isinstance(editor, QLineEdit):
        raise TypeError(f"{editor!r} is not a text field")
    editor.clear()
    qtbot.keyClicks(editor, text)


def settle() -> None:
    QApplication.processEvents()


class Opened:
    """An injected PDF opener: remembers what it was asked to open, opens nothing."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, url: object) -> bool:
        from PySide6.QtCore import QUrl

        if not isinstance(url, QUrl):
            raise TypeError("the opener receives a QUrl")
        self.paths.append(url.toLocalFile())
        return True

    def last_bytes(self) -> bytes:
        return Path(self.paths[-1]).read_bytes()
