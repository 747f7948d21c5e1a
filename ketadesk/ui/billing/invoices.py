"""The "Invoices" tab: find an invoice, read it, issue it, take a payment on it, void it.

Flow: the list on top reads :func:`ketadesk.billing.invoices.search_invoices`, newest first,
narrowed by state (draft, issued, partly paid, paid, void) and by what is typed in the search
box — an invoice number (whole or a part of it), an MRN, or a patient's name — searched in
SQL over every invoice. It reads a page of rows at a time: scrolling near the end reads the
next page, and the count beside the search says how many match in all. A handle between the
list and the invoice lets the person size the split, which is remembered. Selecting a row reads
:func:`~ketadesk.billing.invoices.invoice_view` (an audited read) into :class:`InvoiceDetail`
below it: the lines with what was paid and adjusted on each, the payments, the totals and
the balance due.

The detail's buttons each do one thing in one transaction: Issue (a draft), Take payment
(:class:`~ketadesk.ui.billing.payment_dialog.TakePaymentDialog` with this invoice chosen),
Adjust (against its lines), Reverse payment (the one selected), Void (with a reason: an
issued invoice's charges are reversed), and PDF (open or save). "New invoice…" picks a
patient by MRN or name and makes a draft of their posted charges not yet invoiced. After any
change the list and the detail are read again. Refusals are said in words under the detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing.invoices import (
    InvoicePage,
    InvoiceRow,
    create_invoice,
    get_invoice,
    invoice_view,
    issue_invoice,
    search_invoices,
    void_invoice,
)
from ketadesk.billing.views import InvoiceState, InvoiceView
from ketadesk.clinic.patients import patient_page
from ketadesk.clinic.validation import parse_date
from ketadesk.errors import FieldProblem, InvalidValue, NotFound, ValidationError
from ketadesk.money import ZERO
from ketadesk.ui.billing import (
    ID_ROLE,
    Clock,
    Notice,
    allowed,
    append_rows,
    fill_table,
    guard,
    layout_settings,
    make_table,
    more_item,
    select_key,
    selected_keys,
)
from ketadesk.ui.billing.charges import fill_locations
from ketadesk.ui.billing.corrections import (
    AdjustmentDialog,
    CorrectionDialog,
    ReasonDialog,
    ReversalDialog,
)
from ketadesk.ui.billing.payment_dialog import TakePaymentDialog
from ketadesk.ui.billing.pdf import Opener, PdfButton
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import balance_text, count_text, dollars, us_date
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.style import ACCENT, LINE, set_role

SEARCH_DELAY_MS = 200
PAGE_SIZE = 200  # rows read at a time; scrolling near the end reads the next page
FETCH_MARGIN = 5  # rows from the end at which the next page is read
LIST_MIN_HEIGHT = 150  # about four rows
DETAIL_MIN_HEIGHT = 330  # the buttons, a few lines and the totals card
SPLIT_KEY = "invoices/split"
PICKER_ROWS = 20  # patients listed in "New invoice…"; the rest are counted
STATE_CHOICES: tuple[tuple[InvoiceState | None, str], ...] = (
    (None, "All states"),
    *((state, state.label) for state in InvoiceState),
)
LIST_COLUMNS = (
    "Number",
    "Patient",
    "MRN",
    "Location",
    "Issued",
    "Due",
    "State",
    "Total",
    "Balance due",
)
LINE_COLUMNS = ("Date", "Code", "Service", "Units", "Amount", "Paid", "Adjusted", "Balance")
PAYMENT_COLUMNS = ("Date", "Method", "Reference", "Amount")
PAYABLE = frozenset({InvoiceState.ISSUED, InvoiceState.PARTLY_PAID})


# --- reading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoice:
    """The invoice shown in the detail: its view and whose it is."""

    id: int
    patient_id: int
    view: InvoiceView


def load_invoice(session: Session, actor: Actor, invoice_id: int) -> OpenInvoice:
    """The invoice for the detail (:func:`invoice_view` checks and audits the read)."""
    view = invoice_view(session, actor, invoice_id)
    return OpenInvoice(invoice_id, get_invoice(session, invoice_id).patient_id, view)


def invoice_pdf(view: InvoiceView) -> tuple[bytes, str]:
    from ketadesk.documents.invoice import render_invoice
    from ketadesk.documents.letterhead import document_filename

    return render_invoice(view), document_filename("invoice", view)


def list_cells(row: InvoiceRow) -> tuple[str, ...]:
    return (
        row.number,
        row.patient_name,
        row.mrn,
        row.location_code,
        us_date(row.issued_on),
        us_date(row.due_on),
        row.state.label,
        dollars(row.total),
        dollars(row.balance_due),
    )


# --- the open invoice ------------------------------------------------------------------


def _labelled(
    grid: QGridLayout, row: int, caption: str, name: str, *, bold: bool = False
) -> QLabel:
    label = QLabel(caption)
    set_role(label, "muted")
    value = QLabel()
    value.setObjectName(name)
    value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        value.setStyleSheet("font-weight: 600;")
        label.setStyleSheet("font-weight: 600;")
    grid.addWidget(label, row, 0)
    grid.addWidget(value, row, 1)
    return value


class InvoiceDetail(QWidget):
    """One invoice: heading, lines, payments, totals, and the actions on it."""

    changed = Signal()  # the invoice or the ledger changed; read again

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock,
        opener: Opener | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today
        self.opener = opener
        self.shown: OpenInvoice | None = None
        self.dialog: QDialog | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 0, 0, 0)
        self.title = QLabel("Select an invoice to see it here.")
        self.title.setObjectName("detailName")
        self.title.setWordWrap(True)
        column.addWidget(self.title)
        self.facts = QLabel()
        self.facts.setObjectName("invoiceFacts")
        self.facts.setWordWrap(True)
        set_role(self.facts, "muted")
        column.addWidget(self.title)
        column.addWidget(self.facts)
        self.void_note = QLabel()
        self.void_note.setObjectName("voidNote")
        self.void_note.setWordWrap(True)
        set_role(self.void_note, "warning")
        self.void_note.hide()
        column.addWidget(self.void_note)
        column.addLayout(self._buttons())
        self.lines = make_table(
            LINE_COLUMNS, money_columns=(4, 5, 6, 7), stretch=2, object_name="invoiceLines"
        )
        lines_box = QVBoxLayout()
        lines_box.addWidget(self._titled("Lines"))
        lines_box.addWidget(self.lines, 1)
        self.payments = make_table(
            PAYMENT_COLUMNS, money_columns=(3,), stretch=2, object_name="invoicePayments"
        )
        self.payments.itemSelectionChanged.connect(self._enable)
        money_box = QVBoxLayout()
        money_box.addWidget(self._titled("Payments"))
        money_box.addWidget(self.payments, 1)
        money_box.addWidget(self._totals())
        money = QWidget()
        money.setLayout(money_box)
        money_box.setContentsMargins(0, 0, 0, 0)
        money.setFixedWidth(340)
        body = QHBoxLayout()
        body.addLayout(lines_box, 1)
        body.addWidget(money)
        column.addLayout(body, 1)
        self.notice = Notice()
        self.notice.setObjectName("invoiceNotice")
        column.addWidget(self.notice)
        self._enable()

    @staticmethod
    def _titled(text: str) -> QLabel:
        label = QLabel(text.upper())
        label.setObjectName("sectionTitle")
        return label

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        actor = self.context.actor
        self.issue_button = QPushButton("Issue")
        self.issue_button.setObjectName("issueInvoice")
        self.issue_button.clicked.connect(self.issue)
        guard(
            self.issue_button,
            actor,
            Permission.CHARGE_REVIEW,
            "Date the invoice, set its due date and apply any credit to it.",
        )
        self.pay_button = QPushButton("Take payment…")
        self.pay_button.setObjectName("invoicePayment")
        set_role(self.pay_button, "primary")
        self.pay_button.clicked.connect(self.take_payment)
        guard(self.pay_button, actor, Permission.PAYMENT_TAKE)
        self.adjust_button = QPushButton("Adjust…")
        self.adjust_button.setObjectName("adjustInvoice")
        self.adjust_button.clicked.connect(self.adjust)
        guard(
            self.adjust_button,
            actor,
            Permission.MONEY_CORRECT,
            "A discount, sliding scale, courtesy or write-off on this invoice's charges.",
        )
        self.reverse_button = QPushButton("Reverse payment…")
        self.reverse_button.setObjectName("reversePayment")
        self.reverse_button.clicked.connect(self.reverse_payment)
        guard(
            self.reverse_button,
            actor,
            Permission.MONEY_CORRECT,
            "Undo the payment selected below (a declined card, a bounced check).",
        )
        self.void_button = QPushButton("Void…")
        self.void_button.setObjectName("voidInvoice")
        self.void_button.clicked.connect(self.void)
        guard(self.void_button, actor, Permission.MONEY_CORRECT)
        self.pdf_button = PdfButton(self._pdf, opener=self.opener)
        self.pdf_button.setObjectName("invoicePdf")
        self.pdf_button.setToolTip("Open the invoice as a PDF (the arrow: save it).")
        for button in (
            self.issue_button,
            self.pay_button,
            self.adjust_button,
            self.reverse_button,
            self.void_button,
        ):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.pdf_button)
        self.print_button = self.pdf_button.print_button()
        row.addWidget(self.print_button)
        return row

    def _totals(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("card")
        grid = QGridLayout(frame)
        grid.setContentsMargins(14, 8, 14, 8)
        grid.setColumnStretch(0, 1)
        self.total_label = _labelled(grid, 0, "Total", "invoiceTotal")
        self.paid_label = _labelled(grid, 1, "Paid", "invoicePaid")
        self.adjusted_label = _labelled(grid, 2, "Adjusted", "invoiceAdjusted")
        self.due_label = _labelled(grid, 3, "Balance due", "invoiceDue", bold=True)
        self.account_label = _labelled(grid, 4, "Account balance", "accountBalance")
        return frame

    # --- showing -----------------------------------------------------------------------

    def show_invoice(self, shown: OpenInvoice | None) -> None:
        """Fill the panel with ``shown`` (or empty it)."""
        self.shown = shown
        if shown is None:
            self.title.setText("Select an invoice to see it here.")
            self.facts.clear()
            self.void_note.hide()
            fill_table(self.lines, [], keep_selection=False)
            fill_table(self.payments, [], keep_selection=False)
            for label in (
                self.total_label,
                self.paid_label,
                self.adjusted_label,
                self.due_label,
                self.account_label,
            ):
                label.clear()
            self._enable()
            return
        view = shown.view
        self.title.setText(f"Invoice {view.number} · {view.state.label}")
        self.facts.setText(self._facts(view))
        self.void_note.setText(f"Void: {view.void_reason}" if view.void_reason else "Void")
        self.void_note.setVisible(view.state is InvoiceState.VOID)
        fill_table(
            self.lines,
            [
                (
                    line.entry_id,
                    (
                        us_date(line.service_date),
                        line.code,
                        line.description,
                        str(line.units),
                        dollars(line.amount),
                        dollars(line.paid),
                        dollars(line.adjusted),
                        dollars(line.balance),
                    ),
                )
                for line in view.lines
            ],
            keep_selection=False,
        )
        fill_table(
            self.payments,
            [
                (
                    p.entry_id,
                    (
                        us_date(p.on),
                        p.method.label if p.method else p.description,
                        p.reference,
                        dollars(p.amount),
                    ),
                )
                for p in view.payments
            ],
        )
        self.total_label.setText(dollars(view.total))
        self.paid_label.setText(dollars(view.paid))
        self.adjusted_label.setText(dollars(view.adjusted))
        self.due_label.setText(dollars(view.balance_due))
        self.account_label.setText(balance_text(view.account_balance))
        self._enable()

    @staticmethod
    def _facts(view: InvoiceView) -> str:
        parts = [f"{view.patient.name} · MRN {view.patient.mrn}"]
        if view.period_from and view.period_to:
            parts.append(f"Services {us_date(view.period_from)} – {us_date(view.period_to)}")
        if view.issued_on:
            parts.append(f"Issued {us_date(view.issued_on)}")
        if view.due_on:
            parts.append(f"Due {us_date(view.due_on)}")
        return "  ·  ".join(parts)

    def _enable(self) -> None:
        state = self.shown.view.state if self.shown else None
        due = self.shown.view.balance_due if self.shown else ZERO
        wants = {
            self.issue_button: state is InvoiceState.DRAFT,
            self.pay_button: state in PAYABLE,
            self.adjust_button: state in PAYABLE and due > ZERO,
            self.reverse_button: state is not None and bool(selected_keys(self.payments)),
            self.void_button: state is not None and state is not InvoiceState.VOID,
        }
        for button, wanted in wants.items():
            button.setEnabled(allowed(button) and wanted)
        self.pdf_button.setEnabled(self.shown is not None)

    # --- acting ------------------------------------------------------------------------

    def _pdf(self) -> tuple[bytes, str]:
        if self.shown is None:
            raise NotFound("select an invoice first")
        return invoice_pdf(self.shown.view)

    def _done(self, text: str) -> None:
        self.notice.say(text)
        self.changed.emit()

    def _open(self, dialog: QDialog) -> QDialog:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()
        return dialog

    def issue(self) -> bool:
        """Issue the draft shown; say when it is due (and any credit applied)."""
        if self.shown is None:
            return False
        invoice_id, actor = self.shown.id, self.context.actor

        def run() -> tuple[str, date | None]:
            with self.context.db.transaction() as session:
                invoice = issue_invoice(session, actor, invoice_id, on=self.today())
                return invoice.number, invoice.due_on

        done = self.notice.attempt(run)
        if done is not None:
            self._done(f"Issued invoice {done[0]}; due {us_date(done[1])}.")
        return done is not None

    def take_payment(self) -> TakePaymentDialog | None:
        if self.shown is None:
            return None
        number = self.shown.view.number
        dialog = TakePaymentDialog(
            self.context,
            self.shown.patient_id,
            invoice_id=self.shown.id,
            today=self.today,
            opener=self.opener,
            parent=self,
        )
        dialog.paid.connect(lambda _entry: self._done(f"Payment taken on invoice {number}."))
        self._open(dialog)
        return dialog

    def adjust(self) -> CorrectionDialog | None:
        if self.shown is None:
            return None
        number = self.shown.view.number
        dialog = AdjustmentDialog(
            self.context,
            self.shown.patient_id,
            invoice_id=self.shown.id,
            today=self.today,
            parent=self,
        )
        dialog.saved.connect(lambda _entry: self._done(f"Adjusted invoice {number}."))
        self._open(dialog)
        return dialog

    def reverse_payment(self) -> CorrectionDialog | None:
        chosen = selected_keys(self.payments)
        if self.shown is None or not chosen:
            return None
        dialog = ReversalDialog(self.context, int(str(chosen[0])), today=self.today, parent=self)
        dialog.saved.connect(
            lambda _entry: self._done("Payment reversed; what it paid is owed again.")
        )
        self._open(dialog)
        return dialog

    def void(self) -> CorrectionDialog | None:
        if self.shown is None:
            return None
        invoice_id, view, actor = self.shown.id, self.shown.view, self.context.actor

        def run(session: Session, reason: str) -> str:
            return void_invoice(session, actor, invoice_id, reason, on=self.today()).number

        warning = (
            "Its charges are reversed on the ledger, and whatever paid them becomes "
            "credit on the account."
            if view.state is not InvoiceState.DRAFT
            else "It is a draft: nothing on the ledger changes."
        )
        dialog = ReasonDialog(
            self.context,
            f"Void invoice {view.number}",
            f"<b>Void invoice {view.number}</b> for {view.patient.name} "
            f"({dollars(view.total)})?<br>{warning}",
            run,
            ok_text="Void invoice",
            placeholder="e.g. billed to the wrong patient",
            parent=self,
        )
        dialog.saved.connect(lambda number: self._done(f"Voided invoice {number}."))
        self._open(dialog)
        return dialog


# --- a new invoice ---------------------------------------------------------------------


class NewInvoiceDialog(CorrectionDialog):
    """Pick a patient (MRN or name) and, if wanted, a date range; make a draft invoice."""

    ok_text = "Create draft"
    permission = Permission.CHARGE_REVIEW

    def __init__(
        self, context: AppContext, *, today: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(
            context,
            "New invoice",
            "Invoice a patient's posted charges that are not on an invoice yet.",
            today=today,
            parent=parent,
        )
        self.search_now()

    def build(self, form: FieldForm) -> None:
        self.search = form.add_text(
            "patient_search", "Patient", placeholder="MRN or name", required=True
        )
        self.search.textChanged.connect(lambda _text: self.search_now())
        self.results = QListWidget()
        self.results.setObjectName("patientResults")
        self.results.setFixedHeight(150)
        form.layout_.addRow("", self.results)
        form.add_text("date_from", "Charges from", placeholder="optional, e.g. 12/01/2026")
        form.add_text("date_to", "Charges to", placeholder="optional, e.g. 12/31/2026")

    def search_now(self) -> None:
        """List the first patients matching what is typed (saying how many more match);
        select the first."""
        text = self.search.text()
        with self.context.db.reading() as session:
            found = patient_page(session, self.context.actor, text, limit=PICKER_ROWS)
        self.results.clear()
        for row in found.rows:
            item = QListWidgetItem(
                f"{row.display_name} · MRN {row.mrn} · born {us_date(row.date_of_birth)}",
                self.results,
            )
            item.setData(ID_ROLE, row.id)
        if found.more:
            self.results.addItem(more_item(found.more))
        if found.rows:
            self.results.setCurrentRow(0)

    def chosen_patient(self) -> int | None:
        item = self.results.currentItem()
        key = item.data(ID_ROLE) if item is not None else None
        return int(key) if key is not None else None

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        patient_id = self.chosen_patient()
        if patient_id is None:
            problems.append(FieldProblem("patient_search", "choose the patient in the list"))
        date_from = _optional_date(values, "date_from", problems)
        date_to = _optional_date(values, "date_to", problems)
        if problems or patient_id is None:
            raise ValidationError(problems)
        invoice = create_invoice(
            session,
            self.context.actor,
            patient_id=patient_id,
            today=self.today(),
            date_from=date_from,
            date_to=date_to,
        )
        return invoice.id


def _optional_date(
    values: Mapping[str, object], name: str, problems: list[FieldProblem]
) -> date | None:
    text = str(values.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_date(text)
    except InvalidValue as error:
        problems.append(FieldProblem(name, str(error)))
        return None


# --- the tab ---------------------------------------------------------------------------


class InvoicesTab(QWidget):
    """Search and filter on top; the list on the left and the open invoice on the right."""

    changed = Signal()

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock | None = None,
        opener: Opener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today or date.today
        self.rows: list[InvoiceRow] = []
        self.total = 0  # how many invoices match, over every page
        self.dialog: NewInvoiceDialog | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.search_again)
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.addLayout(self._toolbar())
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("invoiceSplit")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(9)
        self.splitter.setStyleSheet(  # a visible grip: the page's own handles are invisible
            f"QSplitter::handle:vertical {{ background: {LINE}; margin: 4px 0; }}"
            f" QSplitter::handle:vertical:hover {{ background: {ACCENT}; }}"
        )
        self.table = make_table(
            LIST_COLUMNS, money_columns=(7, 8), stretch=1, object_name="invoiceList"
        )
        self.table.setMinimumHeight(LIST_MIN_HEIGHT)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.splitter.addWidget(self.table)
        self.detail = InvoiceDetail(context, today=self.today, opener=opener)
        self.detail.setMinimumHeight(DETAIL_MIN_HEIGHT)
        self.detail.changed.connect(self._detail_changed)
        self.splitter.addWidget(self.detail)
        # The list and the detail share what the window gives beyond their minimums; the
        # handle between them lets the person size the split, and the split is remembered.
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setToolTip("Drag to give the list or the invoice more room.")
        self.splitter.splitterMoved.connect(lambda _pos, _index: self._remember_split())
        column.addWidget(self.splitter, 1)
        self._split_restored = False
        self.refresh()

    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("invoiceSearch")
        self.search.setPlaceholderText("Search by invoice number, MRN or patient name")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self.timer.start())
        self.search.returnPressed.connect(self.search_again)
        row.addWidget(self.search, 1)
        self.state = QComboBox()
        self.state.setObjectName("invoiceState")
        for value, text in STATE_CHOICES:
            self.state.addItem(text, value)
        self.state.currentIndexChanged.connect(lambda _i: self.search_again())
        row.addWidget(self.state)
        self.location = QComboBox()
        self.location.setObjectName("invoiceLocation")
        fill_locations(self.location, self.context)
        self.location.currentIndexChanged.connect(lambda _i: self.search_again())
        row.addWidget(self.location)
        self.count = QLabel()
        self.count.setObjectName("invoiceCount")
        set_role(self.count, "muted")
        row.addWidget(self.count)
        self.new_button = QPushButton("New invoice…")
        self.new_button.setObjectName("newInvoice")
        set_role(self.new_button, "primary")
        self.new_button.clicked.connect(self.new_invoice)
        guard(
            self.new_button,
            self.context.actor,
            Permission.CHARGE_REVIEW,
            "Invoice a patient's posted charges.",
        )
        row.addWidget(self.new_button)
        return row

    # --- reading -----------------------------------------------------------------------

    def _page(self, limit: int, offset: int) -> InvoicePage:
        state = self.state.currentData()
        location = self.location.currentData()
        with self.context.db.reading() as session:
            return search_invoices(
                session,
                self.context.actor,
                self.search.text(),
                states=[InvoiceState(state)] if state else None,
                location_id=int(location) if location is not None else None,
                limit=limit,
                offset=offset,
            )

    def refresh(self) -> None:
        """Read the list again — as many rows as were loaded, at least a page — keeping the
        selection, with the true count; then the open invoice with it."""
        self.timer.stop()
        page = self._page(max(PAGE_SIZE, len(self.rows)), 0)
        self.rows = list(page.rows)
        self.total = page.total
        self.table.blockSignals(True)
        fill_table(self.table, [(row.id, list_cells(row)) for row in self.rows])
        self.table.blockSignals(False)
        self._count()
        self._selected()

    def search_again(self) -> None:
        """The search or a filter changed: read from the first page (a refresh after a change
        keeps as many rows as were read, so the place is not lost)."""
        self.rows = []
        self.refresh()

    def more(self) -> bool:
        """Whether invoices beyond the loaded rows match."""
        return len(self.rows) < self.total

    def fetch_more(self) -> bool:
        """Read the next page below the loaded rows; False when there was none."""
        if not self.more():
            return False
        page = self._page(PAGE_SIZE, len(self.rows))
        self.total = page.total
        if not page.rows:
            return False
        first = len(self.rows)
        self.rows.extend(page.rows)
        self.table.blockSignals(True)
        append_rows(self.table, first, [(row.id, list_cells(row)) for row in page.rows])
        self.table.blockSignals(False)
        self._count()
        return True

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        if value >= bar.maximum() - FETCH_MARGIN and self.more():
            self.fetch_more()

    def _count(self) -> None:
        total = self.total
        text = count_text(total, "invoice", "invoices")
        partial = len(self.rows) < total
        if partial:
            text += f" ({len(self.rows):,} shown)"
        self.count.setText(text)
        self.count.setToolTip("Scroll down the list to read the rest." if partial else "")

    def selected_id(self) -> int | None:
        keys = selected_keys(self.table)
        return int(str(keys[0])) if keys else None

    def _selected(self) -> None:
        invoice_id = self.selected_id()
        if invoice_id is None:
            self.detail.show_invoice(None)
            return
        with self.context.db.transaction() as session:  # opening an invoice is audited
            shown = load_invoice(session, self.context.actor, invoice_id)
        self.detail.show_invoice(shown)

    def open_invoice(self, invoice_id: int) -> bool:
        """Show ``invoice_id``, clearing the search and filters if they hide it, and reading
        further pages until it is loaded."""
        if self._select_loaded(invoice_id):
            return True
        for widget in (self.search, self.state, self.location):
            widget.blockSignals(True)
        self.search.clear()
        self.state.setCurrentIndex(0)
        self.location.setCurrentIndex(0)
        for widget in (self.search, self.state, self.location):
            widget.blockSignals(False)
        self.search_again()
        return self._select_loaded(invoice_id)

    def _select_loaded(self, invoice_id: int) -> bool:
        while not select_key(self.table, invoice_id):
            if not self.fetch_more():
                return False
        return True

    # --- the split between list and detail -------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._split_restored:
            self._split_restored = True
            self._restore_split()

    def _restore_split(self) -> None:
        """The split the person last chose, else the list and the detail in even shares."""
        saved = layout_settings().value(SPLIT_KEY)
        sizes = [int(x) for x in saved] if isinstance(saved, list) else []
        height = self.splitter.height()
        if len(sizes) != 2 or min(sizes) <= 0:
            detail = max(DETAIL_MIN_HEIGHT, height * 9 // 20)  # the list gets a bit more
            list_share = max(LIST_MIN_HEIGHT, height - detail)
            sizes = [list_share, height - list_share]
        self.splitter.setSizes(sizes)

    def _remember_split(self) -> None:
        layout_settings().setValue(SPLIT_KEY, self.splitter.sizes())

    def _detail_changed(self) -> None:
        self.refresh()
        self.changed.emit()

    # --- a new invoice -----------------------------------------------------------------

    def new_invoice(self) -> NewInvoiceDialog | None:
        if not self.context.actor.can(Permission.CHARGE_REVIEW):
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = NewInvoiceDialog(self.context, today=self.today, parent=self)
        self.dialog.saved.connect(self._created)
        self.dialog.open()
        return self.dialog

    def _created(self, invoice_id: object) -> None:
        self.refresh()
        self.open_invoice(int(str(invoice_id)))
        shown = self.detail.shown
        if shown is not None:
            self.detail.notice.say(
                f"Created draft invoice {shown.view.number} "
                f"({dollars(shown.view.total)}). Check it, then issue it."
            )
        self.changed.emit()
