"""The Patients area: find a patient as you type, open the record, register and edit.

Flow: typing in the search box restarts a short timer (150 ms); when it fires the list model
searches (one page, read-only session). Double-click or Enter on a row opens the patient:
:func:`load_record` calls :func:`~ketadesk.clinic.patients.open_patient` in a transaction
(the opening is audited) and copies what the panel shows into a :class:`PatientRecord`, so
no ORM object outlives its session. "New patient" and "Edit" open a
:class:`~ketadesk.ui.patients.form.PatientDialog`; after a save the list searches again and
the saved patient is selected and shown.

The record sits under tabs: "Record" (the cards), "Ledger" for roles that may see money
(``BILLING_VIEW``; :class:`~ketadesk.ui.patients.ledger.LedgerPanel`, which reads the
patient's account only when it is shown), "Intake"
(:class:`~ketadesk.ui.patients.intake.IntakePanel`, read when shown too), and "Consent"
(:class:`~ketadesk.ui.patients.consent.ConsentPanel`).

The record page is built when the first record opens, and the modules only it needs are
imported then: the cards, the insurance panel, the Series panel
(:mod:`ketadesk.ui.patients.series`, which imports the scheduling models) and the patient
form, whose sections the cards follow. So none of them is on the start-up path, where the
list alone is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.clinic.codes import diagnosis_description
from ketadesk.clinic.models import ScreeningFlag, Sex
from ketadesk.clinic.patients import FIELD_LABELS, open_patient, patient_values
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import phone_text, us_date
from ketadesk.ui.patients.list_model import ID_ROLE, PatientListModel, age_on
from ketadesk.ui.style import set_role

if TYPE_CHECKING:
    from ketadesk.ui.patients.consent import ConsentPanel
    from ketadesk.ui.patients.form import PatientDialog
    from ketadesk.ui.patients.history import HistoryPanel
    from ketadesk.ui.patients.intake import IntakePanel
    from ketadesk.ui.patients.ledger import LedgerPanel
    from ketadesk.ui.patients.policies import PoliciesPanel, PolicyLine
    from ketadesk.ui.patients.series import SeriesPanel

SEARCH_DELAY_MS = 150
SEARCH_HINT = "Search by name, MRN, date of birth or phone"
_PHONES = {"phone", "emergency_contact_phone", "driver_phone"}
_ADDRESS_PARTS = ("address_line2", "city", "state", "zip_code")  # shown inside "Address"
_CAPTIONS = {"address_line1": "Address", "weight_kg": "Weight", "notes": ""}


@dataclass(frozen=True)
class PatientRecord:
    """An opened patient, as the detail panel and the edit dialog need it."""

    id: int
    mrn: str
    version: int
    display_name: str
    values: Mapping[str, Any]
    home_location_name: str
    policies: tuple[PolicyLine, ...]
    diagnoses: tuple[tuple[str, str], ...]  # (code, the code set's description), primary first


def load_record(context: AppContext, patient_id: int) -> PatientRecord:
    """Open patient ``patient_id`` (audited) and copy it out of the session."""
    from ketadesk.ui.patients.policies import policy_lines

    with context.db.transaction() as session:
        patient = open_patient(session, context.actor, patient_id)
        location = patient.home_location
        return PatientRecord(
            id=patient.id, mrn=patient.mrn, version=patient.version,
            display_name=patient.display_name, values=patient_values(patient),
            home_location_name=f"{location.name} ({location.code})" if location else "",
            policies=policy_lines(patient.policies),
            diagnoses=tuple((d.code, diagnosis_description(d.code)) for d in patient.diagnoses),
        )


def display_value(name: str, record: PatientRecord) -> str:
    """Field ``name`` of ``record`` as read-only text ("—" when blank)."""
    value = record.values.get(name)
    if name in _PHONES:
        text = phone_text(value or "")
    elif name == "address_line1":
        text = _address(record.values)
    elif name == "diagnoses":
        text = "\n".join(f"{code} – {words}" if words else code
                          for code, words in record.diagnoses)
    elif name == "screening_flags":
        text = ", ".join(sorted(ScreeningFlag(f).label for f in value or ()))
    elif name == "home_location":
        text = record.home_location_name
    elif name == "sex":
        text = Sex(value).label if value else ""
    elif isinstance(value, date):
        text = us_date(value)
    elif isinstance(value, Decimal):
        text = f"{value} kg"
    elif name == "notes":
        text = value or "No notes."
    elif isinstance(value, list | tuple):
        text = ", ".join(str(part) for part in value)
    else:
        text = "" if value is None else str(value)
    return text or "—"


def _address(values: Mapping[str, Any]) -> str:
    first = ", ".join(part for part in (values.get("address_line1"), values.get("address_line2"))
                      if part)
    place = " ".join(part for part in (values.get("state"), values.get("zip_code")) if part)
    second = ", ".join(part for part in (values.get("city"), place) if part)
    return "\n".join(line for line in (first, second) if line)


def _full_name(values: Mapping[str, Any]) -> str:
    """Family, Given Middle "Preferred" — the record's heading."""
    given = " ".join(part for part in (values.get("given_name"), values.get("middle_name")) if part)
    preferred = values.get("preferred_name")
    return f"{values.get('family_name')}, {given}" + (f' "{preferred}"' if preferred else "")


