"""Forms whose fields show their own errors, and a guard that turns errors into words.

A :class:`FieldForm` collects raw values (text, as a person typed them) keyed by the same
field names the services use, hands them to a service, and when the service raises a
:class:`~ketadesk.errors.ValidationError` shows each problem beside its field. Problems for
names the form does not show go to a banner at the top, so nothing is ever lost.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ketadesk.errors import FieldProblem, KetaDeskError, ValidationError

ERROR_STYLE = "color: #b3261e;"
INVALID_STYLE = "border: 1px solid #b3261e;"
T = TypeVar("T")


CHECKLIST_WIDEST = 440  # pixels a check list may ask for: a form still fits a laptop


class CheckList(QListWidget):
    """A short list of ``(value, label)`` choices, each with its own check box.

    Its raw value is the list of checked values, in the order the choices were given.
    """

    def __init__(self, choices: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_choices(choices)

    def set_choices(self, choices: Sequence[tuple[str, str]]) -> None:
        """Offer ``choices`` instead (all unticked)."""
        self.clear()
        for value, text in choices:
            item = QListWidgetItem(text, self)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        rows = min(max(len(choices), 1), 6)
        self.ensurePolished()  # measured in the window's style, as they will be drawn
        row_height = self.sizeHintForRow(0) if choices else self.fontMetrics().height() + 6
        self.setFixedHeight(rows * row_height + 2 * self.frameWidth() + 4)
        # Choices whole (a chain's long location names): the form widens rather than cut
        # them, up to CHECKLIST_WIDEST; longer lines (a charge's description) scroll sideways.
        scroll = self.verticalScrollBar().sizeHint().width() if len(choices) > rows else 0
        widest = self.sizeHintForColumn(0) if choices else 0
        self.setMinimumWidth(min(widest + 2 * self.frameWidth() + scroll + 4, CHECKLIST_WIDEST))

    def _items(self) -> list[QListWidgetItem]:
        return [self.item(row) for row in range(self.count())]

    def checked(self) -> list[str]:
        return [
            str(item.data(Qt.ItemDataRole.UserRole))
            for item in self._items()
            if item.checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, values: Iterable[str]) -> None:
        wanted = set(values)
        for item in self._items():
            on = item.data(Qt.ItemDataRole.UserRole) in wanted
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def set_checked_value(self, value: str, checked: bool = True) -> None:
        """Tick (or untick) the choice whose value is ``value``, as a click would."""
        for item in self._items():
            if item.data(Qt.ItemDataRole.UserRole) == value:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)


Editor = QLineEdit | QComboBox | QCheckBox | QPlainTextEdit | CheckList


def as_text(value: object) -> str:
    """A stored value as the text a person would type back into the field."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(as_text(v) for v in value))
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value)
    return str(value)


