"""Settings → Fees and Settings → Packages: what the clinic charges, and what it sells prepaid.

:class:`FeesTab` is a :class:`~ketadesk.ui.settings.table.RecordTab` over
:mod:`ketadesk.billing.fees`: the fee schedule on the left (code, modifiers, our words for
the service, the self-pay price, the dates in force), one fee item's form on the right.
Beside the form, a second page holds each location's **fee policy**
(:class:`PolicyPanel`): the late-cancellation fee, the no-show fee and how many days an
invoice gives. Every rule is the service's: a refused save puts each problem beside its
field (a code that is neither CPT nor HCPCS, a price with a fraction of a cent, dates in
force that overlap another row) and writes nothing. Saves carry the version the form was
read at, so an edit saved meanwhile on another workstation is refused, not overwritten.
Retiring a fee stops charge capture from using it; posted charges keep their prices.

:class:`PackageTemplatesTab` does the same for the prepaid packages the clinic sells
(:mod:`ketadesk.billing.packages`); a change applies to packages sold afterwards.

Settings shows both tabs to the people who may edit the fee schedule (billing, managers,
administrators). Should another role be given them, the forms are read-only with a note
saying who may change them, as every Settings tab does.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing import fees as service
from ketadesk.billing import packages
from ketadesk.billing.models import FeeItem, UnitBasis, UnusedPolicy
from ketadesk.clinic.locations import list_locations
from ketadesk.errors import NotFound
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import dollars, us_date
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.settings.protocols import hint
from ketadesk.ui.settings.table import (
    SAVED_STYLE,
    Fields,
    RecordTab,
    Row,
    make_read_only,
    note_label,
    read,
    write,
)

FEE_NOTE = "Only billing staff, managers and administrators can change the fee schedule."
FIELDS = Fields(tuple(service.FEE_FIELDS.values()))
POLICY = Fields(tuple(service.POLICY_FIELDS.values()))
TEMPLATE = Fields(tuple(packages.TEMPLATE_FIELDS.values()))
FEE_HINTS = {
    "code": "e.g. 96365 or J3490",
    "modifiers": "up to four, e.g. 59 or GT,59",
    "description": "in the clinic's words, e.g. IV infusion, first hour",
    "self_pay_price": "per unit, e.g. 300.00",
    "billed_charge": "per unit, for superbills and claims, e.g. 450.00",
    "units": "units per session, usually 1",
    "ndc": "drug codes: the product's NDC, e.g. 12345-678-90",
    "drug_name": "e.g. Ketamine HCl 50 mg/mL",
}
DATE_HINTS = {"effective_from": "blank: always", "effective_to": "blank: open-ended"}
POLICY_HINTS = {
    "late_cancel_fee": "0.00 for none",
    "no_show_fee": "0.00 for none",
    "invoice_due_days": "e.g. 30",
}


def in_force_text(item: FeeItem) -> str:
    """``"always"``, ``"from 01/01/2026"``, ``"until 12/31/2025"`` or both ends."""
    start, end = item.effective_from, item.effective_to
    if start is None and end is None:
        return "always"
    if end is None:
        return f"from {us_date(start)}"
    if start is None:
        return f"until {us_date(end)}"
    return f"{us_date(start)} – {us_date(end)}"


class PolicyPanel(QWidget):
    """One location's fee policy: late-cancellation fee, no-show fee, invoice due days."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.editable = context.actor.can(Permission.FEE_SCHEDULE_EDIT)
        self._version: int | None = None
        self.location = QComboBox()
        self.location.setObjectName("policyLocation")
        self.location.currentIndexChanged.connect(lambda _index: self.show_policy())
        self.form = FieldForm()
        self.form.add_section("When a session is missed")
        POLICY.add_texts(self.form, ("late_cancel_fee", "no_show_fee"), POLICY_HINTS)
        self.form.layout_.addRow(
            "",
            hint(
                "A late cancellation is one inside the location's late-cancel window "
                "(Settings → Locations). Charge capture adds the fee to the review queue."
            ),
        )
        self.form.add_section("Invoices")
        POLICY.add_texts(self.form, ("invoice_due_days",), POLICY_HINTS)
        self.saved = QLabel()
        self.saved.setStyleSheet(SAVED_STYLE)
        self.save_button = QPushButton("Save policy")
        self.save_button.setObjectName("savePolicy")
        self.save_button.clicked.connect(self.save)
        column = QVBoxLayout(self)
        column.setContentsMargins(4, 4, 0, 0)
        if not self.editable:
            column.addWidget(note_label(FEE_NOTE))
        row = QHBoxLayout()
        row.addWidget(QLabel("Location"))
        row.addWidget(self.location, 1)
        column.addLayout(row)
        column.addWidget(self.form, 1)
        if self.editable:
            buttons = QHBoxLayout()
            buttons.addWidget(self.save_button)
            buttons.addWidget(self.saved, 1)
            column.addLayout(buttons)
        else:
            make_read_only(self.form)
        self.refresh()

    def refresh(self) -> None:
        """Read the locations again and show the chosen one's policy."""
        chosen = self.location.currentData()

        def locations(session: Session) -> list[tuple[int, str]]:
            found = list_locations(session, self.context.actor)
            return [(loc.id, f"{loc.name} ({loc.code})") for loc in found]

        choices = read(self, self.context, locations) or []
        self.location.blockSignals(True)
        self.location.clear()
        for key, text in choices:
            self.location.addItem(text, key)
        self.location.setCurrentIndex(max(self.location.findData(chosen), 0))
        self.location.blockSignals(False)
        self.show_policy()

    def location_id(self) -> int | None:
        data = self.location.currentData()
        return int(data) if data is not None else None

    def show_policy(self) -> None:
        location_id = self.location_id()
        self.saved.clear()
        self.form.clear_problems()
        if location_id is None:
            self.form.set_values(dict.fromkeys(service.POLICY_FIELDS, ""))
            return

        def values(session: Session) -> tuple[int, dict[str, object]]:
            policy = service.billing_policy(session, location_id)
            return policy.version, {name: getattr(policy, name) for name in service.POLICY_FIELDS}

        found = read(self, self.context, values)
        if found is not None:
            self._version, shown = found
            self.form.set_values(shown)

    def save(self) -> None:
        location_id, raw, version = self.location_id(), self.form.values(), self._version
        if location_id is None or not self.editable:
            return

        def run(session: Session) -> int:
            # A location without a policy row reads the default at version 1, and saving
            # creates that same row first, so the version check holds either way.
            policy = service.save_billing_policy(
                session, self.context.actor, location_id, raw, expected_version=version
            )
            return policy.version

        saved = write(self, self.context, run, self.form)
        if saved is not None:
            self.show_policy()
            self.saved.setText("Saved.")


