"""The Packages tab: prepaid bundles on sale, selling one, and what each patient has left.

Three panes, each read in one read-only session by :meth:`PackagesTab.refresh`:

* **On sale** — the active package templates (:func:`ketadesk.billing.packages.list_templates`);
  "Sell package…" opens :class:`SellPackageDialog` with the chosen one. Templates are edited
  in Settings → Packages.
* **Holding prepaid packages** — every patient with package money not yet used
  (:func:`ketadesk.billing.account.liabilities`): what the clinic would owe back. Choosing a
  row shows that patient below.
* **A patient's packages** — find anyone (a :class:`~ketadesk.ui.billing.superbills.PatientPicker`)
  and see each package (:func:`~ketadesk.billing.packages.patient_packages`): sessions used
  and left, the value left, when it expires, its status. "Refund unused…" pays back what is
  left by the package's terms (:class:`RefundUnusedDialog`, needs ``MONEY_CORRECT``).

"Run expiry" closes every package past its last day (:func:`expire_packages`: by its terms
the value left is kept as a refundable prepayment or forfeited). Every action is one service
call inside one ``context.db.transaction()``; a refusal is shown in words and changes
nothing; afterwards the tab reads everything again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor, Permission
from ketadesk.billing import packages as service
from ketadesk.billing.account import liabilities
from ketadesk.billing.invoices import patient_location
from ketadesk.billing.models import PackagePurchase, PackageStatus, PaymentMethod, UnusedPolicy
from ketadesk.billing.packages import PackageBalance
from ketadesk.clinic.locations import list_locations
from ketadesk.clinic.models import Patient
from ketadesk.errors import NotFound, ValidationError
from ketadesk.ui.billing import (
    Clock,
    ask,
    attempt_in,
    fill_table,
    guard,
    make_table,
    select_key,
    selected_keys,
)
from ketadesk.ui.billing.superbills import PatientPicker
from ketadesk.ui.card import COMPACT, section_card
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import wrap_words
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import ERROR, MUTED, set_role

TEMPLATE_COLUMNS = ("Package", "Sessions", "Price", "Valid for", "Unused")
HOLDER_COLUMNS = ("MRN", "Patient", "Prepaid", "Packages")
PACKAGE_COLUMNS = ("Package", "Left", "Value left", "Bought", "Expires", "Status")
SHORT_POLICY = {UnusedPolicy.REFUND_PRORATED: "refundable", UnusedPolicy.FORFEIT: "lapse"}
CLOSED_INK = QColor(MUTED)
SOON_INK = QColor(ERROR)
EXPIRY_WARNING = timedelta(days=14)  # an active package this close to its end is in red


@dataclass(frozen=True)
class TemplateLine:
    id: int
    name: str
    service_code: str
    sessions: int
    price: Decimal
    valid_days: int
    unused_policy: UnusedPolicy

    @property
    def label(self) -> str:
        return f"{self.name} — {dollars(self.price)} for {self.sessions} sessions"


@dataclass(frozen=True)
class Holder:
    patient_id: int
    mrn: str
    name: str
    prepaid: Decimal
    packages: str


@dataclass(frozen=True)
class PackagesPage:
    templates: tuple[TemplateLine, ...]
    holders: tuple[Holder, ...]


def load_page(session: Session, actor: Actor) -> PackagesPage:
    """The packages on sale and the patients holding prepaid package money."""
    templates = tuple(
        TemplateLine(
            t.id, t.name, t.service_code, t.sessions, t.price, t.valid_days, t.unused_policy
        )
        for t in service.list_templates(session)
    )
    holders = tuple(
        Holder(row.patient_id, row.mrn, row.patient_name, row.prepaid, row.packages)
        for row in liabilities(session, actor)
        if row.prepaid > 0
    )
    return PackagesPage(templates, holders)


def left_text(package: PackageBalance) -> str:
    """``"5 of 6"``."""
    return f"{package.remaining} of {package.sessions_total}"


def package_cells(package: PackageBalance) -> tuple[str, ...]:
    return (
        package.name,
        left_text(package),
        dollars(package.value_left),
        us_date(package.purchased_on),
        us_date(package.expires_on),
        package.status.label,
    )


# --- selling ---------------------------------------------------------------------------


class SellPackageDialog(QDialog):
    """Who buys which package, and how they pay; the sale is one transaction.

    Emits ``sold(purchase_id)``; the dialog then closes.
    """

    sold = Signal(int)

    def __init__(
        self,
        context: AppContext,
        *,
        patient_id: int | None = None,
        template_id: int | None = None,
        today: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today: Clock = today or date.today
        self.purchase_id: int | None = None
        self.setWindowTitle("Sell a package")
        self.setMinimumWidth(620)
        with context.db.reading() as session:
            self.templates = {t.id: t for t in load_page(session, context.actor).templates}
            self.locations = [
                (loc.id, f"{loc.name} ({loc.code})")
                for loc in list_locations(session, context.actor)
            ]
        column = QVBoxLayout(self)
        column.addWidget(QLabel("<b>Patient</b>"))
        self.picker = PatientPicker(context)
        self.picker.chosen.connect(self._patient_chosen)
        column.addWidget(self.picker)
        self.form = FieldForm()
        self.template = self.form.add_choice(
            "template",
            "Package",
            [(str(t.id), t.label) for t in self.templates.values()],
            required=True,
        )
        self.method = self.form.add_choice(
            "method", "Paid by", [(m.value, m.label) for m in PaymentMethod], required=True
        )
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.CARD.value))
        self.form.add_text(
            "reference", "Reference", placeholder="card slip, check number (optional)"
        )
        self.location = self.form.add_choice(
            "location",
            "Sold at",
            [(str(key), text) for key, text in self.locations],
            required=True,
        )
        column.addWidget(self.form)
        self.terms = QLabel()
        self.terms.setObjectName("packageTerms")
        self.terms.setWordWrap(True)
        set_role(self.terms, "muted")
        column.addWidget(self.terms)
        column.addWidget(self._buttons())
        self.template.currentIndexChanged.connect(lambda _index: self._show_terms())
        if template_id is not None:
            self.template.setCurrentIndex(max(self.template.findData(str(template_id)), 0))
        if patient_id is not None:
            self._preselect(patient_id)
        self._show_terms()
        self._enable()

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox()
        self.sell_button = QPushButton("Sell package")
        self.sell_button.setObjectName("sellPackage")
        set_role(self.sell_button, "primary")
        self.sell_button.setDefault(True)
        self.sell_button.clicked.connect(self.submit)
        guard(self.sell_button, self.context.actor, Permission.PAYMENT_TAKE)
        buttons.addButton(self.sell_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)
        return buttons

    def _preselect(self, patient_id: int) -> None:
        with self.context.db.reading() as session:
            patient = session.get(Patient, patient_id)
            mrn = patient.mrn if patient is not None else ""
        if mrn:
            self.picker.choose(mrn)

    def _patient_chosen(self, patient_id: int) -> None:
        """Sell at the patient's own location unless the person picks another."""
        if patient_id:
            with self.context.db.reading() as session:
                patient = session.get(Patient, patient_id)
                home = patient_location(session, patient) if patient is not None else None
                home_id = home.id if home is not None else None
            if home_id is not None:
                self.location.setCurrentIndex(max(self.location.findData(str(home_id)), 0))
        self._enable()

    def _enable(self) -> None:
        allowed = self.context.actor.can(Permission.PAYMENT_TAKE)
        self.sell_button.setEnabled(
            allowed and self.picker.patient_id() > 0 and bool(self.templates)
        )

    def chosen_template(self) -> TemplateLine | None:
        data = self.template.currentData()
        return self.templates.get(int(str(data))) if data is not None else None

    def _show_terms(self) -> None:
        template = self.chosen_template()
        if template is None:
            self.terms.setText("No package is on sale. Add one in Settings → Packages.")
            return
        until = self.today() + timedelta(days=template.valid_days)
        policy = (
            "unused sessions are refunded at the package rate"
            if template.unused_policy is UnusedPolicy.REFUND_PRORATED
            else "unused sessions lapse at expiry"
        )
        self.terms.setText(
            f"Takes {dollars(template.price)} now as a prepayment for {template.sessions} "
            f"sessions of {template.service_code}, valid until {us_date(until)}; {policy}."
        )

    def submit(self) -> int | None:
        """Sell the package in one transaction; close and emit ``sold`` when done."""
        purchase_id = attempt_in(self.form, self._sell)
        if purchase_id is not None:
            self.purchase_id = purchase_id
            self.sold.emit(purchase_id)
            self.accept()
        return purchase_id

    def _sell(self) -> int:
        values = self.form.values()
        patient_id = self.picker.patient_id()
        if not patient_id:
            raise NotFound("Find and choose the patient who buys the package.")
        template = self.chosen_template()
        if template is None:
            raise NotFound("Choose a package.")
        location = values.get("location")
        if location is None:
            raise NotFound("Choose where the package is sold.")
        with self.context.db.transaction() as session:
            purchase = service.sell_package(
                session,
                self.context.actor,
                patient_id=patient_id,
                template_id=template.id,
                method=PaymentMethod(str(values["method"])),
                on=self.today(),
                location_id=int(str(location)),
                reference=str(values["reference"]).strip(),
            )
            return purchase.id


