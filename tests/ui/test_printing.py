"""Printing documents from the window: the pages drawn, the preview, and Print… in each place.

The printer is a real :class:`QPrinter` writing a PDF file (no printer is needed offscreen);
what it printed is read back with pypdf. The print dialog and the preview are shown through
:class:`~ketadesk.ui.printing.PrintHooks`, so the tests decide what the person "chose".
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QMessageBox, QToolButton, QWidget
from pytestqt.qtbot import QtBot
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import func, select
from ui.demo_clinic import DEMO_DAY

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.models import Invoice, LedgerEntry
from ketadesk.db import Database
from ketadesk.ui.billing.pdf import PdfButton
from ketadesk.ui.context import AppContext
from ketadesk.ui.printing import (
    PrintError,
    PrintHooks,
    load_pdf,
    paint_pdf,
    preview_dialog,
    print_pdf,
)

pytestmark = pytest.mark.gui
LEFT = Qt.MouseButton.LeftButton


def pdf_of(pages: int) -> bytes:
    """A letter-size PDF of ``pages`` pages, each saying its number."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER)
    for number in range(1, pages + 1):
        canvas.drawString(72, 720, f"Page {number} of {pages}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def to_file(printer: QPrinter, path: Path) -> QPrinter:
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


class Person:
    """Stands at the print dialog: presses Print (to a PDF file) or Cancel."""

    def __init__(self, target: Path | None) -> None:
        self.target = target
        self.asked = 0
        self.previews: list[QPrintPreviewDialog] = []

    def ask(self, printer: QPrinter, _parent: QWidget | None) -> bool:
        self.asked += 1
        if self.target is None:
            return False
        to_file(printer, self.target)
        return True

    def preview(self, dialog: QPrintPreviewDialog) -> None:
        self.previews.append(dialog)

    def hooks(self) -> PrintHooks:
        return PrintHooks(ask_printer=self.ask, show_preview=self.preview)


def test_every_page_is_printed_one_printer_page_each(qtbot: QtBot, tmp_path: Path) -> None:
    target = tmp_path / "printed.pdf"
    printer = to_file(QPrinter(QPrinter.PrinterMode.HighResolution), target)

    drawn = paint_pdf(load_pdf(pdf_of(3)), printer)

    assert drawn == 3
    assert len(PdfReader(target).pages) == 3


def test_the_page_range_chosen_in_the_dialog_is_honoured(qtbot: QtBot, tmp_path: Path) -> None:
    target = tmp_path / "range.pdf"
    printer = to_file(QPrinter(QPrinter.PrinterMode.HighResolution), target)
    printer.setFromTo(2, 3)

    assert paint_pdf(load_pdf(pdf_of(4)), printer) == 2
    assert len(PdfReader(target).pages) == 2


def test_print_asks_for_a_printer_then_prints(qtbot: QtBot, tmp_path: Path) -> None:
    person = Person(tmp_path / "out.pdf")

    printed = print_pdf(None, pdf_of(2), "invoice.pdf", hooks=person.hooks())

    assert person.asked == 1
    assert printed == 2
    assert len(PdfReader(tmp_path / "out.pdf").pages) == 2


def test_cancelling_the_print_dialog_prints_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    person = Person(None)

    assert print_pdf(None, pdf_of(2), "invoice.pdf", hooks=person.hooks()) == 0
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_pdf_is_refused_in_words(qtbot: QtBot) -> None:
    with pytest.raises(PrintError, match="could not be read for printing"):
        load_pdf(b"not a pdf at all")


def test_the_preview_shows_every_page_and_prints_them(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = preview_dialog(None, pdf_of(3), "statement.pdf")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    preview = dialog.findChild(QPrintPreviewWidget)
    assert preview is not None
    preview.updatePreview()

    assert preview.pageCount() == 3
    # Printing from the preview's tool bar paints the same pages on the chosen printer.
    target = tmp_path / "from-preview.pdf"
    printer = to_file(dialog.printer(), target)
    preview.print_()
    assert printer.outputFileName() == str(target)
    assert len(PdfReader(target).pages) == 3


def test_the_pdf_button_offers_preview_and_print(qtbot: QtBot, tmp_path: Path) -> None:
    person = Person(tmp_path / "button.pdf")
    button = PdfButton(lambda: (pdf_of(2), "receipt.pdf"), text="Receipt PDF")
    qtbot.addWidget(button)
    button.hooks = person.hooks()
    beside = button.print_button()
    qtbot.addWidget(beside)

    texts = [action.text() for action in button.menu().actions()]
    button.preview_action.trigger()
    beside.click()

    assert texts == ["Open in PDF viewer", "Print preview…", "Print…", "Save as…"]
    assert len(person.previews) == 1 and person.previews[0].property("pageCount") == 2
    assert person.asked == 1
    assert len(PdfReader(tmp_path / "button.pdf").pages) == 2


def test_print_beside_a_disabled_document_is_disabled(qtbot: QtBot) -> None:
    button = PdfButton(lambda: (pdf_of(1), "x.pdf"))
    qtbot.addWidget(button)
    beside = button.print_button()
    qtbot.addWidget(beside)

    button.setEnabled(False)
    assert not beside.isEnabled()
    button.setEnabled(True)
    assert beside.isEnabled()


def test_a_document_that_cannot_be_read_is_not_printed_and_says_why(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda _parent, _title, text: said.append(text))
    person = Person(None)
    button = PdfButton(lambda: (b"%PDF-broken", "x.pdf"))
    qtbot.addWidget(button)
    button.hooks = person.hooks()

    button.print_pdf()

    assert person.asked == 0
    assert said and "could not be read for printing" in said[0]


# --- Print… in each place a document is made ----------------------------------------------


@pytest.fixture
def context(demo_db: Database) -> AppContext:
    return AppContext(demo_db, Actor(username="print-admin", role=Role.ADMIN))


def menu_texts(button: QToolButton) -> list[str]:
    return [action.text() for action in button.menu().actions()]


def busiest(context: AppContext) -> int:
    """The self-pay patient with the most ledger entries (a superbill is theirs to send)."""
    insured = select(LedgerEntry.patient_id).where(LedgerEntry.payer_id.is_not(None))
    with context.db.reading() as session:
        patient = session.scalar(
            select(LedgerEntry.patient_id).where(LedgerEntry.patient_id.not_in(insured))
            .group_by(LedgerEntry.patient_id)
            .order_by(func.count().desc(), LedgerEntry.patient_id).limit(1))
    assert patient is not None
    return int(patient)


def test_the_day_sheet_prints_from_today(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    from ketadesk.ui.today import TodayView

    view = TodayView(context, clock=lambda: datetime(2026, 12, 7, 15, 0, tzinfo=UTC))
    qtbot.addWidget(view)
    person = Person(tmp_path / "day-sheet.pdf")
    view.day_sheet_button.hooks = person.hooks()
    made, _name = view._day_sheet()

    qtbot.mouseClick(view.day_sheet_print, LEFT)

    assert "Print…" in menu_texts(view.day_sheet_button)
    assert person.asked == 1
    assert len(PdfReader(tmp_path / "day-sheet.pdf").pages) == len(
        PdfReader(io.BytesIO(made)).pages)
    assert "Day sheet" in (PdfReader(io.BytesIO(made)).metadata or {}).get("/Title", "")


def test_an_invoice_prints_from_its_detail(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    from ketadesk.ui.billing.invoices import InvoicesTab

    with context.db.reading() as session:
        invoice_id = session.scalar(select(func.min(Invoice.id)))
    tab = InvoicesTab(context, today=lambda: DEMO_DAY)
    qtbot.addWidget(tab)
    assert invoice_id is not None and tab.open_invoice(invoice_id)
    person = Person(tmp_path / "invoice.pdf")
    tab.detail.pdf_button.hooks = person.hooks()

    qtbot.mouseClick(tab.detail.print_button, LEFT)

    made, name = tab.detail.pdf_button.build()
    assert person.asked == 1 and name.endswith(".pdf")
    assert len(PdfReader(tmp_path / "invoice.pdf").pages) == len(PdfReader(io.BytesIO(made)).pages)


def test_the_charts_superbill_prints_after_its_date_range(
    qtbot: QtBot, context: AppContext, tmp_path: Path
) -> None:
    from ketadesk.ui.billing.superbills import RangeDialog
    from ketadesk.ui.patients.ledger import LedgerPanel

    panel = LedgerPanel(context, today=lambda: DEMO_DAY)
    qtbot.addWidget(panel)
    panel.set_patient(busiest(context))
    person = Person(tmp_path / "superbill.pdf")
    panel.set_print_hooks(person.hooks())
    printing = next(a for a in panel.superbill_button.menu().actions() if a.text() == "Print…")

    printing.trigger()
    dialog = panel.dialog
    assert isinstance(dialog, RangeDialog)
    dialog.accept()

    assert person.asked == 1
    assert len(PdfReader(tmp_path / "superbill.pdf").pages) >= 1
    for button in (panel.statement_button, panel.receipt_button):
        assert {"Print preview…", "Print…"} <= set(menu_texts(button))


def test_print_sits_beside_estimates_superbills_and_the_receipt(
    qtbot: QtBot, context: AppContext
) -> None:
    from ketadesk.ui.billing.estimates import EstimatesTab
    from ketadesk.ui.billing.payment_dialog import TakePaymentDialog
    from ketadesk.ui.billing.superbills import SuperbillsTab

    estimates = EstimatesTab(context)
    superbills = SuperbillsTab(context)
    payment = TakePaymentDialog(context, busiest(context))
    for widget in (estimates, superbills, payment):
        qtbot.addWidget(widget)

    assert estimates.print_button.text() == "Print…"
    assert "Print…" in menu_texts(estimates.pdf_button)
    assert superbills.print_button.text() == "Print…"
    assert superbills.preview_button.text() == "Print preview…"
    assert {"Print preview…", "Print…"} <= set(menu_texts(payment.receipt_button))
