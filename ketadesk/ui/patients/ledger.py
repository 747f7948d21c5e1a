"""The chart's Ledger tab: the patient's money, as the front desk and billing read it.

Flow: :meth:`LedgerPanel.set_patient` remembers whose chart is open; the panel reads only
when it is shown (:meth:`LedgerPanel.refresh`), so opening a chart costs nothing for people
who never look at the money. One audited transaction (:func:`load_ledger`) copies out the
running-balance lines (:func:`ketadesk.billing.ledger.lines`), the out-of-pocket summary
(:func:`ketadesk.billing.account.account_summary`), the packages
(:func:`ketadesk.billing.packages.patient_packages`) and the patient's insurance claims
(:func:`ketadesk.billing.claims.views.list_claims`) into a frozen :class:`LedgerPage`, which
the panel draws. The account has two sides: what the patient owes (the "Balance" column) and
what insurers still owe on claims ("Insurers owe", a column shown once anything was billed
to an insurer); the claims are listed under the ledger in a small table.

The buttons call the same services as the Billing area and the command line: "Take
payment…" opens the Billing area's :class:`~ketadesk.ui.billing.payment_dialog.TakePaymentDialog`
(one transaction when it is saved; the ledger is read again at once, and when it closes);
"Statement PDF", "Year-end receipt" (for the year chosen beside it) and "Superbill…" (after
asking the visits' date range) build the document's view in a read-only session,
render the PDF and hand its bytes to :func:`~ketadesk.ui.billing.pdf.show_pdf`. A refusal
(a superbill missing the provider's NPI, nothing to bill in the range) is shown in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QBrush, QColor, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import ledger
from ketadesk.billing.account import AccountSummary, account_summary
from ketadesk.billing.claims.views import ClaimRow, list_claims
from ketadesk.billing.models import EntryKind, PackageStatus
from ketadesk.billing.packages import PackageBalance, patient_packages
from ketadesk.errors import NotFound
from ketadesk.ui.billing import Clock, guard, make_table
from ketadesk.ui.billing.claims_followup import PatientClaims
from ketadesk.ui.billing.pdf import Opener, PdfButton, deliver
from ketadesk.ui.billing.superbills import RangeDialog, pdf_button_look, superbill_pdf
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import flow_holder, wrap_words
from ketadesk.ui.format import balance_text, dollars, us_date
from ketadesk.ui.forms import attempt
from ketadesk.ui.printing import DEFAULT_HOOKS, Delivery, PrintHooks
from ketadesk.ui.style import MUTED, set_role

COLUMNS = ("Date", "Description", "Charge", "Credit", "Balance", "Insurers owe")
MONEY_COLUMNS = (2, 3, 4, 5)
INSURER_COLUMN = 5
# The chart's pane is narrow: fixed widths for dates and money, the rest for the words.
WIDTHS = {0: 86, 2: 84, 3: 84, 4: 134, 5: 108}
DESCRIPTION_ROOM = 220  # the words keep this much; else "Insurers owe" waits for a wider chart
CLAIMS_MIN_HEIGHT = 110  # the claims under the ledger: two rows at least, then it scrolls
REVERSED_INK = QColor(MUTED)
SUPERBILL_CHOICES = (
    ("Open in PDF viewer", Delivery.OPEN),
    ("Print preview…", Delivery.PREVIEW),
    ("Print…", Delivery.PRINT),
    ("Save as…", Delivery.SAVE),
)


@dataclass(frozen=True)
class LedgerPage:
    """Everything the tab shows for one patient, read in one session."""

    patient_id: int
    lines: tuple[ledger.LedgerLine, ...]
    summary: AccountSummary
    packages: tuple[PackageBalance, ...]
    claims: tuple[ClaimRow, ...] = ()

    @property
    def insured(self) -> bool:
        """Whether anything of this patient's was ever billed to an insurer."""
        return bool(self.claims) or any(line.payer_id is not None for line in self.lines)

    @property
    def years(self) -> tuple[int, ...]:
        """The years the ledger has entries in, newest first (this year when it is empty)."""
        found = {line.posted_on.year for line in self.lines} | {self.summary.year}
        return tuple(sorted(found, reverse=True))


