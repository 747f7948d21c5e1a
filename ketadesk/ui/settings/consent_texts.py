"""Settings → "Consent texts": every treatment's consent text with its versions, and an
editor whose save writes a *new version* (never changes one), through
:func:`ketadesk.clinic.consent.texts.add_version`.

The list shows each version: treatment, number, whether it changed the consent materially,
the day it takes effect, how long a signature stays valid, who wrote it. Selecting a
version loads it into the editor; "Save as new version" writes the next one with the
"material change" tick, the validity in months (0: until withdrawn) and the effective day.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.clinic.consent import texts
from ketadesk.clinic.consent.models import ConsentKey, ConsentText
from ketadesk.errors import KetaDeskError
from ketadesk.ui.context import AppContext
from ketadesk.ui.style import set_role

HEADERS = ("Treatment", "Version", "Change", "In effect from", "Signature valid", "By")



def effective_words(text: ConsentText) -> str:
    """The day a version took effect, as the table shows it ("the start" for a shipped one)."""
    day = texts.chosen_effective_on(text)
    return "the start" if day is None else f"{day:%d %b %Y}"

class ConsentTextsTab(QWidget):
    """The versions above, across the whole width so every column reads at a laptop's size,
    and the editor beneath them."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.versions: list[ConsentText] = []
        column = QVBoxLayout(self)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setObjectName("consentVersions")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(230)  # about six versions; it scrolls beyond
        self.table.itemSelectionChanged.connect(self._load_selected)
        column.addWidget(self.table)
        column.addLayout(self._editor(), 1)
        self.reload()

    def _editor(self) -> QVBoxLayout:
        column = QVBoxLayout()
        form = QFormLayout()
        self.treatment = QComboBox()
        for key in ConsentKey:
            self.treatment.addItem(key.label, key)
        self.title = QLineEdit()
        self.months = QSpinBox()
        self.months.setRange(0, texts.MAX_VALID_MONTHS)
        self.months.setSpecialValueText("until withdrawn")
        self.months.setSuffix(" months")
        self.effective = QDateEdit(QDate.currentDate())
        self.effective.setCalendarPopup(True)
        self.effective.setDisplayFormat("MM/dd/yyyy")
        self.material = QCheckBox("Material change: patients must sign again from that day")
        form.addRow("Treatment", self.treatment)
        form.addRow("Title", self.title)
        form.addRow("Signature valid", self.months)
        form.addRow("In effect from", self.effective)
        form.addRow(self.material)
        column.addLayout(form)
        self.body = QPlainTextEdit()
        self.body.setObjectName("consentBody")
        column.addWidget(self.body, 1)
        self.error = QLabel()
        self.error.setWordWrap(True)
        set_role(self.error, "warning")
        self.error.hide()  # shown only with a refusal in it
        column.addWidget(self.error)
        self.save_button = QPushButton("Save as new version")
        self.save_button.clicked.connect(self.save)
        column.addWidget(self.save_button)
        return column

    def reload(self) -> None:
        with self.context.db.reading() as session:
            self.versions = texts.all_versions(session)
            session.expunge_all()
        self.table.setRowCount(len(self.versions))
        for r, v in enumerate(self.versions):
            cells = (v.key.label, str(v.version), "material" if v.material else "minor",
                     effective_words(v),
                     f"{v.valid_months} months" if v.valid_months else "until withdrawn",
                     v.edited_by)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{v.title} (version {v.version})")
                self.table.setItem(r, c, item)

    def _load_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        version = self.versions[rows[0].row()]
        self.treatment.setCurrentIndex(list(ConsentKey).index(version.key))
        self.title.setText(version.title)
        self.months.setValue(version.valid_months or 0)
        self.body.setPlainText(version.body)
        self.material.setChecked(False)

    def save(self) -> None:
        """Write the editor's text as the treatment's next version."""
        day = self.effective.date()
        try:
            with self.context.db.transaction() as session:
                texts.add_version(
                    session, self.context.actor, ConsentKey(self.treatment.currentData()),
                    self.body.toPlainText(), material=self.material.isChecked(),
                    effective_on=date(day.year(), day.month(), day.day()),
                    valid_months=self.months.value() or None, title=self.title.text(),
                )
        except KetaDeskError as error:
            self.error.setText(str(error))
            self.error.show()
            return
        self.error.setText("")
        self.error.hide()
        self.reload()