# --- refunding -------------------------------------------------------------------------


class RefundUnusedDialog(QDialog):
    """Pay back a package's unused sessions: how, why (required), a reference."""

    refunded = Signal(int)  # the refund's ledger entry id

    def __init__(
        self,
        context: AppContext,
        package: PackageBalance,
        *,
        today: Clock | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.package = package
        self.today: Clock = today or date.today
        self.setWindowTitle("Refund unused sessions")
        self.setMinimumWidth(520)
        column = QVBoxLayout(self)
        left = "session" if package.remaining == 1 else "sessions"
        heading = QLabel(
            f"<b>{package.name}</b><br>{package.remaining} {left} left of "
            f"{package.sessions_total}; {dollars(package.value_left)} to pay back."
        )
        heading.setWordWrap(True)
        column.addWidget(heading)
        self.form = FieldForm()
        self.method = self.form.add_choice(
            "method", "Paid back by", [(m.value, m.label) for m in PaymentMethod], required=True
        )
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.CARD.value))
        self.form.add_text("reference", "Reference", placeholder="optional")
        self.form.add_text("reason", "Reason", placeholder="e.g. moved away", required=True)
        column.addWidget(self.form)
        buttons = QDialogButtonBox()
        self.refund_button = QPushButton("Refund")
        self.refund_button.setObjectName("refundUnused")
        set_role(self.refund_button, "primary")
        self.refund_button.clicked.connect(self.submit)
        guard(self.refund_button, context.actor, Permission.MONEY_CORRECT)
        buttons.addButton(self.refund_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).clicked.connect(self.reject)
        column.addWidget(buttons)

    def submit(self) -> int | None:
        entry_id = attempt_in(self.form, self._refund)
        if entry_id is not None:
            self.refunded.emit(entry_id)
            self.accept()
        return entry_id

    def _refund(self) -> int:
        values = self.form.values()
        reason = str(values["reason"]).strip()
        if not reason:
            raise ValidationError.single("reason", "say why the package is refunded")
        with self.context.db.transaction() as session:
            entry = service.refund_unused(
                session,
                self.context.actor,
                self.package.purchase_id,
                method=PaymentMethod(str(values["method"])),
                on=self.today(),
                reason=reason,
                reference=str(values["reference"]).strip(),
            )
            return entry.id


