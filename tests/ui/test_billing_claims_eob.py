"""A paper EOB typed in from the claim's pane, as the billing office does it: open the sent
claim, "Post EOB…", fill the grid line by line, read what is left to account for, post
through the 835 preview, and see the claim paid and the patient's share on their side."""

from __future__ import annotations

from decimal import Decimal

import pytest
from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from ui.billing_ui_helpers import settle, type_text
from ui.fit import clipped

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing import ledger
from ketadesk.billing.claims.actions import mark_submitted
from ketadesk.billing.claims.building import build_claims
from ketadesk.billing.claims.models import Claim, ClaimStatus
from ketadesk.db import Database
from ketadesk.ui.billing.claims import ClaimsTab
from ketadesk.ui.billing.claims_eob import EobDialog, EobPreviewDialog
from ketadesk.ui.context import AppContext

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="billing-carmen", role=Role.BILLING)
FRONT = Actor(username="desk-dana", role=Role.FRONT_DESK)
LEFT = Qt.MouseButton.LeftButton
PAID_ON = "12/07/2026"  # the claim was sent that day, which is the window's today

# What the EOB says, line by line (99213 $225, 99415 $130, 99416 $65, J0013 $2,100):
# column -> text typed, blank columns left alone.
EOB = {
    1: {"paid": "140.00", "contractual": "35", "copay": "50.00"},
    2: {"paid": "100", "contractual": "30.00"},
    3: {"paid": "50", "contractual": "15"},
    4: {"paid": "1,500.00", "contractual": "400", "deductible": "100", "coinsurance": "100"},
}