class PatientDetail(QWidget):
    """The open patient, read-only, with Edit and the insurance policies.

    The record's widgets are built when the first patient is opened, not at start-up.
    """

    edit_requested = Signal()
    policy_saved = Signal(int)  # a policy of the open patient was saved (its id)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.record: PatientRecord | None = None
        self.values: dict[str, QLabel] = {}
        # Record / Ledger (roles that see money) / History / Intake / Consent / Outcomes
        self.tabs: QTabWidget | None = None
        self.ledger: LedgerPanel | None = None
        self.history: HistoryPanel
        self.intake: IntakePanel | None = None
        self.consent: ConsentPanel
        self.pages = QStackedWidget()
        self.pages.addWidget(self._empty_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    def _ensure_record_page(self) -> None:
        if self.pages.count() == 1:
            self.pages.addWidget(self._record_page())
            self.policies.changed.connect(self.policy_saved)

    def _empty_page(self) -> QWidget:
        hint = QLabel("Open a patient to see the record here:\n"
                      "double-click a row, or select it and press Enter.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_role(hint, "muted")
        return hint

    def _record_page(self) -> QWidget:
        # Imported with the first record, not at start-up (the module's docstring says why).
        from ketadesk.ui.card import section_card
        from ketadesk.ui.patients.form import SECTIONS
        from ketadesk.ui.patients.policies import PoliciesPanel
        from ketadesk.ui.patients.series import SeriesPanel
        from ketadesk.ui.patients.side_effects import SideEffectsPanel

        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._header())
        self.flags = QLabel()
        self.flags.setObjectName("screeningWarning")
        self.flags.setWordWrap(True)
        set_role(self.flags, "warning")
        column.addWidget(self.flags)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        sections = QVBoxLayout(body)
        sections.setContentsMargins(0, 4, 6, 4)
        sections.setSpacing(10)
        # The form's sections: Identity is the header; Insurance comes before Notes.
        for title, names in SECTIONS[1:]:
            if title != "Notes":
                sections.addWidget(self._section(title, names))
        insurance, inside = section_card("Insurance")
        self.policies: PoliciesPanel = PoliciesPanel(self.context)
        inside.addWidget(self.policies)
        sections.addWidget(insurance)
        series, inside = section_card("Series")
        self.series: SeriesPanel = SeriesPanel(self.context)
        inside.addWidget(self.series)
        sections.addWidget(series)
        side_effects, inside = section_card("Side effects")
        self.side_effects: SideEffectsPanel = SideEffectsPanel(self.context)
        inside.addWidget(self.side_effects)
        sections.addWidget(side_effects)
        sections.addWidget(self._section("Notes", ("notes",)))
        sections.addStretch(1)
        scroll.setWidget(body)
        column.addWidget(self._tabs(scroll), 1)
        return page

    def _tabs(self, record: QWidget) -> QTabWidget:
        """The record's cards on "Record", the patient's money on "Ledger" (for roles that
        see money), then the clinical tabs in the order a patient meets them: the intake
        assessment on "Intake", the consents on "Consent", the treatments tried before on
        "History", the outcome scores on "Outcomes"."""
        from ketadesk.ui.patients.consent import ConsentPanel
        from ketadesk.ui.patients.history import HistoryPanel
        from ketadesk.ui.patients.intake import IntakePanel
        from ketadesk.ui.patients.outcomes import OutcomesPanel

        self.tabs = QTabWidget()
        self.tabs.setObjectName("recordTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(record, "Record")
        if self.context.actor.can(Permission.BILLING_VIEW):
            from ketadesk.ui.patients.ledger import LedgerPanel  # billing loads on first chart

            self.ledger = LedgerPanel(self.context)
            self.tabs.addTab(self.ledger, "Ledger")
        self.intake = IntakePanel(self.context)
        self.tabs.addTab(self.intake, "Intake")
        self.consent = ConsentPanel(self.context)
        self.tabs.addTab(self.consent, "Consent")
        self.history = HistoryPanel(self.context)
        self.tabs.addTab(self.history, "History")
        self.outcomes: OutcomesPanel = OutcomesPanel(self.context)
        self.tabs.addTab(self.outcomes, "Outcomes")
        self.outcomes.recorded.connect(self._scores_recorded)
        return self.tabs

    def _scores_recorded(self) -> None:
        """A score recorded on Outcomes: the Series card says response and remission too."""
        if self.record is not None:
            self.series.set_patient(self.record.id)

    def show_ledger(self) -> None:
        """Bring the open patient's Ledger tab to the front (when the role may see it)."""
        if self.tabs is not None and self.ledger is not None:
            self.tabs.setCurrentWidget(self.ledger)

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        names = QVBoxLayout()
        self.name = QLabel()
        self.name.setObjectName("detailName")
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel()
        self.facts.setObjectName("detailFacts")
        self.facts.setWordWrap(True)
        set_role(self.facts, "muted")
        names.addWidget(self.name)
        names.addWidget(self.facts)
        row.addLayout(names, 1)
        self.edit_button = QPushButton("Edit")
        self.edit_button.setObjectName("editPatient")
        self.edit_button.clicked.connect(self.edit_requested)
        if not self.context.actor.can(Permission.PATIENT_EDIT):
            self.edit_button.setEnabled(False)
            self.edit_button.setToolTip(f"Your role ({self.context.actor.role.label}) "
                                        "may not edit patients.")
        row.addWidget(self.edit_button, 0, Qt.AlignmentFlag.AlignTop)
        return row

    def _section(self, title: str, names: Sequence[str]) -> QFrame:
        from ketadesk.ui.card import section_card  # loaded with the record page

        card, column = section_card(title)
        width = max(self.fontMetrics().horizontalAdvance(text) for text in
                    [*FIELD_LABELS.values(), *_CAPTIONS.values()]) + 8
        form = QFormLayout()
        form.setHorizontalSpacing(18)
        form.setVerticalSpacing(6)
        for name in names:
            if name in _ADDRESS_PARTS:
                continue
            value = QLabel()
            value.setObjectName(f"show_{name}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            caption = _CAPTIONS.get(name, FIELD_LABELS[name])
            if caption:
                label = QLabel(caption)
                label.setFixedWidth(width)  # the same in every card, so values line up
                set_role(label, "muted")
                form.addRow(label, value)
            else:
                form.addRow(value)
            self.values[name] = value
        column.addLayout(form)
        return card

    def show_record(self, record: PatientRecord) -> None:
        """Fill the panel with ``record``."""
        self._ensure_record_page()
        self.record = record
        self.name.setText(_full_name(record.values))
        self.facts.setText(self._facts(record))
        flags = record.values.get("screening_flags") or ()
        self.flags.setText("Screening: " + ", ".join(sorted(ScreeningFlag(f).label
                                                             for f in flags)))
        self.flags.setVisible(bool(flags))
        for name, label in self.values.items():
            label.setText(display_value(name, record))
        self.policies.set_policies(record.id, record.policies)
        self.series.set_patient(record.id)
        self.side_effects.set_patient(record.id)
        if self.ledger is not None:
            self.ledger.set_patient(record.id)
        self.history.set_patient(record.id)
        if self.intake is not None:
            self.intake.set_patient(record.id)
        self.consent.set_patient(record.id)
        self.outcomes.set_patient(record.id)
        self.pages.setCurrentIndex(1)

    def _facts(self, record: PatientRecord) -> str:
        born: date = record.values["date_of_birth"]
        parts = [f"MRN {record.mrn}", f"Born {us_date(born)} (age {age_on(born, date.today())})",
                 Sex(record.values["sex"]).label]
        return "  ·  ".join(parts)

    def clear(self) -> None:
        self.record = None
        self.pages.setCurrentIndex(0)


class SearchBox(QLineEdit):
    """The search field; the Down arrow moves into the results."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


# MRN, name (stretches), date of birth, age, phone; a width of 0: the column stretches.
COLUMN_WIDTHS = (68, 0, 110, 46, 120)
NAME_ROOM = 190  # "Abdel-Malik, Abdul-Rahman" whole
OPTIONAL_COLUMNS = (3, 4)  # age, then phone: given up, in this order, when names need room


def columns_shown(width: int) -> set[int]:
    """The optional columns a list ``width`` pixels wide shows beside whole names: the age
    goes first (the chart's header says it), then the phone."""
    shown = set(OPTIONAL_COLUMNS)
    for column in OPTIONAL_COLUMNS:
        if sum(COLUMN_WIDTHS[c] for c in range(len(COLUMN_WIDTHS))
               if c not in OPTIONAL_COLUMNS or c in shown) + NAME_ROOM <= width:
            break
        shown.discard(column)
    return shown


class PatientsView(QWidget):
    """Search box, count, results table and the open record side by side."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.context = context
        self.dialog: PatientDialog | None = None  # the one open, if any
        self.model = PatientListModel(context, parent=self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.search_now)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 14)
        outer.setSpacing(12)
        outer.addLayout(self._header())
        outer.addLayout(self._search_row())
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self._table())
        self.detail = PatientDetail(context)
        # No fixed minimum: the chart's own widgets say how narrow it may go, so a squeezed
        # split can never cut a button or a figure (a laptop's 1280 pixels).
        self.detail.edit_requested.connect(self.edit_patient)
        self.detail.policy_saved.connect(self._policy_saved)
        splitter.addWidget(self.detail)
        splitter.setSizes([420, 660])
        splitter.setStretchFactor(0, 2)  # a wider screen widens both, the chart more
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        outer.addWidget(splitter, 1)
        self.model.page_loaded.connect(self._update_count)
        self._shortcuts()
        self.model.search("")

    def _shortcuts(self) -> None:
        here = Qt.ShortcutContext.WidgetWithChildrenShortcut
        find = QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self)
        find.setContext(here)
        find.activated.connect(self.focus_search)
        new = QShortcut(QKeySequence(QKeySequence.StandardKey.New), self)
        new.setContext(here)
        new.activated.connect(self.new_patient)
        self.new_button.setToolTip(self.new_button.toolTip() or "Register a new patient (Ctrl+N)")

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Patients")
        title.setObjectName("pageTitle")
        row.addWidget(title)
        row.addStretch(1)
        self.new_button = QPushButton("New patient")
        self.new_button.setObjectName("newPatient")
        set_role(self.new_button, "primary")
        self.new_button.clicked.connect(self.new_patient)
        if not self.context.actor.can(Permission.PATIENT_EDIT):
            self.new_button.setEnabled(False)
            self.new_button.setToolTip(f"Your role ({self.context.actor.role.label}) "
                                       "may not register patients.")
        row.addWidget(self.new_button)
        return row

    def _search_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.search = SearchBox()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText(SEARCH_HINT)
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _text: self.timer.start())
        self.search.returnPressed.connect(self._enter_results)
        self.search.down_pressed.connect(self._enter_results)
        self.count = QLabel()
        self.count.setObjectName("patientCount")
        self.count.setMinimumWidth(190)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        set_role(self.count, "muted")
        row.addWidget(self.search, 1)
        row.addWidget(self.count)
        return row

    def _table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("patientTable")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setShowGrid(False)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(30)
        header = table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        for column, width in enumerate(COLUMN_WIDTHS):
            if width:
                table.setColumnWidth(column, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        table.viewport().installEventFilter(self)
        table.activated.connect(self._row_activated)
        self.table = table
        return table

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The list's width changed: show as many of the optional columns as leave the
        names room (:func:`columns_shown`)."""
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            shown = columns_shown(self.table.viewport().width())
            for column in OPTIONAL_COLUMNS:
                self.table.setColumnHidden(column, column not in shown)
        return super().eventFilter(watched, event)

    # --- searching -------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def search_now(self) -> None:
        """Search for what is typed, without waiting for the timer."""
        self.timer.stop()
        if self.search.text().strip() != self.model.text or not self.model.rows:
            self.model.search(self.search.text())

    def _update_count(self) -> None:
        self.count.setText(self.model.summary())

    def _enter_results(self) -> None:
        self.search_now()
        if self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    # --- opening ---------------------------------------------------------------------

    def _row_activated(self, index: QModelIndex | QPersistentModelIndex) -> None:
        patient_id = self.model.data(index, ID_ROLE)
        if patient_id is not None:
            self.open_patient(int(patient_id))

    def open_patient(self, patient_id: int) -> PatientRecord | None:
        """Open the record of ``patient_id`` in the detail panel (audited)."""
        from ketadesk.ui.forms import attempt  # with the first record, not at start-up

        record = attempt(self, lambda: load_record(self.context, patient_id))
        if record is not None:
            self.detail.show_record(record)
        return record

    def select_patient(self, patient_id: int, mrn: str) -> None:
        """Select ``patient_id`` in the list; search by MRN if it is not among the rows."""
        row = self.model.row_of(patient_id)
        if row is None:
            self.search.blockSignals(True)
            self.search.setText(mrn)
            self.search.blockSignals(False)
            self.model.search(mrn)
            row = self.model.row_of(patient_id)
        if row is not None:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    # --- registering and editing -----------------------------------------------------

    def new_patient(self) -> None:
        from ketadesk.ui.patients.form import PatientDialog  # with the first dialog

        if self.context.actor.can(Permission.PATIENT_EDIT):
            self._open_dialog(PatientDialog(self.context, parent=self))

    def edit_patient(self) -> None:
        record = self.detail.record
        if record is None or not self.context.actor.can(Permission.PATIENT_EDIT):
            return
        from ketadesk.ui.patients.form import PatientDialog  # with the first dialog

        self._open_dialog(PatientDialog(
            self.context, patient_id=record.id, values=record.values, version=record.version,
            title=f"Edit patient — {record.display_name} (MRN {record.mrn})", parent=self,
        ))

    def _open_dialog(self, dialog: PatientDialog) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog

        def accepted() -> None:
            if dialog.saved_id is not None:
                self.show_saved(dialog.saved_id)

        dialog.accepted.connect(accepted)
        dialog.open()

    def show_saved(self, patient_id: int) -> None:
        """After a save: search again, select the patient and show the saved record."""
        self.model.refresh()
        record = self.open_patient(patient_id)
        if record is not None:
            self.select_patient(patient_id, record.mrn)

    def _policy_saved(self, policy_id: int) -> None:
        record = self.detail.record
        if record is not None and self.open_patient(record.id) is not None:
            self.detail.policies.select_policy(policy_id)
