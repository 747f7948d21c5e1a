"""The Billing area: one page of tabs, from captured charges to the money the clinic holds.

:class:`BillingView` is what the main window shows for "billing". Its tabs, in the order a
billing person works:

1. "Charges to review" — :class:`~ketadesk.ui.billing.charges.ChargesTab`;
2. "Invoices" — :class:`~ketadesk.ui.billing.invoices.InvoicesTab`;
   "Claims" — :class:`~ketadesk.ui.billing.claims.ClaimsTab`: build, check, send and follow
   insurance claims, and import the payers' 835 answers;
3. "Credits & prepayments" — :class:`CreditsTab` here: every patient's credit balance and
   unused package prepayments (:func:`ketadesk.billing.account.liabilities`), the money the
   clinic would owe back, with "Refund credit…" and "Apply to open charges";
4. "Packages", "Estimates", "Superbills" — written in their own modules
   (``packages.py``, ``estimates.py``, ``superbills.py``), imported only when the area is
   built; a tab whose module is not in this build shows a plain sentence instead.

A tab reads its data again each time it is shown, so what one tab changed (charges posted,
an invoice paid) is current in the next. People whose role may not view billing see one
sentence saying so and no tabs.
"""

from __future__ import annotations

import importlib
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.billing.account import Liability, liabilities
from ketadesk.billing.payments import apply_credit
from ketadesk.money import ZERO
from ketadesk.ui.billing import (
    Clock,
    Notice,
    allowed,
    fill_table,
    guard,
    make_table,
    not_allowed,
    selected_keys,
)
from ketadesk.ui.billing.charges import ChargesTab, fill_locations
from ketadesk.ui.billing.claims import ClaimsTab
from ketadesk.ui.billing.corrections import RefundDialog
from ketadesk.ui.billing.invoices import InvoicesTab
from ketadesk.ui.billing.pdf import Opener
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import dollars
from ketadesk.ui.style import set_role

CREDIT_COLUMNS = ("MRN", "Patient", "Credit", "Prepaid packages", "Owed back if unused", "Packages")
# (module under ketadesk.ui.billing, class, tab title) for the tabs written elsewhere
LATER_TABS = (
    ("packages", "PackagesTab", "Packages"),
    ("estimates", "EstimatesTab", "Estimates"),
    ("superbills", "SuperbillsTab", "Superbills"),
)