@pytest.fixture(autouse=True)
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(_parent: QWidget | None, _title: str, text: str, *_args: object) -> object:
        shown.append(text)
        return QMessageBox.StandardButton.No

    for name in ("warning", "information", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


def a_claim(db: Database, *, sent: bool = True) -> tuple[int, int]:
    """The insured patient's esketamine visit as a claim (sent, unless told); (claim, patient)."""
    with db.transaction() as session:
        insured = insured_clinic(session, ADMIN)
        esketamine_visit(session, ADMIN, insured)
        (claim_id,) = build_claims(session, ADMIN, today=TODAY).claim_ids
        if sent:
            mark_submitted(session, ADMIN, [claim_id], on=TODAY, how="837P batch 1")
        return claim_id, insured.clinic.patient.id


def opened(qtbot: QtBot, db: Database, claim_id: int, actor: Actor = BILLING) -> ClaimsTab:
    tab = ClaimsTab(AppContext(db, actor), today=lambda: TODAY)
    qtbot.add_widget(tab)
    tab.resize(1240, 760)
    tab.show()
    assert tab.open_claim(claim_id)
    return tab


def eob_dialog(qtbot: QtBot, tab: ClaimsTab) -> EobDialog:
    assert tab.pane.eob_button.isEnabled()
    qtbot.mouseClick(tab.pane.eob_button, LEFT)
    dialog = tab.pane.dialog
    assert isinstance(dialog, EobDialog)
    return dialog


def header(dialog: EobDialog, name: str) -> QLineEdit:
    editor = dialog.form.editors[name]
    assert isinstance(editor, QLineEdit)
    return editor


def fill(qtbot: QtBot, dialog: EobDialog, lines: dict[int, dict[str, str]]) -> None:
    for position, cells in lines.items():
        for column, text in cells.items():
            type_text(qtbot, dialog.editors[(position, column)], text)


def status_of(db: Database, claim_id: int) -> ClaimStatus:
    with db.reading() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        return claim.status


def test_a_paper_eob_typed_line_by_line_pays_the_claim_and_bills_the_patients_share(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    claim_id, patient_id = a_claim(sqlite_db)
    tab = opened(qtbot, sqlite_db, claim_id)
    dialog = eob_dialog(qtbot, tab)
    assert header(dialog, "paid_on").text() == PAID_ON
    assert dialog.left[4].text() == "$2,100.00 left"

    type_text(qtbot, header(dialog, "check_number"), "104577")
    type_text(qtbot, header(dialog, "payer_claim_number"), "AET-55012")
    fill(qtbot, dialog, {1: {"paid": "140.00"}})
    assert dialog.left[1].text() == "$85.00 left"
    fill(qtbot, dialog, EOB)
    assert [dialog.left[n].text() for n in (1, 2, 3, 4)] == ["✓ all accounted for"] * 4
    assert dialog.total.text() == "Every line is accounted for."

    qtbot.mouseClick(dialog.post_button, LEFT)
    preview = dialog.preview
    assert isinstance(preview, EobPreviewDialog)
    cells = [preview.table.item(0, c).text() for c in range(preview.table.columnCount())]
    assert cells[3:8] == ["$1,790.00", "$480.00", "$250.00", "$0.00", "Paid"]
    assert cells[8] == "Patient owes copay $50.00, deductible $100.00, coinsurance $100.00"
    assert status_of(sqlite_db, claim_id) is ClaimStatus.SUBMITTED  # the preview posts nothing

    qtbot.mouseClick(preview.post_button, LEFT)

    assert status_of(sqlite_db, claim_id) is ClaimStatus.PAID
    assert dialog.result() == EobDialog.DialogCode.Accepted
    pane = tab.pane
    assert pane.notice.text().startswith("Posted 1 claim payment ($1,790.00 from the payer")
    assert pane.title.text().endswith("· Paid")
    assert pane.money["paid"].text() == "$1,790.00"
    assert pane.money["to_patient"].text() == "$250.00"
    assert pane.money["open"].text() == "$0.00"
    history = [pane.history.item(r, 3).text() for r in range(pane.history.rowCount())]
    assert history[-1] == "Paper EOB 104577"
    assert not pane.eob_button.isEnabled()  # answered: nothing waits for an EOB now
    with sqlite_db.reading() as session:
        assert ledger.balance(session, patient_id) == Decimal("250.00")
        assert ledger.insurer_balance(session, patient_id) == Decimal("0.00")


def test_problems_show_beside_their_fields_and_nothing_posts(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    claim_id, patient_id = a_claim(sqlite_db)
    tab = opened(qtbot, sqlite_db, claim_id)
    dialog = eob_dialog(qtbot, tab)
    type_text(qtbot, header(dialog, "paid_on"), "12/08/2026")  # tomorrow
    fill(qtbot, dialog, EOB)
    fill(qtbot, dialog, {1: {"paid": "12,50"}, 2: {"contractual": "20"}})
    fill(qtbot, dialog, {4: {"denied": "0", "denial_reason": "999"}})
    assert dialog.left[1].text() == "not an amount yet"
    assert dialog.left[2].text() == "$10.00 left"

    qtbot.mouseClick(dialog.post_button, LEFT)

    assert dialog.preview is None and dialog.isVisible()
    assert dialog.form.error_text("paid_on") == "12/08/2026 is in the future; today is 12/07/2026"
    assert dialog.form.error_text("check_number").startswith("say the check number")
    assert dialog.line_problems[1].text() == (
        "Paid: '12,50' has a comma for cents; put cents after a point, like 12.50"
    )
    assert dialog.editors[(1, "paid")].toolTip().startswith("'12,50' has a comma")
    assert (
        dialog.line_problems[2]
        .text()
        .startswith("99415: the parts add up to $120.00, $10.00 less than the $130.00 billed")
    )
    assert (
        dialog.line_problems[4]
        .text()
        .startswith("Denial code: 999 is not a reason code (CARC) KetaDesk knows")
    )
    assert not dialog.line_problems[3].isVisibleTo(dialog)
    assert status_of(sqlite_db, claim_id) is ClaimStatus.SUBMITTED
    with sqlite_db.reading() as session:
        assert ledger.balance(session, patient_id) == Decimal("0.00")

    # fixed where they were shown, the EOB goes through
    type_text(qtbot, header(dialog, "paid_on"), PAID_ON)
    type_text(qtbot, header(dialog, "check_number"), "EFT 8812345")
    fill(
        qtbot,
        dialog,
        {1: {"paid": "140"}, 2: {"contractual": "30"}, 4: {"denied": "", "denial_reason": ""}},
    )
    qtbot.mouseClick(dialog.post_button, LEFT)
    assert not dialog.line_problems[1].isVisibleTo(dialog)
    assert isinstance(dialog.preview, EobPreviewDialog)
    dialog.preview.post()
    assert status_of(sqlite_db, claim_id) is ClaimStatus.PAID


def test_a_denied_line_posts_with_its_reason_and_stays_open(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    claim_id, patient_id = a_claim(sqlite_db)
    tab = opened(qtbot, sqlite_db, claim_id)
    dialog = eob_dialog(qtbot, tab)
    type_text(qtbot, header(dialog, "check_number"), "104577")
    fill(qtbot, dialog, {n: EOB[n] for n in (1, 2, 3)})
    fill(qtbot, dialog, {4: {"denied": "2100", "denial_reason": "197", "remarks": "M62"}})
    qtbot.mouseClick(dialog.post_button, LEFT)
    assert isinstance(dialog.preview, EobPreviewDialog)
    assert "Denied: CO-197: No prior auth" in dialog.preview.table.item(0, 8).text()
    qtbot.mouseClick(dialog.preview.post_button, LEFT)

    assert status_of(sqlite_db, claim_id) is ClaimStatus.PARTLY_PAID
    assert tab.pane.money["open"].text() == "$2,100.00"
    assert tab.pane.appeal_button.isEnabled()
    with sqlite_db.reading() as session:
        assert ledger.insurer_balance(session, patient_id) == Decimal("2100.00")
        assert ledger.balance(session, patient_id) == Decimal("50.00")


def test_post_eob_waits_for_a_sent_claim_and_for_someone_who_may_post(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    claim_id, _patient = a_claim(sqlite_db, sent=False)
    tab = opened(qtbot, sqlite_db, claim_id)
    assert not tab.pane.eob_button.isEnabled()  # ready, not sent
    with sqlite_db.transaction() as session:
        mark_submitted(session, ADMIN, [claim_id], on=TODAY, how="printed CMS-1500, mailed")
    front = opened(qtbot, sqlite_db, claim_id, FRONT)
    assert not front.pane.eob_button.isEnabled()
    assert "may not" in front.pane.eob_button.toolTip()


def test_the_eob_dialog_reads_whole_on_a_laptop(qtbot: QtBot, sqlite_db: Database) -> None:
    claim_id, _patient = a_claim(sqlite_db)
    tab = opened(qtbot, sqlite_db, claim_id)
    dialog = eob_dialog(qtbot, tab)
    fill(qtbot, dialog, {1: {"paid": "12,50"}, 2: {"paid": "100"}})
    qtbot.mouseClick(dialog.post_button, LEFT)  # problems shown: the longest state
    dialog.resize(1240, 720)  # a 1280×800 screen less the window frame and the task bar
    qtbot.waitExposed(dialog)
    settle()
    assert clipped(dialog) == []