def load_ledger(session: Session, actor: Actor, patient_id: int, today: date) -> LedgerPage:
    """The patient's ledger lines, this year's and all-time figures, and packages (the
    services check ``BILLING_VIEW`` and audit the read, so call it in a transaction)."""
    summary = account_summary(session, actor, patient_id, year=today.year)
    return LedgerPage(
        patient_id=patient_id,
        lines=tuple(ledger.lines(session, patient_id)),
        summary=summary,
        packages=tuple(patient_packages(session, actor, patient_id)),
        claims=tuple(list_claims(session, actor, patient_id=patient_id)),
    )


def description_text(line: ledger.LedgerLine) -> str:
    """What the line was, in words: its kind (charges go without), how it was paid, the
    kind of adjustment, the note, and whether it was reversed."""
    said = line.description.lower()
    kind = line.kind.label
    head = line.description
    if line.kind is not EntryKind.CHARGE and not said.startswith(kind.lower()):
        head = f"{kind}: {line.description}"
    extra = [
        line.reason.label if line.reason is not None else "",
        line.method.label if line.method is not None else "",
        line.reference,
    ]
    # Services often name the method or reason already ("Payment, Cash"): say it once.
    said += " " + line.note.lower()
    parts = [head, *(text for text in extra if text and text.lower() not in said)]
    parts += [line.note] if line.note else []
    text = " — ".join(parts)
    if line.payer_id is not None:  # the insurer's side: the patient's balance is untouched
        text = f"Insurer: {text}"
    return text + (" (reversed)" if line.reversed_by_id is not None else "")


def line_cells(line: ledger.LedgerLine) -> tuple[str, ...]:
    return (
        us_date(line.posted_on),
        description_text(line),
        dollars(line.amount) if line.amount > 0 else "",
        dollars(-line.amount) if line.amount < 0 else "",
        balance_text(line.balance),
        dollars(line.insurer_balance),
    )


def package_text(package: PackageBalance) -> str:
    """``"IV induction — 6 infusions: 5 of 6 sessions left · $2,125.00 left · expires …"``."""
    left = "session left" if package.remaining == 1 else "sessions left"
    parts = [
        f"{package.name}: {package.remaining} of {package.sessions_total} {left}",
        f"{dollars(package.value_left)} left",
        f"expires {us_date(package.expires_on)}",
    ]
    if package.status is not PackageStatus.ACTIVE:
        parts.append(package.status.label.lower())
    return " · ".join(parts)