LIST_AND_FORM = (620, 580)  # descriptions and names are long; the forms are short


def _wider_list(tab: RecordTab) -> None:
    """Give the list more of the width than other Settings tabs do."""
    splitter = tab.findChild(QSplitter)
    if splitter is not None:
        splitter.setSizes(list(LIST_AND_FORM))


class FeesTab(RecordTab):
    """The fee schedule, and each location's fee policy beside it."""

    noun = "fee"
    columns = ("Code", "Description", "Self-pay", "In force")
    stretch_column = 1
    permission = Permission.FEE_SCHEDULE_EDIT
    read_only_text = FEE_NOTE
    deactivate_texts = ("Retire", "Bring back")
    status_texts = ("Active", "Retired")
    _version: int | None = None

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        _wider_list(self)

    def side_panel(self, details: QWidget) -> QWidget:
        self.pages = QTabWidget()
        self.pages.setObjectName("feePages")
        self.pages.setDocumentMode(True)
        self.pages.addTab(details, "Fee")
        self.policy = PolicyPanel(self.context)
        self.pages.addTab(self.policy, "Location fee policy")
        return self.pages

    def build_form(self, form: FieldForm) -> None:
        form.add_section("Service")
        FIELDS.add_texts(form, ("code", "modifiers", "description"), FEE_HINTS)
        form.add_section("Price")
        FIELDS.add_texts(form, ("self_pay_price", "billed_charge", "units"), FEE_HINTS)
        FIELDS.add_choice(form, "basis", [(b.value, b.label) for b in UnitBasis])
        form.layout_.addRow(
            "",
            hint(
                'How charge capture counts units for a session. "Added by hand" items are '
                "never captured; billing adds them in the review queue."
            ),
        )
        form.add_section("Drug")
        FIELDS.add_texts(form, ("ndc", "drug_name"), FEE_HINTS)
        form.add_section("In force")
        FIELDS.add_texts(form, ("effective_from", "effective_to"), DATE_HINTS)
        form.layout_.addRow(
            "",
            hint(
                "A new price applies to charges captured from now on; posted charges keep theirs. "
                "To change a price from a date, end this row and add one starting that day."
            ),
        )

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "units": "1", "basis": UnitBasis.VISIT.value}

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_fee_items(session, include_inactive=include_inactive)
        return [
            Row(
                item.id,
                (
                    f"{item.code}-{item.modifiers}" if item.modifiers else item.code,
                    item.description,
                    dollars(item.self_pay_price),
                    in_force_text(item),
                ),
                item.active,
            )
            for item in found
        ]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        item = session.get(FeeItem, key)
        if item is None:
            raise NotFound(f"There is no fee item with id {key}.")
        self._version = item.version
        return service.fee_item_values(item)

    def describe(self, values: Mapping[str, object]) -> str:
        code, mods = values.get("code") or "", values.get("modifiers") or ""
        return (
            f"{code}-{mods} · {values.get('description') or ''}"
            if mods
            else (f"{code} · {values.get('description') or ''}")
        )

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return service.save_fee_item(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        return service.save_fee_item(
            session, self.context.actor, raw, key, expected_version=self._version
        ).id

    def set_record_active(self, session: Session, key: int, active: bool) -> None:
        service.set_fee_item_active(session, self.context.actor, key, active)

    def refresh_list(self) -> None:
        super().refresh_list()
        self.policy.refresh()  # a location may have been added meanwhile


class PackageTemplatesTab(RecordTab):
    """The prepaid packages the clinic sells: sessions, price, validity, unused sessions."""

    noun = "package"
    columns = ("Name", "Service", "Sessions", "Price", "Valid for")
    permission = Permission.FEE_SCHEDULE_EDIT
    read_only_text = "Only billing staff, managers and administrators can change packages."
    deactivate_texts = ("Stop selling", "Sell again")
    status_texts = ("On sale", "Not sold")
    _version: int | None = None

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        _wider_list(self)

    def build_form(self, form: FieldForm) -> None:
        form.add_section("Package")
        TEMPLATE.add_texts(
            form,
            ("name", "service_code"),
            {
                "name": "e.g. IV induction — 6 infusions",
                "service_code": "the code a covered session bills, e.g. 96365",
            },
        )
        TEMPLATE.add_texts(
            form,
            ("sessions", "price", "valid_days"),
            {
                "sessions": "e.g. 6",
                "price": "e.g. 2550.00",
                "valid_days": "from the sale, e.g. 60",
            },
        )
        TEMPLATE.add_choice(form, "unused_policy", [(p.value, p.label) for p in UnusedPolicy])
        form.layout_.addRow(
            "",
            hint(
                "A change applies to packages sold from now on; a sold package keeps the terms "
                "it was sold with."
            ),
        )

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "unused_policy": UnusedPolicy.REFUND_PRORATED.value}

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = packages.list_templates(session, include_inactive=include_inactive)
        return [
            Row(
                t.id,
                (t.name, t.service_code, str(t.sessions), dollars(t.price), f"{t.valid_days} days"),
                t.active,
            )
            for t in found
        ]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        template = packages.get_template(session, key)
        self._version = template.version
        return {name: getattr(template, name) for name in packages.TEMPLATE_FIELDS}

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return packages.save_template(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        values = {**raw, "version": self._version} if self._version is not None else raw
        return packages.save_template(session, self.context.actor, values, key).id

    def set_record_active(self, session: Session, key: int, active: bool) -> None:
        packages.set_template_active(session, self.context.actor, key, active)


__all__ = ["FeesTab", "PackageTemplatesTab", "PolicyPanel"]