class FieldForm(QWidget):
    """Labelled fields in a form layout, each with an error label beside it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        self.banner = QLabel()
        self.banner.setStyleSheet(ERROR_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)
        self.layout_ = QFormLayout()
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        outer.addLayout(self.layout_)
        outer.addStretch(1)
        self.editors: dict[str, Editor] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, str] = {}

    def _add(self, name: str, label: str, editor: Editor, required: bool) -> None:
        editor.setObjectName(name)
        error = QLabel()
        error.setObjectName(f"{name}_error")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(editor, 3)
        box.addWidget(error, 2)
        caption = QLabel(f"{label}{' *' if required else ''}")
        caption.setBuddy(editor)
        self.layout_.addRow(caption, row)
        self.editors[name], self.errors[name], self.labels[name] = editor, error, label

    def add_section(self, title: str) -> None:
        heading = QLabel(f"<b>{title}</b>")
        heading.setContentsMargins(0, 10, 0, 2)
        self.layout_.addRow(heading)

    def add_text(
        self, name: str, label: str, *, placeholder: str = "", required: bool = False
    ) -> QLineEdit:
        editor = QLineEdit()
        editor.setPlaceholderText(placeholder)
        self._add(name, label, editor, required)
        return editor

    def add_choice(
        self, name: str, label: str, choices: Sequence[tuple[str, str]], *, required: bool = False
    ) -> QComboBox:
        """A drop-down of ``(value, label)`` pairs; the value is what the service receives."""
        editor = QComboBox()
        for value, text in choices:
            editor.addItem(text, value)
        self._add(name, label, editor, required)
        return editor

    def add_check(self, name: str, label: str) -> QCheckBox:
        editor = QCheckBox()
        self._add(name, label, editor, False)
        return editor

    def add_checklist(
        self, name: str, label: str, choices: Sequence[tuple[str, str]], *, required: bool = False
    ) -> CheckList:
        """Several ``(value, label)`` choices to tick; the service receives the checked values."""
        editor = CheckList(choices)
        self._add(name, label, editor, required)
        return editor

    def add_multiline(self, name: str, label: str, *, placeholder: str = "") -> QPlainTextEdit:
        editor = QPlainTextEdit()
        editor.setPlaceholderText(placeholder)
        editor.setFixedHeight(70)
        self._add(name, label, editor, False)
        return editor

    def values(self) -> dict[str, object]:
        """Raw values keyed by field name: text, the chosen value, or a bool for checks."""
        out: dict[str, object] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QLineEdit):
                out[name] = editor.text()
            elif isinstance(editor, QComboBox):
                out[name] = editor.currentData()
            elif isinstance(editor, QCheckBox):
                out[name] = editor.isChecked()
            elif isinstance(editor, CheckList):
                out[name] = editor.checked()
            else:
                out[name] = editor.toPlainText()
        return out

    def set_values(self, values: Mapping[str, object]) -> None:
        for name, value in values.items():
            editor = self.editors.get(name)
            if isinstance(editor, QLineEdit):
                editor.setText(as_text(value))
            elif isinstance(editor, QComboBox):
                index = editor.findData(as_text(value) if value is not None else None)
                editor.setCurrentIndex(max(index, 0))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QPlainTextEdit):
                editor.setPlainText(as_text(value))
            elif isinstance(editor, CheckList):
                editor.set_checked(_choice_values(value))

    def clear_problems(self) -> None:
        self.banner.hide()
        for name, error in self.errors.items():
            error.hide()
            error.clear()
            self.editors[name].setStyleSheet("")

    def show_problems(self, problems: Iterable[FieldProblem]) -> None:
        """Show each problem beside its field; problems of unshown fields go to the banner."""
        self.clear_problems()
        loose: list[str] = []
        first: Editor | None = None
        for problem in problems:
            error = self.errors.get(problem.field)
            if error is None:
                loose.append(str(problem))
                continue
            text = f"{error.text()}\n{problem.message}" if error.text() else problem.message
            error.setText(text)
            error.show()
            self.editors[problem.field].setStyleSheet(INVALID_STYLE)
            first = first or self.editors[problem.field]
        if loose:
            self.banner.setText("\n".join(loose))
            self.banner.show()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def error_text(self, name: str) -> str:
        """What is shown beside field ``name`` (empty when it is fine)."""
        error = self.errors[name]
        return error.text() if error.isVisibleTo(self) else ""


def _choice_values(value: object) -> list[str]:
    """The values a :class:`CheckList` should tick: from a list/set, or "a, b" text."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Iterable):
        return [as_text(part) for part in value]
    return [as_text(value)]


def show_error(parent: QWidget | None, error: KetaDeskError, title: str = "Not done") -> None:
    """Tell the person, in words, why an action was refused."""
    QMessageBox.warning(parent, title, str(error))


def attempt(
    parent: QWidget | None, action: Callable[[], T], form: FieldForm | None = None
) -> T | None:
    """Run ``action``; show a refusal beside the form's fields or in a message box.

    Returns the action's result, or ``None`` when it was refused (and nothing changed,
    because every service runs inside a transaction that rolled back).
    """
    if form is not None:
        form.clear_problems()
    try:
        return action()
    except ValidationError as error:
        if form is not None:
            form.show_problems(error.problems)
        else:
            show_error(parent, error)
    except KetaDeskError as error:
        show_error(parent, error)
    return None


def require_hooks(cls: type, names: Sequence[str]) -> None:
    """Refuse, when the class is defined, a subclass that leaves out a hook it must define.

    ``abc.abstractmethod`` cannot do this for Qt classes: PySide6's metaclass does not
    consult ``ABCMeta`` when a widget is created, so a missing hook would surface only when
    it is first called.
    """
    missing = [name for name in names if not callable(getattr(cls, name, None))]
    if missing:
        raise TypeError(f"{cls.__name__} must define {', '.join(missing)}")