# --- the tab ---------------------------------------------------------------------------


def _tip_first_column(table: QTableWidget) -> None:
    """A narrow column elides a long package name; the whole name is a hover away."""
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None:
            item.setToolTip(item.text())


class PackagesTab(QWidget):
    """Packages on sale, patients holding prepaid packages, one patient's packages."""

    def __init__(
        self, context: AppContext, today: Clock | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("packagesTab")
        self.context = context
        self.today: Clock = today or date.today
        self.page: PackagesPage | None = None
        self.shown: dict[int, PackageBalance] = {}  # the chosen patient's, by purchase id
        self.dialog: QDialog | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 12, 12, 12)
        column.setSpacing(10)
        column.addLayout(self._toolbar())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._left())
        splitter.addWidget(self._right())
        splitter.setSizes([600, 600])
        column.addWidget(splitter, 1)
        self.refresh()

    # --- building --------------------------------------------------------------------

    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.sell_button = QPushButton("Sell package…")
        self.sell_button.setObjectName("sellPackageButton")
        set_role(self.sell_button, "primary")
        guard(self.sell_button, self.context.actor, Permission.PAYMENT_TAKE)
        self.sell_button.clicked.connect(self.sell)
        self.expire_button = QPushButton("Run expiry")
        self.expire_button.setObjectName("runExpiry")
        guard(
            self.expire_button,
            self.context.actor,
            Permission.CHARGE_REVIEW,
            "Close every package past its last day, by its terms",
        )
        self.expire_button.clicked.connect(self.run_expiry)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.message = QLabel()
        self.message.setObjectName("packagesMessage")
        self.message.setWordWrap(True)
        set_role(self.message, "muted")
        row.addWidget(self.sell_button)
        row.addWidget(self.expire_button)
        row.addWidget(self.message, 1)
        row.addWidget(self.refresh_button)
        return row

    def _left(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        card, inside = section_card("On sale", COMPACT, spacing=6)
        self.templates = make_table(
            TEMPLATE_COLUMNS, money_columns=(2,), stretch=0, object_name="packageTemplates"
        )
        wrap_words(self.templates)
        self.templates.doubleClicked.connect(lambda _index: self.sell())
        inside.addWidget(self.templates)
        hint = QLabel("Packages are set up in Settings → Packages.")
        set_role(hint, "muted")
        inside.addWidget(hint)
        column.addWidget(card, 2)
        card, inside = section_card("Holding prepaid packages", COMPACT, spacing=6)
        self.holders = make_table(
            HOLDER_COLUMNS, money_columns=(2,), stretch=3, object_name="packageHolders"
        )
        wrap_words(self.holders)
        self.holders.itemSelectionChanged.connect(self._holder_chosen)
        inside.addWidget(self.holders)
        self.owed = QLabel()
        self.owed.setObjectName("prepaidTotal")
        set_role(self.owed, "muted")
        inside.addWidget(self.owed)
        column.addWidget(card, 3)
        return box

    def _right(self) -> QWidget:
        card, inside = section_card("A patient's packages", COMPACT, spacing=6)
        self.picker = PatientPicker(self.context)
        self.picker.chosen.connect(lambda _id: self.show_patient())
        inside.addWidget(self.picker)
        self.nobody = QLabel("Find a patient above, or choose one holding a package on the left.")
        self.nobody.setObjectName("noPatientChosen")
        set_role(self.nobody, "muted")
        inside.addWidget(self.nobody)
        self.patient_packages: QTableWidget = make_table(
            PACKAGE_COLUMNS, money_columns=(2,), stretch=0, object_name="patientPackages"
        )
        wrap_words(self.patient_packages)
        self.patient_packages.itemSelectionChanged.connect(self._enable)
        inside.addWidget(self.patient_packages, 1)
        row = QHBoxLayout()
        self.sell_to_button = QPushButton("Sell this patient a package…")
        self.sell_to_button.setObjectName("sellToPatient")
        guard(self.sell_to_button, self.context.actor, Permission.PAYMENT_TAKE)
        self.sell_to_button.clicked.connect(lambda: self.sell(self.picker.patient_id() or None))
        self.refund_button = QPushButton("Refund unused…")
        self.refund_button.setObjectName("refundUnusedButton")
        guard(
            self.refund_button,
            self.context.actor,
            Permission.MONEY_CORRECT,
            "Pay back the value of the sessions left, by the package's terms",
        )
        self.refund_button.clicked.connect(self.refund)
        row.addWidget(self.sell_to_button)
        row.addWidget(self.refund_button)
        row.addStretch(1)
        inside.addLayout(row)
        return card

    # --- reading ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the packages on sale, the holders and the chosen patient's packages."""

        def read() -> PackagesPage:
            with self.context.db.reading() as session:
                return load_page(session, self.context.actor)

        page = attempt(self, read)
        if page is None:
            return
        self.page = page
        fill_table(
            self.templates,
            [
                (
                    t.id,
                    (
                        t.name,
                        str(t.sessions),
                        dollars(t.price),
                        f"{t.valid_days} days",
                        SHORT_POLICY[t.unused_policy],
                    ),
                )
                for t in page.templates
            ],
        )
        _tip_first_column(self.templates)
        if page.templates and not selected_keys(self.templates):
            self.templates.selectRow(0)
        fill_table(
            self.holders,
            [(h.patient_id, (h.mrn, h.name, dollars(h.prepaid), h.packages)) for h in page.holders],
        )
        total = sum((h.prepaid for h in page.holders), Decimal("0.00"))
        people = count_text(len(page.holders), "patient holds", "patients hold")
        self.owed.setText(f"{people} {dollars(total)} of package prepayments not yet used.")
        self.show_patient()

    def show_patient(self) -> None:
        """List the chosen patient's packages (nothing when nobody is chosen)."""
        patient_id = self.picker.patient_id()
        found: list[PackageBalance] = []
        if patient_id:

            def read() -> list[PackageBalance]:
                with self.context.db.transaction() as session:  # the read is audited
                    return service.patient_packages(session, self.context.actor, patient_id)

            found = attempt(self, read) or []
        self.nobody.setVisible(not patient_id)
        self.shown = {p.purchase_id: p for p in found}
        fill_table(self.patient_packages, [(p.purchase_id, package_cells(p)) for p in found])
        _tip_first_column(self.patient_packages)
        self._colour(found)
        if found and not selected_keys(self.patient_packages):
            self.patient_packages.selectRow(0)
        self._enable()

    def _colour(self, found: list[PackageBalance]) -> None:
        """Closed packages grey; an active one near its last day in red."""
        soon = self.today() + EXPIRY_WARNING
        for row, package in enumerate(found):
            ink = None
            if package.status is not PackageStatus.ACTIVE:
                ink = CLOSED_INK
            elif package.expires_on <= soon:
                ink = SOON_INK
            if ink is None:
                continue
            for column in range(self.patient_packages.columnCount()):
                item = self.patient_packages.item(row, column)
                if item is not None:
                    item.setForeground(QBrush(ink))

    def _holder_chosen(self) -> None:
        keys = selected_keys(self.holders)
        holders = self.page.holders if self.page is not None else ()
        holder = next((h for h in holders if keys and h.patient_id == keys[0]), None)
        if holder is not None and holder.patient_id != self.picker.patient_id():
            self.picker.choose(holder.mrn)

    def chosen_package(self) -> PackageBalance | None:
        keys = selected_keys(self.patient_packages)
        return self.shown.get(int(str(keys[0]))) if keys else None

    def _enable(self) -> None:
        actor = self.context.actor
        package = self.chosen_package()
        refundable = (
            package is not None
            and package.status in (PackageStatus.ACTIVE, PackageStatus.EXPIRED)
            and package.value_left > 0
        )
        self.refund_button.setEnabled(actor.can(Permission.MONEY_CORRECT) and refundable)
        self.sell_to_button.setEnabled(
            actor.can(Permission.PAYMENT_TAKE) and self.picker.patient_id() > 0
        )

    def left_texts(self) -> list[str]:
        """The "Left" column of the chosen patient's packages ("5 of 6"), top to bottom."""
        items = [self.patient_packages.item(r, 1) for r in range(self.patient_packages.rowCount())]
        return [item.text() if item is not None else "" for item in items]

    # --- acting ----------------------------------------------------------------------

    def sell(self, patient_id: int | None = None) -> SellPackageDialog | None:
        """Open the sale dialog (with the chosen template, and the patient when known)."""
        if not self.context.actor.can(Permission.PAYMENT_TAKE):
            return None
        keys = selected_keys(self.templates)
        dialog = SellPackageDialog(
            self.context,
            patient_id=patient_id,
            template_id=int(str(keys[0])) if keys else None,
            today=self.today,
            parent=self,
        )
        dialog.sold.connect(self._sold)
        self._open(dialog)
        return dialog

    def _sold(self, purchase_id: int) -> None:
        def read() -> tuple[str, str]:
            with self.context.db.reading() as session:
                purchase = session.get(PackagePurchase, purchase_id)
                if purchase is None:
                    raise NotFound(f"there is no package {purchase_id}")
                return purchase.patient.mrn, purchase.name

        found = attempt(self, read)
        if found is not None:
            mrn, name = found
            self.picker.choose(mrn)
            self.message.setText(f"Sold {name} (MRN {mrn}).")
        self.refresh()
        select_key(self.patient_packages, purchase_id)

    def refund(self) -> RefundUnusedDialog | None:
        package = self.chosen_package()
        if package is None or not self.context.actor.can(Permission.MONEY_CORRECT):
            return None
        dialog = RefundUnusedDialog(self.context, package, today=self.today, parent=self)
        dialog.refunded.connect(lambda _entry: self._refunded(package))
        self._open(dialog)
        return dialog

    def _refunded(self, package: PackageBalance) -> None:
        self.message.setText(f"Refunded {dollars(package.value_left)} of {package.name}.")
        self.refresh()

    def run_expiry(self) -> None:
        """Close the packages past their last day, after asking."""
        if not self.context.actor.can(Permission.CHARGE_REVIEW):
            return
        today = self.today()
        if not ask(
            self,
            "Run expiry",
            f"Close every package whose last day was before {us_date(today)}? "
            "Each follows its terms: unused value is kept for a refund or forfeited.",
        ):
            return

        def run() -> list[str]:
            with self.context.db.transaction() as session:
                closed = service.expire_packages(session, self.context.actor, on=today)
                return [f"{p.name} (MRN {p.patient.mrn})" for p in closed]

        closed = attempt(self, run)
        if closed is None:
            return
        if closed:
            noun = "package" if len(closed) == 1 else "packages"
            text = f"{len(closed)} {noun} expired: " + "; ".join(closed) + "."
        else:
            text = "No package was past its last day."
        self.message.setText(text)
        QMessageBox.information(self, "Run expiry", text)
        self.refresh()

    def _open(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()


__all__ = [
    "PackagesTab",
    "RefundUnusedDialog",
    "SellPackageDialog",
    "load_page",
    "package_cells",
]
