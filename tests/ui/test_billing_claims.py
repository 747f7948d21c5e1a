"""Billing → Claims driven as the billing office uses it: build a claim from a posted insured
esketamine session, send it, read the payer's answer through the 835 preview, post it, and
see the patient's share on the chart's ledger; filter the list, read a claim's detail, and
have an action refused in words."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from billing.claims.claims_helpers import TODAY, esketamine_visit, insured_clinic
from billing.claims.test_remittance import answer
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
from ketadesk.billing.claims.remittance import file_sha256
from ketadesk.billing.claims.scrubber import check_and_mark
from ketadesk.billing.edi import validate
from ketadesk.billing.edi.model import Address, Remittance
from ketadesk.billing.edi.x835 import BankAccount, write_835
from ketadesk.db import Database
from ketadesk.ui.billing.claims import ClaimsTab
from ketadesk.ui.billing.claims_followup import FollowUpDialog, days_text
from ketadesk.ui.billing.claims_remit import RemitPreviewDialog, SendBatchDialog
from ketadesk.ui.billing.corrections import ReasonDialog
from ketadesk.ui.context import AppContext
from ketadesk.ui.patients.ledger import LedgerPanel

pytestmark = pytest.mark.gui

ADMIN = Actor(username="test-admin", role=Role.ADMIN)
BILLING = Actor(username="billing-carmen", role=Role.BILLING)
FRONT = Actor(username="desk-dana", role=Role.FRONT_DESK)
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


def insured_patient(db: Database, *visits: str) -> int:
    """The insured esketamine patient with a posted session on each of ``visits``."""
    with db.transaction() as session:
        insured = insured_clinic(session, ADMIN)
        for start in visits or ("2026-12-01 09:00",):
            esketamine_visit(session, ADMIN, insured, start)
        return insured.clinic.patient.id


def claims_built(db: Database, *visits: str, sent: int = 0) -> list[int]:
    insured_patient(db, *visits)
    with db.transaction() as session:
        ids = list(build_claims(session, ADMIN, today=TODAY).claim_ids)
        if sent:
            mark_submitted(session, ADMIN, ids[:sent], on=TODAY, how="837P batch 1")
        return ids


def make_tab(qtbot: QtBot, db: Database, actor: Actor = BILLING) -> ClaimsTab:
    tab = ClaimsTab(AppContext(db, actor), today=lambda: TODAY)
    qtbot.add_widget(tab)
    tab.resize(1240, 760)
    tab.show()
    return tab


def column(tab: ClaimsTab, number: int) -> list[str]:
    return [tab.table.item(row, number).text() for row in range(tab.table.rowCount())]


def status_of(db: Database, claim_id: int) -> ClaimStatus:
    with db.reading() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        return claim.status


def reason_field(dialog: ReasonDialog) -> QLineEdit:
    editor = dialog.form.editors["reason"]
    assert isinstance(editor, QLineEdit)
    return editor


def payers_answer(db: Database, claim_id: int, share: str, denied: str = "") -> Remittance:
    with db.reading() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        return answer(claim, share=Decimal(share), denied_code=denied)


# --- the whole cycle -------------------------------------------------------------------


def test_a_claim_is_built_sent_paid_and_the_share_lands_on_the_patients_ledger(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    patient_id = insured_patient(sqlite_db)
    tab = make_tab(qtbot, sqlite_db)
    assert tab.table.rowCount() == 0

    qtbot.mouseClick(tab.build_button, LEFT)
    qtbot.waitUntil(lambda: tab.worker is None, timeout=30_000)
    assert tab.notice.text() == "Built 1 claim: 1 ready to send, 0 with problems to fix."
    assert column(tab, 4) == ["Ready"]
    assert tab.status.itemText(1).startswith("Ready (1 · $")

    tab.table.selectRow(0)
    pane = tab.pane
    assert pane.shown is not None and pane.title.text().endswith("· Ready")
    claim_id, number = pane.shown.id, pane.shown.number
    billed = pane.shown.money.billed
    assert pane.sent_button.isEnabled() and not pane.appeal_button.isEnabled()
    qtbot.mouseClick(pane.sent_button, LEFT)
    dialog = pane.dialog
    assert isinstance(dialog, ReasonDialog)
    assert reason_field(dialog).text() == "printed CMS-1500, mailed"
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert status_of(sqlite_db, claim_id) is ClaimStatus.SUBMITTED
    assert column(tab, 4) == ["Submitted"]
    assert pane.notice.text() == f"Claim {number} marked sent (printed CMS-1500, mailed)."

    remit = payers_answer(sqlite_db, claim_id, "50.00")
    preview = tab.preview_remittance(remit, sha256=file_sha256("ISA*aetna-835"), file_name="a.835")
    assert isinstance(preview, RemitPreviewDialog)
    assert preview.table.rowCount() == 1
    cells = [preview.table.item(0, c).text() for c in range(preview.table.columnCount())]
    assert cells[0] == number and cells[5] == "$50.00" and cells[7] == "Paid"
    assert cells[8] == "Patient owes deductible $50.00"
    assert preview.summary.text().startswith("Post 1 claim payment: ")
    with sqlite_db.reading() as session:  # the preview posted nothing
        assert ledger.balance(session, patient_id) == Decimal("0.00")
        assert ledger.insurer_balance(session, patient_id) == billed

    qtbot.mouseClick(preview.post_button, LEFT)
    assert status_of(sqlite_db, claim_id) is ClaimStatus.PAID
    assert tab.notice.text().startswith("Posted 1 claim payment (")
    assert column(tab, 4) == ["Paid"] and column(tab, 6) == ["$0.00"]
    assert pane.money["to_patient"].text() == "$50.00"
    assert pane.tabs.tabText(3) == "Payer's answers (1)"
    assert any("CO-45" in pane.answers.item(r, 5).text() for r in range(pane.answers.rowCount()))

    chart = LedgerPanel(AppContext(sqlite_db, BILLING), today=lambda: TODAY)
    qtbot.add_widget(chart)
    chart.resize(900, 700)
    chart.set_patient(patient_id)
    chart.show()
    assert chart.owed.values["Still owed"].text() == "$50.00"
    assert chart.owed.values["Insurers owe"].text() == "$0.00"
    assert chart.balance_texts()[-1] == "$50.00"
    assert not chart.table.isColumnHidden(5)
    assert chart.claims.isVisibleTo(chart) and chart.claims.numbers() == [number]
    assert chart.claims.table.item(0, 3).text() == "Paid"


def test_the_same_835_a_second_time_cannot_be_posted_and_cancel_posts_nothing(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    (claim_id,) = claims_built(sqlite_db, sent=1)
    tab = make_tab(qtbot, sqlite_db)
    remit = payers_answer(sqlite_db, claim_id, "20.00")
    first = tab.preview_remittance(remit, sha256=file_sha256("one file"))
    first.reject()  # Cancel
    assert status_of(sqlite_db, claim_id) is ClaimStatus.SUBMITTED

    tab.preview_remittance(remit, sha256=file_sha256("one file")).post()
    again = tab.preview_remittance(remit, sha256=file_sha256("one file"))
    assert again.summary.text() == (
        "This remittance was imported before; posting it again would post nothing."
    )
    assert not again.post_button.isEnabled()


def test_an_answer_for_a_claim_we_do_not_have_waits_for_a_person(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    (claim_id,) = claims_built(sqlite_db, sent=1)
    tab = make_tab(qtbot, sqlite_db)
    remit = payers_answer(sqlite_db, claim_id, "0.00")
    stray = remit.claims[0].__class__(**{**remit.claims[0].__dict__, "claim_number": "X-999"})
    remit = Remittance(**{**remit.__dict__, "claims": (remit.claims[0], stray),
                          "total_paid": remit.total_paid * 2})
    preview = tab.preview_remittance(remit, sha256=None)
    assert preview.table.rowCount() == 2
    assert preview.table.item(1, 8).text() == (
        "Waits for a person: no claim numbered X-999 in KetaDesk"
    )
    assert "1 payment waits for a person." in preview.summary.text()


# --- the list and the detail -----------------------------------------------------------


def test_the_list_narrows_by_status_and_payer_with_counts_and_amounts(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    claims_built(sqlite_db, "2026-12-01 09:00", "2026-12-03 09:00", sent=1)
    tab = make_tab(qtbot, sqlite_db)
    assert tab.table.rowCount() == 2
    assert tab.count.text().startswith("2 claims · $")
    statuses = [tab.status.itemText(i) for i in range(tab.status.count())]
    assert statuses[0].startswith("All statuses (2 · $")
    assert [s.split(" (")[0] for s in statuses[1:]] == ["Ready", "Submitted"]

    tab.status.setCurrentIndex(statuses.index(next(s for s in statuses if "Submitted" in s)))
    assert column(tab, 4) == ["Submitted"]
    assert tab.count.text().startswith("1 claim · $")

    tab.status.setCurrentIndex(0)
    payers = [tab.payer.itemText(i) for i in range(tab.payer.count())]
    assert payers[0] == "All payers" and len(payers) == 2 and "(2 · $" in payers[1]
    tab.payer.setCurrentIndex(1)
    assert tab.table.rowCount() == 2
    assert set(column(tab, 2)) == {payers[1].split(" (")[0]}


def test_a_claims_detail_shows_lines_problems_history_and_the_payers_reasons(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    paid_id, draft_id = claims_built(sqlite_db, "2026-12-01 09:00", "2026-12-03 09:00", sent=1)
    with sqlite_db.transaction() as session:
        paid, draft = session.get(Claim, paid_id), session.get(Claim, draft_id)
        assert paid is not None and draft is not None
        denied_code = paid.lines[-1].code
        draft.policy.member_id = ""  # the unsent claim now misses the member id
        check_and_mark(session, ADMIN, [draft], today=TODAY)
    remit = payers_answer(sqlite_db, paid_id, "0.00", denied=denied_code)
    tab = make_tab(qtbot, sqlite_db)
    tab.preview_remittance(remit, sha256=None).post()

    assert tab.open_claim(draft_id)
    pane = tab.pane
    assert pane.shown is not None and pane.title.text().endswith("· Draft")
    assert pane.tabs.tabText(1).startswith("Problems (")
    problems = [
        (pane.problems.item(r, 0).text(), pane.problems.item(r, 1).text())
        for r in range(pane.problems.rowCount())
    ]
    assert any("member" in field and words for field, words in problems), problems
    assert pane.lines.rowCount() >= 1 and pane.lines.item(0, 0).text() == "1"
    row = column(tab, 0).index(pane.shown.number)
    assert column(tab, 8)[row].endswith(("problem", "problems"))
    assert not pane.sent_button.isEnabled()

    assert tab.open_claim(paid_id)
    assert pane.title.text().split(" · ")[1] in ("Partly paid", "Denied")
    history = [
        tuple(pane.history.item(r, c).text() for c in range(4))
        for r in range(pane.history.rowCount())
    ]
    assert history[0][1] == ADMIN.username and history[0][2] == "new → draft"
    assert ("ready → submitted", "Sent as 837P batch 1") in [(h[2], h[3]) for h in history]
    reasons = [pane.answers.item(r, 5).text() for r in range(pane.answers.rowCount())]
    assert any(text.startswith("CO-50 $") and "N180: " in text for text in reasons), reasons
    assert pane.appeal_button.isEnabled() and pane.bill_button.isEnabled()
    assert pane.facts.text().count("Appeal by") == 1
    assert pane.money["open"].text() != "$0.00"


# --- refusals and the worklist ---------------------------------------------------------


def test_a_sent_claim_is_recorded_as_accepted_with_its_note(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    (claim_id,) = claims_built(sqlite_db, sent=1)
    tab = make_tab(qtbot, sqlite_db)
    assert tab.open_claim(claim_id)
    pane = tab.pane
    assert pane.accept_button.isEnabled() and not pane.sent_button.isEnabled()
    qtbot.mouseClick(pane.accept_button, LEFT)
    dialog = pane.dialog
    assert isinstance(dialog, ReasonDialog)
    qtbot.keyClicks(reason_field(dialog), "277CA accepted")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert status_of(sqlite_db, claim_id) is ClaimStatus.ACCEPTED
    assert not pane.accept_button.isEnabled()


def test_correcting_a_claim_the_payer_never_numbered_is_refused_in_words(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    (claim_id,) = claims_built(sqlite_db, sent=1)
    tab = make_tab(qtbot, sqlite_db)
    tab.open_claim(claim_id)
    pane = tab.pane
    qtbot.mouseClick(pane.correct_button, LEFT)
    dialog = pane.dialog
    assert isinstance(dialog, ReasonDialog)
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.error_text("reason")  # a reason is required first
    type_text(qtbot, reason_field(dialog), "wrong units on J0013")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    assert dialog.form.banner.isVisibleTo(dialog)
    assert "has no payer claim number yet" in dialog.form.banner.text()
    assert status_of(sqlite_db, claim_id) is ClaimStatus.SUBMITTED
    assert tab.table.rowCount() == 1


def test_front_desk_reads_claims_but_may_not_build_or_post(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    claims_built(sqlite_db)
    tab = make_tab(qtbot, sqlite_db, FRONT)
    assert tab.table.rowCount() == 1
    for button in (tab.build_button, tab.check_button, tab.send_button, tab.import_button):
        assert not button.isEnabled()
        assert "may not" in button.toolTip()


def test_check_again_finds_a_problem_fixed_in_the_chart(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    (claim_id,) = claims_built(sqlite_db)
    with sqlite_db.transaction() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        claim.policy.member_id = ""
    tab = make_tab(qtbot, sqlite_db)
    qtbot.mouseClick(tab.check_button, LEFT)
    assert tab.notice.text() == "Checked 1 claim: 0 ready to send, 1 with problems to fix."
    assert status_of(sqlite_db, claim_id) is ClaimStatus.DRAFT
    assert column(tab, 8) != [""]


def test_the_follow_up_worklist_counts_down_and_opens_a_claim(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    (claim_id,) = claims_built(sqlite_db)
    tab = make_tab(qtbot, sqlite_db)
    qtbot.mouseClick(tab.follow_button, LEFT)
    dialog = tab.dialog
    assert isinstance(dialog, FollowUpDialog)
    assert dialog.table.rowCount() == 1
    row = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert row[2] == "Unsent" and row[7] == "Ready: send it."
    assert row[1].endswith(" days") and int(row[1].split()[0].replace(",", "")) > 0
    dialog.table.cellDoubleClicked.emit(0, 3)
    assert tab.selected_ids() == [claim_id]
    assert (days_text(0), days_text(-3), days_text(1)) == ("today", "3 days late", "1 day")


def test_send_batch_says_what_is_ready(qtbot: QtBot, sqlite_db: Database) -> None:
    claims_built(sqlite_db)
    tab = make_tab(qtbot, sqlite_db)
    dialog = tab.send_batch()
    assert isinstance(dialog, SendBatchDialog)
    assert dialog.payer.count() == 1 and "1 ready claim" in dialog.payer.itemText(0)
    assert dialog.ok_button.isEnabled()


def test_the_whole_cycle_through_files_an_837p_out_and_an_835_in(
    qtbot: QtBot, sqlite_db: Database, tmp_path: Path
) -> None:
    """Send the batch as a file, answer it with a real 835 file, import it, see the share."""
    patient_id = insured_patient(sqlite_db)
    out, era = tmp_path / "aetna.837", tmp_path / "aetna.835"
    tab = ClaimsTab(
        AppContext(sqlite_db, BILLING),
        today=lambda: TODAY,
        choose_837=lambda _parent, _name: str(out),
        choose_835=lambda _parent, _name: str(era),
    )
    qtbot.add_widget(tab)
    tab.resize(1240, 760)
    tab.show()
    qtbot.mouseClick(tab.build_button, LEFT)
    qtbot.waitUntil(lambda: tab.worker is None, timeout=30_000)

    send = tab.send_batch()
    qtbot.mouseClick(send.ok_button, LEFT)
    assert validate.problems(out.read_text()) == []
    assert column(tab, 4) == ["Submitted"] and tab.notice.text().startswith("Sent 1 claim")

    tab.table.selectRow(0)
    assert tab.pane.shown is not None
    remit = payers_answer(sqlite_db, tab.pane.shown.id, "40.00")
    bank = BankAccount("021000021", "123456789")
    address = Address("PO BOX 981106", "EL PASO", "TX", "79998")
    era.write_text(write_835(remit, payer_address=address, payee_address=address,
                             payer_tin="1234567890", payer_phone="8005550100",
                             payer_bank=bank, payee_bank=bank))  # fmt: skip
    preview = tab.import_835()
    assert isinstance(preview, RemitPreviewDialog) and preview.table.rowCount() == 1
    qtbot.mouseClick(preview.post_button, LEFT)

    assert column(tab, 4) == ["Paid"]
    with sqlite_db.reading() as session:
        assert ledger.balance(session, patient_id) == Decimal("40.00")
        assert ledger.insurer_balance(session, patient_id) == Decimal("0.00")
    again = tab.import_835()
    assert again is not None and not again.post_button.isEnabled()  # imported before


def test_the_claims_tab_reads_whole_on_a_laptop(qtbot: QtBot, sqlite_db: Database) -> None:
    claims_built(sqlite_db, "2026-12-01 09:00", "2026-12-03 09:00", sent=1)
    tab = ClaimsTab(AppContext(sqlite_db, BILLING), today=lambda: TODAY)
    qtbot.add_widget(tab)
    tab.resize(1060, 690)  # what the Billing area leaves a tab in a 1280×800 window
    tab.show()
    tab.table.selectRow(0)
    qtbot.waitExposed(tab)
    settle()  # the layouts take the new texts' sizes
    assert clipped(tab) == []


def test_the_window_opens_on_the_claims_tab_by_its_view_name(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    from ketadesk.ui.main_window import MainWindow

    claims_built(sqlite_db)
    window = MainWindow(AppContext(sqlite_db, BILLING), initial="claims")
    qtbot.add_widget(window)
    assert window.current_area() == "billing"
    shown = window.show_view("claims")
    assert isinstance(shown, ClaimsTab) and shown.table.rowCount() == 1
    nurse = MainWindow(AppContext(sqlite_db, Actor("nurse-kim", Role.CLINICAL)), initial="claims")
    qtbot.add_widget(nurse)
    assert nurse.current_area() == "billing"  # the area says the role may not view billing


def test_an_appeal_moves_the_claim_and_writes_the_letter_to_the_payer(
    qtbot: QtBot, sqlite_db: Database
) -> None:
    from pypdf import PdfReader
    from ui.billing_ui_helpers import Opened

    from ketadesk.ui.billing.claims_detail import AppealDialog

    (claim_id,) = claims_built(sqlite_db, sent=1)
    with sqlite_db.reading() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        denied_code = claim.lines[-1].code
    opened = Opened()
    tab = ClaimsTab(AppContext(sqlite_db, BILLING), today=lambda: TODAY, opener=opened)
    qtbot.add_widget(tab)
    tab.preview_remittance(
        payers_answer(sqlite_db, claim_id, "0.00", denied=denied_code), sha256=None
    ).post()
    tab.open_claim(claim_id)
    qtbot.mouseClick(tab.pane.appeal_button, LEFT)
    dialog = tab.pane.dialog
    assert isinstance(dialog, AppealDialog)
    type_text(qtbot, reason_field(dialog), "medically necessary: PHQ-9 of 24, two SSRIs failed")
    qtbot.mouseClick(dialog.ok_button, LEFT)

    assert status_of(sqlite_db, claim_id) is ClaimStatus.APPEALED
    assert tab.pane.title.text().endswith("· Appealed")
    text = "".join(page.extract_text() for page in PdfReader(opened.paths[-1]).pages)
    assert "Request for reconsideration" in text and tab.pane.shown is not None
    assert tab.pane.shown.number in text and "PHQ-9 of 24" in text


def test_the_paper_claim_prints_on_the_cms1500(qtbot: QtBot, sqlite_db: Database) -> None:
    from pypdf import PdfReader
    from ui.billing_ui_helpers import Opened

    (claim_id,) = claims_built(sqlite_db)
    opened = Opened()
    tab = ClaimsTab(AppContext(sqlite_db, BILLING), today=lambda: TODAY, opener=opened)
    qtbot.add_widget(tab)
    tab.open_claim(claim_id)
    assert tab.pane.form_button.isEnabled()
    tab.pane.form_button.open_pdf()
    text = PdfReader(opened.paths[-1]).pages[0].extract_text()
    with sqlite_db.reading() as s:
        claim = s.get(Claim, claim_id)
        assert claim is not None
        codes = [line.code for line in claim.lines]
    assert "LUKASIEWICZ" in text and all(code in text for code in codes)


def test_the_red_form_remembers_this_printers_offsets_and_prints_the_alignment_page(
    qtbot: QtBot, sqlite_db: Database, tmp_path: Path
) -> None:
    from pypdf import PdfReader
    from ui.billing_ui_helpers import Opened

    from ketadesk.ui.billing.claims_form import RedFormDialog

    (claim_id,) = claims_built(sqlite_db)
    opened = Opened()
    tab = ClaimsTab(AppContext(sqlite_db, BILLING), today=lambda: TODAY, opener=opened)
    qtbot.add_widget(tab)
    tab.open_claim(claim_id)
    dialog = tab.pane.red_form()
    assert isinstance(dialog, RedFormDialog)
    qtbot.add_widget(dialog)
    x_field = dialog.form.editors["offset_x"]
    assert isinstance(x_field, QLineEdit)
    x_field.setText("left a bit")
    dialog.claim_button.open_pdf()
    assert opened.paths == []  # nothing printed with an offset nobody can read
    assert "not a distance in millimetres" in dialog.form.error_text("offset_x")

    x_field.setText("1,5")
    dialog.alignment_button.open_pdf()
    dialog.claim_button.open_pdf()
    alignment, claim = (PdfReader(path).pages[0].extract_text() for path in opened.paths)
    assert "1.5" in alignment and "LUKASIEWICZ" in claim
    again = tab.pane.red_form()  # the next time, this printer's offsets are there
    qtbot.add_widget(again)
    assert again.form.values()["offset_x"] == "1.5"
