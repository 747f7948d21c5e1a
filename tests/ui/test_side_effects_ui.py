"""Side effects in the window: the chair card's "Side effect…" dialog, the card's "Review
needed" line for a flagged patient, and the chart's section with "Clear review…"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QPlainTextEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from ui.test_today import (  # the Today tests' clinic, clock and hands
    DESK,
    NURSE,
    Clock,
    book,
    card,
    clinic_db,
    dialog_of,
    dose_esketamine,
    fill,
    make_view,
    ok,
    press,
    warnings_shown,
)

from ketadesk.db import Database
from ketadesk.scheduling.side_effects.models import SideEffect, SideEffectKind
from ketadesk.scheduling.side_effects.recording import SideEffectInput, record_side_effect
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.side_effects import ClearReviewDialog, SideEffectsPanel
from ketadesk.ui.today.side_effect_dialog import SideEffectDialog

pytestmark = pytest.mark.gui
__all__ = ["clinic_db", "warnings_shown"]  # fixtures, used by name


def side_effects(db: Database) -> list[SideEffect]:
    with db.reading() as session:
        return list(session.scalars(select(SideEffect).order_by(SideEffect.id)))


def test_record_a_serious_side_effect_from_the_card_and_see_the_flag_tomorrow(
    qtbot: QtBot, clinic_db: Database
) -> None:
    booked = book(clinic_db)
    clock = Clock("2026-12-07 09:30")
    dose_esketamine(clinic_db, booked, clock.now.replace(minute=5))
    view = make_view(qtbot, clinic_db, NURSE, clock)
    assert card(view).findChild(QLabel, "reviewNeeded") is None

    press(qtbot, view, "side_effect")
    dialog = dialog_of(view, SideEffectDialog)
    fill(dialog, kind="other", severity="mild")
    ok(qtbot, dialog)
    assert dialog.isVisible()  # refused: "other" needs words
    assert dialog.form.error_text("detail") == "say in words what the other side effect was"
    assert side_effects(clinic_db) == []

    fill(dialog, kind="vomiting", severity="severe", serious=True, onset="20",
         action="ondansetron 4 mg IV")  # fmt: skip
    ok(qtbot, dialog)
    assert not dialog.isVisible()
    [row] = side_effects(clinic_db)
    assert (row.kind, row.serious, row.action) == (
        SideEffectKind.VOMITING,
        True,
        "ondansetron 4 mg IV",
    )
    assert row.recorded_by == NURSE.username

    book(clinic_db, "2026-12-08 09:00")  # the patient's next session
    tomorrow = make_view(qtbot, clinic_db, NURSE, Clock("2026-12-08 08:30"))
    badge = card(tomorrow).findChild(QLabel, "reviewNeeded")
    assert badge is not None and badge.isVisible()
    assert badge.text().startswith("⚠ Review needed — Vomiting (severe, serious) in S-")


def test_the_front_desk_is_not_offered_side_effects(qtbot: QtBot, clinic_db: Database) -> None:
    booked = book(clinic_db)
    clock = Clock("2026-12-07 09:30")
    dose_esketamine(clinic_db, booked, clock.now.replace(minute=5))
    view = make_view(qtbot, clinic_db, DESK, clock)
    with pytest.raises(KeyError):
        card(view).button("side_effect")


def flagged(db: Database) -> int:
    """A dosed session with a serious side effect; returns the patient's id."""
    booked = book(db)
    clock = Clock("2026-12-07 09:30")
    dose_esketamine(db, booked, clock.now.replace(minute=5))
    with db.transaction() as session:
        given = SideEffectInput("vomiting", "severe", serious=True, onset_minutes=10)
        row = record_side_effect(session, NURSE, booked.session_id, given, now=clock.now)
        return row.patient_id


def test_the_chart_lists_side_effects_and_a_provider_clears_the_review(
    qtbot: QtBot, clinic_db: Database
) -> None:
    patient_id = flagged(clinic_db)
    panel = SideEffectsPanel(AppContext(clinic_db, NURSE))
    qtbot.add_widget(panel)
    panel.resize(620, 300)
    panel.set_patient(patient_id)
    panel.show()
    assert panel.review.text().startswith("Provider review needed: Vomiting (severe, serious)")
    assert panel.clear_button.isVisible()
    [line] = panel.line_texts()
    assert "10 min after the dose · Vomiting (severe, serious)" in line

    dialog = panel.open_clear()
    assert isinstance(dialog, ClearReviewDialog)
    ok_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert dialog.form.error_text("note") == "write the provider's note clearing the review"
    note = dialog.form.editors["note"]
    assert isinstance(note, QPlainTextEdit)
    note.setPlainText("Seen; antiemetic before the next dose")
    qtbot.mouseClick(ok_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert panel.review.text() == "No provider review pending."
    assert not panel.clear_button.isVisible()
    assert panel.line_texts()[-1].endswith(
        f"by {NURSE.username}: Seen; antiemetic before the next dose"
    )


def test_the_desk_sees_the_review_but_cannot_clear_it(qtbot: QtBot, clinic_db: Database) -> None:
    patient_id = flagged(clinic_db)
    panel = SideEffectsPanel(AppContext(clinic_db, DESK))
    qtbot.add_widget(panel)
    panel.set_patient(patient_id)
    panel.show()
    assert panel.review.text().startswith("Provider review needed")
    assert not panel.clear_button.isVisible()
