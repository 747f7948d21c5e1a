"""The patient chart's "Consent" tab: each treatment's consent, and the actions around it.

:class:`ConsentPanel` lists every treatment with where its consent stands today (valid until
a day, expired, a new version to sign, withdrawn, missing) and offers "Print form…" (the
form for the selected treatment, else the current series', opened as a PDF), "Record
signed…" (:class:`RecordConsentDialog`) and "Withdraw…". Every action is a service of
:mod:`ketadesk.clinic.consent` in its own transaction; a refusal is shown in words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.clinic.consent import records
from ketadesk.clinic.consent.models import ConsentKey
from ketadesk.clinic.consent.validity import ConsentState, ConsentStatus
from ketadesk.errors import KetaDeskError, ValidationError
from ketadesk.scheduling.consent_check import consents_needed
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import show_error
from ketadesk.ui.style import set_role

Clock = Callable[[], datetime]
HEADERS = ("Treatment", "State", "Signed", "Version")


def state_words(state: ConsentState) -> str:
    """The state as the chart says it ("Valid until 07 Dec 2027", "Missing"…)."""
    if state.status is ConsentStatus.VALID:
        until = f"{state.expires_on:%d %b %Y}" if state.expires_on else "withdrawn"
        return f"Valid until {until}"
    if state.status is ConsentStatus.EXPIRED:
        return f"Expired on {state.expires_on:%d %b %Y}"
    if state.status is ConsentStatus.NEW_VERSION:
        return f"Needs re-signing for version {state.needs_version}"
    return "Withdrawn" if state.status is ConsentStatus.WITHDRAWN else "Missing"


class ConsentPanel(QWidget):
    """The open patient's consents, one row per treatment."""

    def __init__(
        self, context: AppContext, parent: QWidget | None = None, *, clock: Clock | None = None
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.clock = clock or (lambda: datetime.now(UTC))
        self.patient_id: int | None = None
        self.states: list[ConsentState] = []
        self.pdf_opener: Callable[[bytes, str], object] | None = None  # tests pass their own
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        self.summary = QLabel()
        self.summary.setObjectName("consentSummary")
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("consentTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        column.addWidget(self.table, 1)
        column.addLayout(self._buttons())

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.print_button = QPushButton("Print form…")
        self.record_button = QPushButton("Record signed…")
        self.withdraw_button = QPushButton("Withdraw…")
        for button, action in ((self.print_button, self.print_form),
                               (self.record_button, self.record_signed),
                               (self.withdraw_button, self.withdraw)):
            button.clicked.connect(action)
            if not self.context.actor.can(Permission.CONSENT_TAKE):
                button.setEnabled(False)
                button.setToolTip(f"Your role ({self.context.actor.role.label}) may not take "
                                  "consent.")
            row.addWidget(button)
        row.addStretch(1)
        return row

    # --- showing -----------------------------------------------------------------------

    def set_patient(self, patient_id: int) -> None:
        self.patient_id = patient_id
        self.reload()

    def reload(self) -> None:
        if self.patient_id is None:
            return
        patient_id = self.patient_id
        with self.context.db.reading() as session:
            today = records.patient_today(session, patient_id, self.clock())
            self.states = records.consent_states(session, patient_id, today)
            needed = consents_needed(session, patient_id)
        self.table.setRowCount(len(self.states))
        for row, state in enumerate(self.states):
            cells = (state.key.label, state_words(state),
                     f"{state.signed_on:%d %b %Y}" if state.signed_on else "—",
                     str(state.signed_version or "—"))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 1 and not state.valid:
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.table.setItem(row, col, item)
        self._sum_up(needed)

    def _sum_up(self, needed: list[ConsentKey]) -> None:
        """What the patient's planned series need and lack (every treatment is listed in the
        table; only those the patient is to receive matter for check-in)."""
        valid = {s.key for s in self.states if s.valid}
        missing = [key.label for key in needed if key not in valid]
        if not needed:
            text = ("No series is planned; each treatment's consent is checked when a "
                    "series is booked and at check-in.")
        elif missing:
            text = ("No valid consent for: " + ", ".join(missing) + ", which the planned "
                    "series need. Check-in is refused until a signed form is recorded.")
        else:
            text = ("Every consent the planned series need is valid: "
                    + ", ".join(key.label for key in needed) + ".")
        self.summary.setText(text)
        set_role(self.summary, "warning" if missing else "muted")

    def selected_key(self) -> ConsentKey | None:
        rows = self.table.selectionModel().selectedRows()
        return self.states[rows[0].row()].key if rows else None

    def state_texts(self) -> dict[str, str]:
        """Treatment → state, as the table shows them."""
        return {s.key.label: state_words(s) for s in self.states}

    # --- acting ------------------------------------------------------------------------

    def print_form(self) -> None:
        from ketadesk.documents.consent import consent_form, render_consent_form
        from ketadesk.ui.billing.pdf import show_pdf

        if self.patient_id is None:
            return
        patient_id, key = self.patient_id, self.selected_key()

        def build() -> tuple[bytes, str]:
            from ketadesk.clinic.models import Patient

            with self.context.db.reading() as session:
                patient = session.get(Patient, patient_id)
                location = records.patient_location(session, patient) if patient else None
                if patient is None or location is None:
                    raise ValidationError.single("location", "add a location first")
                today = records.patient_today(session, patient_id, self.clock())
                view = consent_form(session, self.context.actor, patient, location, key,
                                    today=today)
            return render_consent_form(view), f"consent-{patient.mrn}-{view.key.value}.pdf"

        try:
            data, name = build()
        except KetaDeskError as error:
            show_error(self, error, "No form printed")
            return
        if self.pdf_opener is not None:
            self.pdf_opener(data, name)
        else:
            show_pdf(self, data, name)

    def record_signed(self) -> None:
        if self.patient_id is None:
            return
        dialog = RecordConsentDialog(self.context, self.patient_id, self.clock, self,
                                     chosen=self.selected_key())
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.reload()

    def withdraw(self) -> None:
        key = self.selected_key()
        if self.patient_id is None:
            return
        if key is None:
            QMessageBox.information(self, "Withdraw consent", "Select a treatment first.")
            return
        answer = QMessageBox.question(
            self, "Withdraw consent",
            f"Withdraw the {key.label} consent from today? Check-in for it will be refused "
            "until a new form is signed.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.withdraw_now(key)

    def withdraw_now(self, key: ConsentKey, reason: str = "") -> bool:
        """Withdraw ``key``'s consent from today; ``False`` (and a message) when refused."""
        if self.patient_id is None:
            return False
        try:
            with self.context.db.transaction() as session:
                today = records.patient_today(session, self.patient_id, self.clock())
                records.withdraw_consent(session, self.context.actor, self.patient_id, key,
                                         withdrawn_on=today, reason=reason)
        except KetaDeskError as error:
            show_error(self, error, "Not withdrawn")
            return False
        self.reload()
        return True


class RecordConsentDialog(QDialog):
    """A signed form to record: treatment, day, signer (patient or guardian), witness."""

    def __init__(
        self, context: AppContext, patient_id: int, clock: Clock, parent: QWidget | None = None,
        *, chosen: ConsentKey | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record a signed consent")
        self.context, self.patient_id, self.clock = context, patient_id, clock
        form = QFormLayout(self)
        self.treatment = QComboBox()
        for key in ConsentKey:
            self.treatment.addItem(key.label, key)
        if chosen is not None:
            self.treatment.setCurrentIndex(list(ConsentKey).index(chosen))
        self.signed = QDateEdit(QDate.currentDate())
        self.signed.setCalendarPopup(True)
        self.signed.setDisplayFormat("MM/dd/yyyy")
        self.signer = QLineEdit()
        self.signer.setPlaceholderText("the patient, or the guardian who signed")
        self.guardian = QLineEdit()
        self.guardian.setPlaceholderText("empty when the patient signed; else e.g. mother")
        self.witness = QLineEdit()
        self.error = QLabel()
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        set_role(self.error, "warning")
        self.error.hide()  # shown only with a refusal in it
        form.addRow("Treatment", self.treatment)
        form.addRow("Signed on", self.signed)
        form.addRow("Signed by", self.signer)
        form.addRow("Guardian's relationship", self.guardian)
        form.addRow("Witness", self.witness)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        form.addRow(buttons)

    def save(self) -> None:
        day = self.signed.date()
        signed_on = date(day.year(), day.month(), day.day())
        try:
            with self.context.db.transaction() as session:
                today = records.patient_today(session, self.patient_id, self.clock())
                records.record_consent(
                    session, self.context.actor, self.patient_id,
                    ConsentKey(self.treatment.currentData()), signed_on=signed_on,
                    signer_name=self.signer.text(), witness_name=self.witness.text(),
                    guardian_relationship=self.guardian.text(), today=today,
                )
        except KetaDeskError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        self.accept()
