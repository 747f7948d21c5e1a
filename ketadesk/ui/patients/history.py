"""The chart's History tab: treatments tried before and the esketamine (TRD) verdict.

Flow: :meth:`HistoryPanel.set_patient` remembers whose chart is open; the panel reads when
it is shown (:meth:`HistoryPanel.refresh`) through
:func:`ketadesk.clinic.history.record.patient_history` in one audited transaction, and draws
the frozen lines: a table of entries (kind, treatment, dose, weeks, response, start,
episode, why stopped, whether it counts) and the verdict with the reason for each entry.

"Add treatment…" opens :class:`AddTreatmentDialog` (the typed words go to
:func:`~ketadesk.clinic.history.entries.clean_treatment`, every bad field shown beside it);
"Remove…" asks the reason (:class:`RemoveDialog`). "Letter of medical necessity…" builds the
letter (:mod:`ketadesk.documents.necessity`) and opens, previews, prints or saves it with
the same :class:`~ketadesk.ui.billing.pdf.PdfButton` as the bills.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.clinic.history.models import PriorTreatment, Response, TreatmentKind
from ketadesk.clinic.history.record import HistoryLine, PatientHistory
from ketadesk.errors import NotFound
from ketadesk.ui.billing import fill_table, guard, make_table, selected_keys
from ketadesk.ui.billing.pdf import Opener, PdfButton
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import set_role

COLUMNS = ("Kind", "Treatment", "Dose", "Weeks", "Response", "Started", "Counts",
           "Why stopped")
# The chart's pane is narrow on a laptop: the words columns are capped, "Why stopped" takes
# the rest and each cell's tooltip holds it all.
MAX_WIDTHS = {0: 150, 1: 140, 2: 90, 4: 100}
KIND_CHOICES = [(kind.value, kind.label) for kind in TreatmentKind]
RESPONSE_CHOICES = [(response.value, response.label) for response in Response]
SHORT_KINDS = {TreatmentKind.ANTIDEPRESSANT: "Antidepressant"}
SHORT_RESPONSES = {Response.NONE: "None", Response.PARTIAL: "Partial"}


def history_cells(line: HistoryLine) -> tuple[str, ...]:
    kind = SHORT_KINDS.get(line.kind, line.kind.label)
    return (
        kind if line.current_episode else f"{kind} (earlier episode)", line.treatment,
        line.dose, str(line.weeks) if line.weeks is not None else "",
        SHORT_RESPONSES.get(line.response, line.response.label), line.started,
        "Yes" if line.counts else "—", line.stopped_because,
    )


def verdict_text(history: PatientHistory) -> str:
    """The verdict and one line per entry saying why it counts or not."""
    lines = [history.verdict.summary]
    lines += [f"• {line.treatment}: {line.reason}" for line in history.lines]
    return "\n".join(lines)


class HistoryPanel(QWidget):
    """The open patient's treatment history, its verdict and its actions."""

    def __init__(self, context: AppContext, parent: QWidget | None = None,
                 *, opener: Opener | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id: int | None = None
        self.history: PatientHistory | None = None
        self.dialog: QDialog | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 6, 0, 0)
        column.addLayout(self._buttons(opener))
        self.verdict = QLabel()
        self.verdict.setObjectName("historyVerdict")
        self.verdict.setWordWrap(True)
        column.addWidget(self.verdict)
        self.table = make_table(COLUMNS, stretch=len(COLUMNS) - 1, object_name="historyTable",
                                max_widths=MAX_WIDTHS)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        column.addWidget(self.table, 1)

    def _buttons(self, opener: Opener | None) -> QHBoxLayout:
        row = QHBoxLayout()
        actor = self.context.actor
        self.add_button = QPushButton("Add treatment…")
        self.add_button.setObjectName("historyAdd")
        set_role(self.add_button, "primary")
        guard(self.add_button, actor, Permission.CLINICAL_RECORD)
        self.add_button.clicked.connect(self.add_treatment)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("historyRemove")
        self.may_remove = guard(self.remove_button, actor, Permission.CLINICAL_RECORD)
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove_selected)
        self.letter_button = PdfButton(self._letter, text="Letter of medical necessity…",
                                       opener=opener)
        self.letter_button.setObjectName("historyLetter")
        self.letter_button.setToolTip("For a payer's prior authorisation: diagnosis, trials, "
                                      "baseline scores and the plan")
        for button in (self.add_button, self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.letter_button)
        return row

    def set_patient(self, patient_id: int) -> None:
        self.patient_id = patient_id
        self.history = None
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.patient_id is not None and self.history is None:
            self.refresh()

    def refresh(self) -> None:
        from ketadesk.clinic.history.record import patient_history

        patient_id = self._patient()

        def read() -> PatientHistory:
            with self.context.db.transaction() as session:  # the read is audited
                return patient_history(session, self.context.actor, patient_id)

        history = attempt(self, read)
        if history is None:
            return
        self.history = history
        fill_table(self.table, [(line.id, history_cells(line)) for line in history.lines])
        self.verdict.setText(verdict_text(history))
        set_role(self.verdict, "muted" if history.verdict.met else "warning")
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self.may_remove and bool(selected_keys(self.table)))

    def _patient(self) -> int:
        if self.patient_id is None:
            raise NotFound("Open a patient first.")
        return self.patient_id

    def add_treatment(self) -> None:
        dialog = AddTreatmentDialog(self.context, self._patient(), parent=self)
        dialog.accepted.connect(self.refresh)
        self._show_dialog(dialog)

    def remove_selected(self) -> None:
        keys = selected_keys(self.table)
        if not keys:
            return
        dialog = RemoveDialog(self.context, self._patient(), int(str(keys[0])), parent=self)
        dialog.accepted.connect(self.refresh)
        self._show_dialog(dialog)

    def _show_dialog(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()

    def _letter(self) -> tuple[bytes, str]:
        from ketadesk.documents.necessity import render_necessity
        from ketadesk.documents.necessity_view import necessity_view

        patient_id = self._patient()
        with self.context.db.transaction() as session:  # the read is audited
            view = necessity_view(session, self.context.actor, patient_id, date.today())
        return render_necessity(view), f"necessity-{view.patient.mrn}.pdf"


class AddTreatmentDialog(QDialog):
    """The fields of a prior treatment; Save records it, or shows every problem."""

    def __init__(self, context: AppContext, patient_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.patient_id = context, patient_id
        self.saved: PriorTreatment | None = None
        self.setWindowTitle("Add treatment")
        self.form = FieldForm()
        self.form.add_choice("kind", "Kind", KIND_CHOICES, required=True)
        self.form.add_text("treatment", "Drug or therapy", placeholder="sertraline",
                           required=True)
        self.form.add_text("dose", "Daily dose", placeholder="150 mg")
        self.form.add_text("weeks", "Weeks at that dose", placeholder="8")
        self.form.add_choice("response", "Response", RESPONSE_CHOICES)
        self.form.add_text("stopped", "Why stopped", placeholder="no response, side effects…")
        self.form.add_text("started", "Started (month)", placeholder="2026-03")
        self.form.add_check("earlier_episode", "From an earlier episode")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(buttons)
        self.resize(720, self.sizeHint().height())

    def save(self) -> None:
        from ketadesk.clinic.history.entries import add_treatment, clean_treatment

        def run() -> PriorTreatment:
            draft = clean_treatment(self.form.values(), date.today())
            with self.context.db.transaction() as session:
                return add_treatment(session, self.context.actor, self.patient_id, draft)

        saved = attempt(self, run, self.form)
        if saved is None:  # the problems beside the fields may need more lines
            self.resize(self.width(), max(self.height(), self.sizeHint().height()))
            return
        self.saved = saved
        self.accept()


class RemoveDialog(QDialog):
    """Why an entry is taken off; it stays in the record with the reason."""

    def __init__(self, context: AppContext, patient_id: int, entry_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context, self.patient_id, self.entry_id = context, patient_id, entry_id
        self.setWindowTitle("Remove treatment")
        self.form = FieldForm()
        self.form.add_text("reason", "Reason", placeholder="entered twice", required=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Remove")
        buttons.accepted.connect(self.remove)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(buttons)
        self.resize(480, self.sizeHint().height())

    def remove(self) -> None:
        from ketadesk.clinic.history.entries import remove_treatment

        def run() -> PriorTreatment:
            with self.context.db.transaction() as session:
                return remove_treatment(session, self.context.actor, self.patient_id,
                                        self.entry_id, str(self.form.values()["reason"]))

        if attempt(self, run, self.form) is not None:
            self.accept()
