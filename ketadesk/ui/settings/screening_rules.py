"""Settings → Screening rules: what each intake finding does, and how long an intake lasts.

The table lists every rule key (:func:`~ketadesk.clinic.intake.rules.screening_rules`): the
conditions asked on the intake, the medication interactions, and the intake's own state
(missing, expired), each with its rule and the source the default was taken from. Choosing
another rule in a row saves it at once (:func:`~ketadesk.clinic.intake.rules.set_rule`, one
transaction); "Save" beside the months saves the validity period. Only people who may set
clinical rules (``CLINICAL_SETUP``: managers, administrators) can change anything; others
see the same table, read-only.
"""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.clinic.intake.models import FindingRule
from ketadesk.clinic.intake.rules import (
    MAX_VALID_MONTHS,
    RuleRow,
    screening_rules,
    set_rule,
    set_valid_months,
    valid_months,
)
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import attempt
from ketadesk.ui.style import set_role

COLUMNS = ("Finding", "Rule", "Source")
RULE_CHOICES = (
    ("Absolute", FindingRule.ABSOLUTE),
    ("Relative", FindingRule.RELATIVE),
    ("Ignore", FindingRule.IGNORE),
)
RULE_WIDTH = 190  # "Relative (default)" in full
KIND_WORDS = {"condition": "", "interaction": "Medication: ", "state": "Intake: "}


class ScreeningRulesTab(QWidget):
    """The rules table and the validity period."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screeningRulesTab")
        self.context = context
        self.may_change = context.actor.can(Permission.CLINICAL_SETUP)
        self.rows: list[RuleRow] = []
        self.choices: dict[str, QComboBox] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 10, 0, 0)
        note = QLabel(
            "Absolute: dosing is refused unless a provider overrides the finding with a "
            "written reason. Relative: a warning to acknowledge at booking and before the "
            "dose. The defaults name their source; the medical director reviews them."
            + ("" if self.may_change else " Only managers and administrators change them.")
        )
        note.setWordWrap(True)
        set_role(note, "muted")
        column.addWidget(note)
        column.addLayout(self._period())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("screeningRules")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, RULE_WIDTH)
        # The sources wrap: their rows are measured again whenever the tab's width changes.
        column.addWidget(self.table, 1)
        self.refresh()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.table.resizeRowsToContents()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.table.resizeRowsToContents()

    def _period(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("An intake stays valid for"))
        self.months = QSpinBox()
        self.months.setObjectName("validMonths")
        self.months.setRange(1, MAX_VALID_MONTHS)
        self.months.setSuffix(" months")
        self.months.setEnabled(self.may_change)
        row.addWidget(self.months)
        self.save_months = QPushButton("Save")
        self.save_months.setObjectName("saveValidMonths")
        self.save_months.clicked.connect(self._save_months)
        self.save_months.setVisible(self.may_change)
        row.addWidget(self.save_months)
        row.addStretch(1)
        return row

    def refresh(self) -> None:
        with self.context.db.reading() as session:
            self.rows = screening_rules(session)
            self.months.setValue(valid_months(session))
        self.table.setRowCount(len(self.rows))
        self.choices = {}
        for index, rule in enumerate(self.rows):
            name = QTableWidgetItem(KIND_WORDS[rule.kind] + rule.label)
            source = QTableWidgetItem(rule.source)
            source.setToolTip(rule.source)
            self.table.setItem(index, 0, name)
            self.table.setItem(index, 2, source)
            self.table.setCellWidget(index, 1, self._choice(rule))
        self.table.resizeRowsToContents()

    def _choice(self, rule: RuleRow) -> QComboBox:
        box = QComboBox()
        box.setObjectName(f"rule_{rule.key}")
        for text, value in RULE_CHOICES:
            box.addItem(text + (" (default)" if value is rule.default else ""), value)
        box.setCurrentIndex([v for _t, v in RULE_CHOICES].index(rule.rule))
        box.setEnabled(self.may_change)
        box.activated.connect(lambda _index, key=rule.key, box=box: self._chosen(key, box))
        self.choices[rule.key] = box
        return box

    def _chosen(self, key: str, box: QComboBox) -> None:
        def change() -> None:
            with self.context.db.transaction() as session:
                set_rule(session, self.context.actor, key, box.currentData())

        attempt(self, change)
        self.refresh()

    def _save_months(self) -> None:
        def change() -> None:
            with self.context.db.transaction() as session:
                set_valid_months(session, self.context.actor, self.months.value())

        attempt(self, change)
        self.refresh()