class Figures(QFrame):
    """A card of labelled money figures: "Charged $1,200.00", "Paid $900.00", …"""

    def __init__(self, title: str, names: tuple[str, ...]) -> None:
        super().__init__()
        self.setObjectName("card")
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 8, 12, 10)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        self.title = QLabel(title.upper())
        self.title.setObjectName("sectionTitle")
        grid.addWidget(self.title, 0, 0, 1, 2)
        self.values: dict[str, QLabel] = {}
        grid.setRowStretch(len(names) + 1, 1)  # rows at the top, cards of any length alike
        for row, name in enumerate(names, start=1):
            caption = QLabel(name)
            set_role(caption, "muted")
            value = QLabel()
            value.setObjectName(f"figure_{name.lower().replace(' ', '_')}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(caption, row, 0)
            grid.addWidget(value, row, 1)
            self.values[name] = value

    def set_title(self, title: str) -> None:
        self.title.setText(title.upper())

    def show_figures(self, figures: dict[str, str]) -> None:
        for name, text in figures.items():
            self.values[name].setText(text)


FLOW = ("Charged", "Paid", "Credited", "Refunded")


class LedgerPanel(QWidget):
    """The Ledger tab of an open chart: summary, packages, buttons, running balance."""

    def __init__(
        self, context: AppContext, today: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("ledgerPanel")
        self.context = context
        self.today: Clock = today or date.today
        self.patient_id: int | None = None
        self.page: LedgerPage | None = None
        self.dialog: QDialog | None = None  # the dialog opened last (payment, date range)
        self._stale = True
        self.opener: Opener | None = None  # None: the desktop's PDF viewer
        self.last_pdf: Path | None = None  # where the last superbill was written
        self.print_hooks: PrintHooks = DEFAULT_HOOKS  # how the print dialogs are shown
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 10, 10, 10)
        column.setSpacing(10)
        column.addLayout(self._summary())
        self.packages = QLabel()
        self.packages.setObjectName("ledgerPackages")
        self.packages.setWordWrap(True)
        self.packages.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.packages)
        column.addWidget(self._buttons())
        self.table: QTableWidget = make_table(
            COLUMNS, money_columns=MONEY_COLUMNS, stretch=1, object_name="ledgerTable"
        )
        header = self.table.horizontalHeader()
        for index, width in WIDTHS.items():
            header.setSectionResizeMode(index, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(index, width)
        # Wrapped descriptions need their rows measured again whenever the width changes.
        wrap_words(self.table)
        self.table.viewport().installEventFilter(self)
        self.claims = PatientClaims()
        self.claims.setMinimumHeight(CLAIMS_MIN_HEIGHT)
        self.claims.hide()  # self-pay patients: nothing about insurers
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("ledgerClaimsSplit")
        split.setChildrenCollapsible(False)
        split.addWidget(self.table)
        split.addWidget(self.claims)
        split.setStretchFactor(0, 3)  # the ledger gets most of the room
        split.setStretchFactor(1, 1)
        column.addWidget(split, 1)

    # --- building --------------------------------------------------------------------

    def _summary(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(10)
        self.owed = Figures(
            "Balance", ("Still owed", "Credit", "Prepaid packages", "Insurers owe")
        )
        self.year = Figures("This year", FLOW)
        self.total = Figures("In total", FLOW)
        for card in (self.owed, self.year, self.total):
            # Each card at least as wide as its longest caption and figure: never "$2,400.("
            card.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
            row.addWidget(card, 1)
        return row

    def _buttons(self) -> QWidget:
        """The account's actions, on a second line when the chart is narrow (a laptop)."""
        holder, row = flow_holder()
        self.pay_button = QPushButton("Take payment…")
        self.pay_button.setObjectName("ledgerTakePayment")
        set_role(self.pay_button, "primary")
        guard(self.pay_button, self.context.actor, Permission.PAYMENT_TAKE)
        self.pay_button.clicked.connect(self.take_payment)
        self.statement_button = PdfButton(self._statement, text="Statement PDF")
        self.statement_button.setObjectName("ledgerStatement")
        self.statement_button.setToolTip("The account as of today: charges, credits, aging")
        self.receipt_year = QComboBox()
        self.receipt_year.setObjectName("ledgerReceiptYear")
        self.receipt_year.setToolTip("The year the receipt covers")
        self.receipt_year.setFixedWidth(76)
        self.receipt_button = PdfButton(self._year_receipt, text="Year-end receipt")
        self.receipt_button.setObjectName("ledgerYearReceipt")
        self.receipt_button.setToolTip(
            "A PDF of every payment of the chosen year, for HSA/FSA and tax use"
        )
        self.superbill_button = QToolButton()
        self.superbill_button.setText("Superbill…")
        self.superbill_button.setObjectName("ledgerSuperbill")
        self.superbill_button.setToolTip(
            "Visits of a date range, for the patient to send to an insurer out of network"
        )
        self.superbill_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        menu = QMenu(self.superbill_button)
        for text, how in SUPERBILL_CHOICES:
            action = menu.addAction(text)
            action.triggered.connect(lambda _checked=False, how=how: self.superbill(how))
        self.superbill_button.setMenu(menu)
        self.superbill_button.clicked.connect(lambda: self.superbill())
        for button in (self.statement_button, self.receipt_button, self.superbill_button):
            pdf_button_look(button)
        row.addWidget(self.pay_button)
        row.addWidget(self.statement_button)
        receipt = QWidget()  # the year stays beside its receipt when the row wraps
        pair = QHBoxLayout(receipt)
        pair.setContentsMargins(0, 0, 0, 0)
        pair.setSpacing(6)
        pair.addWidget(self.receipt_year)
        pair.addWidget(self.receipt_button)
        row.addWidget(receipt)
        row.addWidget(self.superbill_button)
        return holder

    # --- reading ---------------------------------------------------------------------

    def set_patient(self, patient_id: int) -> None:
        """Show ``patient_id``'s ledger: now if the tab is on screen, else when it is shown."""
        if patient_id != self.patient_id:
            self.page = None
            self.table.setRowCount(0)
        self.patient_id = patient_id
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Read the open patient's ledger again and draw it."""
        patient_id = self.patient_id
        if patient_id is None:
            return
        today = self.today()

        def read() -> LedgerPage:
            with self.context.db.transaction() as session:  # the read is audited
                return load_ledger(session, self.context.actor, patient_id, today)

        page = attempt(self, read)
        if page is None:
            return
        self._stale = False
        self.page = page
        self._draw(page)

    def _draw(self, page: LedgerPage) -> None:
        s = page.summary
        self.owed.show_figures(
            {
                "Still owed": dollars(s.owed),
                "Credit": dollars(s.credit),
                "Prepaid packages": dollars(s.unapplied_prepayments),
                "Insurers owe": dollars(s.insurers_owe),
            }
        )
        self.year.set_title(f"This year ({s.year})")
        self.year.show_figures(
            {
                "Charged": dollars(s.charged_year),
                "Paid": dollars(s.paid_year),
                "Credited": dollars(s.adjusted_year),
                "Refunded": dollars(s.refunded_year),
            }
        )
        self.total.show_figures(
            {
                "Charged": dollars(s.charged_total),
                "Paid": dollars(s.paid_total),
                "Credited": dollars(s.adjusted_total),
                "Refunded": dollars(s.refunded_total),
            }
        )
        if page.packages:
            self.packages.setText(
                "Packages:\n" + "\n".join(f"• {package_text(p)}" for p in page.packages)
            )
        else:
            self.packages.setText("No packages.")
        set_role(self.packages, "muted" if not page.packages else "")
        self._fill_years(page.years)
        self._fill_lines(page.lines)
        self._insurer_column()
        self.claims.show_claims(page.claims)
        self.claims.setVisible(page.insured)

    def _fill_years(self, years: tuple[int, ...]) -> None:
        chosen = self.receipt_year.currentData()
        self.receipt_year.blockSignals(True)
        self.receipt_year.clear()
        for year in years:
            self.receipt_year.addItem(str(year), year)
        index = self.receipt_year.findData(chosen)
        self.receipt_year.setCurrentIndex(index if index >= 0 else 0)
        self.receipt_year.blockSignals(False)

    def _fill_lines(self, lines: tuple[ledger.LedgerLine, ...]) -> None:
        table = self.table
        table.setRowCount(0)
        table.setRowCount(len(lines))
        for row, line in enumerate(lines):
            closed = line.reversed_by_id is not None or line.kind is EntryKind.REVERSAL
            who = f"Entered by {line.created_by}" if line.created_by else ""
            owe = line.insurer_balance
            insurers = f"Insurers owe {dollars(owe)}" if owe else ""
            for column, text in enumerate(line_cells(line)):
                item = QTableWidgetItem(text)
                extra = insurers if column == 4 else ""  # when the column is hidden
                item.setToolTip("\n".join(part for part in (text, extra, who) if part))
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, line.entry_id)
                if column in MONEY_COLUMNS:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if closed:
                    item.setForeground(QBrush(REVERSED_INK))
                table.setItem(row, column, item)
        table.resizeRowsToContents()  # long descriptions wrap instead of being cut
        if lines:
            table.scrollToBottom()  # the newest entries and today's balance

    def _insurer_column(self) -> None:
        """Show "Insurers owe" for a patient billed to insurers when the words keep their
        room beside it (the Balance card says the total whatever the width)."""
        fixed = sum(WIDTHS.values())
        roomy = self.table.viewport().width() >= fixed + DESCRIPTION_ROOM
        insured = self.page is not None and self.page.insured
        self.table.setColumnHidden(INSURER_COLUMN, not (insured and roomy))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._insurer_column()
        return super().eventFilter(watched, event)

    # --- what tests and other views read ---------------------------------------------

    def balance_texts(self) -> list[str]:
        """The Balance column, top to bottom, as shown."""
        items = [self.table.item(row, 4) for row in range(self.table.rowCount())]
        return [item.text() if item is not None else "" for item in items]

    # --- acting ----------------------------------------------------------------------

    def take_payment(self) -> None:
        """Open the payment dialog for this patient; read the ledger again when it closes."""
        if self.patient_id is None or not self.context.actor.can(Permission.PAYMENT_TAKE):
            return
        from ketadesk.ui.billing.payment_dialog import TakePaymentDialog

        dialog = TakePaymentDialog(
            self.context, self.patient_id, today=self.today, opener=self.opener, parent=self
        )
        dialog.paid.connect(lambda _entry_id: self.refresh())  # the dialog stays open
        dialog.finished.connect(lambda _result: self.refresh())
        self._show_dialog(dialog)

    def set_opener(self, opener: Opener | None) -> None:
        """Open PDFs with ``opener`` instead of the desktop's viewer (tests, screenshots)."""
        self.opener = opener
        for button in (self.statement_button, self.receipt_button):
            button.opener = opener

    def set_print_hooks(self, hooks: PrintHooks) -> None:
        """Show the print dialog and preview through ``hooks`` (tests)."""
        self.print_hooks = hooks
        for button in (self.statement_button, self.receipt_button):
            button.hooks = hooks

    def _statement(self) -> tuple[bytes, str]:
        """The patient's statement as of today."""
        from ketadesk.billing.account import statement_view
        from ketadesk.documents.letterhead import document_filename
        from ketadesk.documents.statement import render_statement

        patient_id, today = self._patient(), self.today()
        with self.context.db.transaction() as session:  # the read is audited
            view = statement_view(session, self.context.actor, patient_id, on=today)
        return render_statement(view), document_filename("statement", view)

    def _year_receipt(self) -> tuple[bytes, str]:
        """Every payment of the chosen year, for HSA/FSA and tax use."""
        from ketadesk.billing.account import year_receipt
        from ketadesk.documents.letterhead import document_filename
        from ketadesk.documents.receipt import render_receipt

        patient_id = self._patient()
        year = int(self.receipt_year.currentData() or self.today().year)
        with self.context.db.transaction() as session:  # the read is audited
            view = year_receipt(session, self.context.actor, patient_id, year)
        return render_receipt(view), document_filename("receipt", view)

    def _patient(self) -> int:
        if self.patient_id is None:
            raise NotFound("Open a patient first.")
        return self.patient_id

    def superbill(self, how: Delivery = Delivery.OPEN) -> None:
        """Ask for the visits' date range, then make the superbill PDF and open, preview,
        print or save it (``how``)."""
        if self.patient_id is None:
            return
        today, patient_id, actor = self.today(), self.patient_id, self.context.actor
        dialog = RangeDialog(today.replace(month=1, day=1), today, "Superbill", parent=self)

        def chosen() -> None:
            date_from, date_to = dialog.dates()
            self._pdf(
                lambda s: superbill_pdf(s, actor, patient_id, date_from, date_to, today), how
            )

        dialog.accepted.connect(chosen)
        self._show_dialog(dialog)

    def _show_dialog(self, dialog: QDialog) -> None:
        """Open ``dialog`` without blocking (the one open before it is let go)."""
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()

    def _pdf(self, build: Callable[[Session], tuple[bytes, str]],
             how: Delivery = Delivery.OPEN) -> None:
        """Build a document in a transaction (the read is audited); open, preview, print or
        save it."""

        def run() -> tuple[bytes, str]:
            with self.context.db.transaction() as session:
                return build(session)

        made = attempt(self, run)
        if made is not None:
            self.last_pdf = deliver(self, how, made[0], made[1], opener=self.opener,
                                    hooks=self.print_hooks)


__all__ = ["LedgerPage", "LedgerPanel", "load_ledger", "package_text"]