class CreditsTab(QWidget):
    """Credit balances and unused prepayments: what the clinic holds for patients."""

    changed = Signal()

    def __init__(
        self, context: AppContext, *, today: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today or date.today
        self.rows: list[Liability] = []
        self.dialog: RefundDialog | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        row = QHBoxLayout()
        self.location = QComboBox()
        self.location.setObjectName("creditLocation")
        fill_locations(self.location, context)
        self.location.currentIndexChanged.connect(lambda _i: self.refresh())
        row.addWidget(QLabel("Location"))
        row.addWidget(self.location)
        row.addStretch(1)
        self.summary = QLabel()
        self.summary.setObjectName("creditSummary")
        set_role(self.summary, "muted")
        row.addWidget(self.summary)
        column.addLayout(row)
        explain = QLabel(
            "Credit is money paid beyond what was charged; prepaid packages are "
            "sessions paid for and not yet given. The clinic owes both back if "
            "they are never used."
        )
        explain.setWordWrap(True)
        set_role(explain, "muted")
        column.addWidget(explain)
        self.table = make_table(
            CREDIT_COLUMNS, money_columns=(2, 3, 4), stretch=5, object_name="creditList"
        )
        self.table.itemSelectionChanged.connect(self._enable)
        column.addWidget(self.table, 1)
        column.addLayout(self._actions())
        self.refresh()

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.notice = Notice()
        self.notice.setObjectName("creditNotice")
        row.addWidget(self.notice, 1)
        self.apply_button = QPushButton("Apply to open charges")
        self.apply_button.setObjectName("applyCredit")
        self.apply_button.clicked.connect(self.apply_selected)
        guard(
            self.apply_button,
            self.context.actor,
            Permission.PAYMENT_TAKE,
            "Spend the patient's credit on anything they still owe, oldest first.",
        )
        self.refund_button = QPushButton("Refund credit…")
        self.refund_button.setObjectName("refundCredit")
        set_role(self.refund_button, "primary")
        self.refund_button.clicked.connect(self.refund_selected)
        guard(
            self.refund_button,
            self.context.actor,
            Permission.MONEY_CORRECT,
            "Pay the selected patient's credit back to them.",
        )
        row.addWidget(self.apply_button)
        row.addWidget(self.refund_button)
        return row

    def refresh(self) -> None:
        location = self.location.currentData()
        with self.context.db.reading() as session:
            self.rows = liabilities(
                session,
                self.context.actor,
                location_id=int(location) if location is not None else None,
            )
        fill_table(
            self.table,
            [
                (
                    row.patient_id,
                    (
                        row.mrn,
                        row.patient_name,
                        dollars(row.credit),
                        dollars(row.prepaid),
                        dollars(row.credit + row.prepaid),
                        row.packages,
                    ),
                )
                for row in self.rows
            ],
        )
        credit = sum((row.credit for row in self.rows), ZERO)
        prepaid = sum((row.prepaid for row in self.rows), ZERO)
        self.summary.setText(
            f"Credit {dollars(credit)} · prepaid {dollars(prepaid)} · "
            f"in all {dollars(credit + prepaid)}"
        )
        self._enable()

    def selected(self) -> Liability | None:
        keys = selected_keys(self.table)
        return next((row for row in self.rows if keys and row.patient_id == keys[0]), None)

    def _enable(self) -> None:
        row = self.selected()
        has_credit = row is not None and row.credit > ZERO
        self.apply_button.setEnabled(allowed(self.apply_button) and has_credit)
        self.refund_button.setEnabled(allowed(self.refund_button) and has_credit)

    def refund_selected(self) -> RefundDialog | None:
        row = self.selected()
        if row is None or not self.context.actor.can(Permission.MONEY_CORRECT):
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = RefundDialog(self.context, row.patient_id, today=self.today, parent=self)
        self.dialog.saved.connect(
            lambda _entry: self._done(f"Refunded credit to {row.patient_name}.")
        )
        self.dialog.open()
        return self.dialog

    def apply_selected(self) -> int:
        """Spend the selected patient's credit on their open charges; how many were paid."""
        row = self.selected()
        if row is None:
            return 0
        actor = self.context.actor

        def run() -> int:
            with self.context.db.transaction() as session:
                return len(apply_credit(session, actor, row.patient_id))

        made = self.notice.attempt(run)
        if made is None:
            return 0
        if made:
            self._done(
                f"Applied {row.patient_name}'s credit to {made} charge{'' if made == 1 else 's'}."
            )
        else:
            self.notice.say(f"{row.patient_name} owes nothing; the credit stays on the account.")
        return made

    def _done(self, text: str) -> None:
        self.refresh()
        self.notice.say(text)
        self.changed.emit()


def not_in_build(title: str) -> QWidget:
    """What a tab whose module is missing shows: a sentence, nothing to click."""
    page = QWidget()
    column = QVBoxLayout(page)
    label = QLabel(f"The {title} tab is not available in this build yet.")
    label.setObjectName("tabNotInBuild")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    set_role(label, "muted")
    column.addWidget(label)
    return page


def later_tab(context: AppContext, module_name: str, class_name: str, title: str) -> QWidget:
    """The tab ``class_name`` of ``ketadesk.ui.billing.<module_name>``, or a sentence when
    that module, a KetaDesk module it needs, or the class is not in this build. Any other
    error is a bug and raises."""
    full_name = f"ketadesk.ui.billing.{module_name}"
    try:
        module = importlib.import_module(full_name)
    except ModuleNotFoundError as error:
        if not (error.name or "").startswith("ketadesk."):
            raise
        return not_in_build(title)
    tab_class = getattr(module, class_name, None)
    if tab_class is None:
        return not_in_build(title)
    tab: QWidget = tab_class(context)
    return tab


class BillingView(QWidget):
    """The Billing area: a title and the tabs."""

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock | None = None,
        opener: Opener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.context = context
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 14)
        outer.setSpacing(12)
        title = QLabel("Billing")
        title.setObjectName("pageTitle")
        outer.addWidget(title)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("billingTabs")
        self.titles: list[str] = []
        if not context.actor.can(Permission.BILLING_VIEW):
            refused = QLabel(not_allowed(context.actor, Permission.BILLING_VIEW))
            refused.setObjectName("billingRefused")
            set_role(refused, "muted")
            outer.addWidget(refused)
            outer.addStretch(1)
            return
        self.charges = ChargesTab(context, today=today)
        self.invoices = InvoicesTab(context, today=today, opener=opener)
        self.claims = ClaimsTab(context, today=today, opener=opener)
        self.credits = CreditsTab(context, today=today)
        self._add_tab(self.charges, "Charges to review")
        self._add_tab(self.invoices, "Invoices")
        self._add_tab(self.claims, "Claims")
        self._add_tab(self.credits, "Credits & prepayments")
        for module_name, class_name, tab_title in LATER_TABS:
            self._add_tab(later_tab(context, module_name, class_name, tab_title), tab_title)
        self.tabs.currentChanged.connect(self._shown)
        outer.addWidget(self.tabs, 1)

    def _add_tab(self, widget: QWidget, title: str) -> None:
        self.tabs.addTab(widget, title.replace("&", "&&"))  # "&" alone would mark a shortcut
        self.titles.append(title)

    def tab(self, title: str) -> QWidget:
        """The tab titled ``title``; raises KeyError for an unknown title."""
        widget = self.tabs.widget(self.titles.index(title)) if title in self.titles else None
        if widget is None:
            raise KeyError(title)
        return widget

    def show_tab(self, title: str) -> QWidget:
        widget = self.tab(title)
        self.tabs.setCurrentWidget(widget)
        return widget

    def _shown(self, index: int) -> None:
        """Read the tab's data again: another tab may have changed it."""
        refresh = getattr(self.tabs.widget(index), "refresh", None)
        if callable(refresh):
            refresh()
