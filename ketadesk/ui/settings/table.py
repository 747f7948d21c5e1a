"""A list of records beside a form: the building block every Settings tab is made of.

:class:`RecordTab` shows a table of records on the left (name, code, status) and, on the
right, a :class:`~ketadesk.ui.forms.FieldForm` with Save / New / Deactivate. A tab only says
what is particular to its records by overriding a handful of hooks:

* :meth:`~RecordTab.build_form` adds the fields (named like the service's raw keys);
* :meth:`~RecordTab.load_rows` and :meth:`~RecordTab.load_values` read, inside
  ``context.db.reading()``;
* :meth:`~RecordTab.create_record`, :meth:`~RecordTab.update_record` and
  :meth:`~RecordTab.set_record_active` call one service each, inside
  ``context.db.transaction()``.

Flow: selecting a row reads that record into the form. Save hands ``form.values()`` to
``create_record`` (nothing selected) or ``update_record`` through
:func:`~ketadesk.ui.forms.attempt`, so a :class:`~ketadesk.errors.ValidationError` puts
every problem beside its field and the transaction rolls back, writing nothing; on success
the list is reloaded and the saved record selected. :func:`read` and :func:`write` are the
same two steps for panels that are not a whole tab (a location's closures, its holidays).

People without the tab's permission see the same list and form, read-only, with a note that
says who may change it, and no buttons at all (the services refuse them anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.clinic.locations import list_locations
from ketadesk.clinic.validation import FieldSpec, format_phone
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import DownScrollArea, wrap_words
from ketadesk.ui.forms import CheckList, FieldForm, attempt, require_hooks

T = TypeVar("T")

CLINIC_SETUP_NOTE = "Only managers and administrators can change clinic setup."
NOTE_STYLE = "background: #fff4ce; border: 1px solid #e0c97a; padding: 6px; color: #5c4a00;"
SAVED_STYLE = "color: #1e6b34;"
INACTIVE_COLOUR = QColor("#8a8a8a")
# Locked fields look locked: Qt draws a read-only line edit just like an editable one.
READ_ONLY_STYLE = (
    'QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"] '
    "{ background: #f2f2f2; color: #333; }"
)


@dataclass(frozen=True)
class Row:
    """One line of a record list: the record's id, the texts of its cells, its status."""

    key: int
    cells: tuple[str, ...]
    active: bool = True


def read(parent: QWidget, context: AppContext, action: Callable[[Session], T]) -> T | None:
    """Run ``action`` in a read-only session; a refusal is shown in words, not raised."""
    def run() -> T:
        with context.db.reading() as session:
            return action(session)
    return attempt(parent, run)


def write(parent: QWidget, context: AppContext, action: Callable[[Session], T],
          form: FieldForm | None = None) -> T | None:
    """Run ``action`` in one write transaction; problems go beside ``form``'s fields.

    Returns what ``action`` returned, or ``None`` when it was refused (nothing was written).
    """
    def run() -> T:
        with context.db.transaction() as session:
            return action(session)
    return attempt(parent, run, form)


class Fields:
    """The labels and required marks a service declares for its fields, for building forms."""

    def __init__(self, specs: Sequence[FieldSpec]) -> None:
        self.specs = {spec.name: spec for spec in specs}

    def label(self, name: str) -> str:
        return self.specs[name].label

    def required(self, name: str) -> bool:
        return self.specs[name].required

    def add_texts(self, form: FieldForm, names: Sequence[str],
                  placeholders: Mapping[str, str] | None = None) -> None:
        """Text fields for ``names``, labelled and starred as the service declares them."""
        hints = placeholders or {}
        for name in names:
            form.add_text(name, self.label(name), placeholder=hints.get(name, ""),
                          required=self.required(name))

    def add_choice(self, form: FieldForm, name: str,
                   choices: Sequence[tuple[str, str]]) -> QComboBox:
        return form.add_choice(name, self.label(name), choices, required=self.required(name))


def write_done(parent: QWidget, context: AppContext, action: Callable[[Session], object],
               form: FieldForm | None = None) -> bool:
    """:func:`write` for an action whose result does not matter: True when it was done."""
    def run(session: Session) -> bool:
        action(session)
        return True
    return write(parent, context, run, form) is not None


def shown_phone(values: Mapping[str, object]) -> dict[str, object]:
    """``values`` with its stored ten-digit ``phone`` written as (212) 555-0142."""
    phone = values.get("phone")
    return {**values, "phone": format_phone(str(phone)) if phone else ""}


def location_choices(session: Session, context: AppContext) -> list[tuple[str, str]]:
    """``(code, "Name (CODE)")`` for every location, retired ones marked (for pickers)."""
    found = list_locations(session, context.actor, include_inactive=True)
    return [(loc.code, f"{loc.name} ({loc.code}){'' if loc.active else ' – inactive'}")
            for loc in found]


def set_read_only(editor: QLineEdit | QPlainTextEdit, read_only: bool) -> None:
    """Lock or unlock a text field, and redraw it in the matching style."""
    editor.setReadOnly(read_only)
    if editor.property("example") is None:
        editor.setProperty("example", editor.placeholderText())
    editor.setPlaceholderText("" if read_only else str(editor.property("example")))
    editor.style().unpolish(editor)
    editor.style().polish(editor)


def make_read_only(form: FieldForm) -> None:
    """Let a form be read but not changed (text stays selectable and copyable).

    Placeholders go too: in a locked form a grey example would read as a stored value.
    """
    form.setStyleSheet(READ_ONLY_STYLE)
    for editor in form.editors.values():
        if isinstance(editor, QLineEdit | QPlainTextEdit):
            set_read_only(editor, True)
        elif isinstance(editor, QComboBox | QCheckBox | CheckList):
            editor.setEnabled(False)


def note_label(text: str) -> QLabel:
    """A pale yellow note across the top of a panel (why something cannot be changed)."""
    note = QLabel(text)
    note.setObjectName("read_only_note")
    note.setWordWrap(True)
    note.setStyleSheet(NOTE_STYLE)
    return note


def set_choices(combo: QComboBox, choices: Sequence[tuple[str, str]]) -> None:
    """Offer ``(value, label)`` choices in a drop-down instead of the ones it had."""
    combo.blockSignals(True)
    combo.clear()
    for value, text in choices:
        combo.addItem(text, value)
    combo.blockSignals(False)


def fill_table(table: QTableWidget, rows: list[Row],
               status_texts: tuple[str, str] = ("Active", "Inactive")) -> None:
    """Replace the table's rows; inactive records are greyed and say so in the last column."""
    table.setRowCount(len(rows))
    for index, row in enumerate(rows):
        cells = (*row.cells, status_texts[0] if row.active else status_texts[1])
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)  # a narrow column elides; the whole text is a hover away
            item.setData(Qt.ItemDataRole.UserRole, row.key)
            if not row.active:
                item.setForeground(QBrush(INACTIVE_COLOUR))
            table.setItem(index, column, item)


def record_table(columns: tuple[str, ...], stretch: int = 0) -> QTableWidget:
    """A read-only, single-selection table whose column ``stretch`` takes the spare width."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.setAlternatingRowColors(True)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    # Names in a chain are long ("Stillwater Ketamine & Wellness — Downtown Austin"): in a
    # laptop's narrow list they wrap onto a second line instead of losing their middle.
    wrap_words(table)
    return table


_RECORD_HOOKS = ("build_form", "load_rows", "load_values", "create_record", "update_record")


class RecordTab(QWidget):
    """A record list and its form; subclasses fill in the hooks below."""

    #: the record's name in words: "location", "chair"
    noun = "record"
    #: the list's column headings; a Status column is added after them
    columns: tuple[str, ...] = ("Name",)
    #: the column that takes the spare width (and elides when there is none)
    stretch_column = 0
    #: what the actor needs to change these records
    permission = Permission.CLINIC_SETUP
    read_only_text = CLINIC_SETUP_NOTE
    #: the button's text for an active / an inactive record
    deactivate_texts = ("Deactivate", "Reactivate")
    #: the Status column's word for an active / an inactive record
    status_texts = ("Active", "Inactive")
    #: the service keeps the status among the raw values (``active``) rather than having a
    #: switch of its own; saving then keeps the status the record has
    status_in_raw = True

    #: emitted after a record was saved, deactivated or reactivated (other tabs refresh)
    changed = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.editable = context.actor.can(self.permission)
        self.current: int | None = None
        self._current_active = True
        self.rows: dict[int, Row] = {}
        self.table = record_table((*self.columns, "Status"), self.stretch_column)
        self.show_inactive = QCheckBox(f"Show {self.status_texts[1].lower()} {self.noun}s")
        self.form = FieldForm()
        self.heading = QLabel()
        self.saved = QLabel()
        self.save_button = QPushButton("Save")
        self.new_button = QPushButton(f"New {self.noun}")
        self.deactivate_button = QPushButton(self.deactivate_texts[0])
        self.build_form(self.form)
        self._lay_out()
        self._connect()
        if not self.editable:
            make_read_only(self.form)
        self.reload()

    # -- hooks ------------------------------------------------------------------------------
    # Every tab defines build_form, load_rows, load_values, create_record and update_record;
    # a tab class without one is refused when it is defined (see require_hooks).

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hooks(cls, _RECORD_HOOKS)

    if TYPE_CHECKING:

        def build_form(self, form: FieldForm) -> None:
            """Add this record's fields, named like the raw keys its service reads."""

        def load_rows(self, session: Session, include_inactive: bool) -> list[Row]: ...

        def load_values(self, session: Session, key: int) -> Mapping[str, object]:
            """The form's values for record ``key``."""

        def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
            """Create a record from the form's raw values; return its id."""

        def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
            ...

    def blank_values(self) -> Mapping[str, object]:
        """The form's values for a new record."""
        return dict.fromkeys(self.form.editors, "")

    def set_record_active(self, session: Session, key: int, active: bool) -> None:
        """Switch the status; by default, save the stored values with ``active`` changed."""
        values = {**self.load_values(session, key), "active": active}
        self.update_record(session, key, values)

    def load_choices(self, session: Session) -> None:
        """Fill drop-downs and check lists whose choices come from the database."""

    def describe(self, values: Mapping[str, object]) -> str:
        """The heading above the form for a shown record."""
        return str(values.get("name") or "")

    def record_shown(self, key: int | None) -> None:
        """Called after the form shows record ``key`` (``None``: a new record)."""

    def side_panel(self, details: QWidget) -> QWidget:
        """The right-hand side; tabs with more to show wrap ``details`` in their own pages."""
        return details

    # -- layout -----------------------------------------------------------------------------

    def _lay_out(self) -> None:
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.table, 1)
        left_box.addWidget(self.show_inactive)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.side_panel(self._details()))
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([520, 680])
        splitter.setChildrenCollapsible(False)
        outer = QVBoxLayout(self)
        if not self.editable:
            outer.addWidget(note_label(self.read_only_text))
        outer.addWidget(splitter, 1)

    def _details(self) -> QWidget:
        details = QWidget()
        details.setStyleSheet(READ_ONLY_STYLE)
        box = QVBoxLayout(details)
        box.setContentsMargins(4, 4, 0, 0)
        self.heading.setContentsMargins(9, 0, 0, 0)  # in line with the form's labels
        self.heading.setStyleSheet("font-size: 15px; font-weight: bold;")
        box.addWidget(self.heading)
        scroll = DownScrollArea()
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        # Let the page show through, as on a tab's page (setWidget turns filling on).
        scroll.viewport().setAutoFillBackground(False)
        self.form.setAutoFillBackground(False)
        box.addWidget(scroll, 1)
        if self.editable:
            box.addLayout(self._buttons())
        return details

    def _buttons(self) -> QHBoxLayout:
        self.save_button.setDefault(True)
        self.saved.setStyleSheet(SAVED_STYLE)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addWidget(self.new_button)
        row.addWidget(self.deactivate_button)
        row.addWidget(self.saved, 1)
        return row

    def _connect(self) -> None:
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.show_inactive.toggled.connect(lambda _on: self.reload(self.current))
        self.save_button.clicked.connect(self.save)
        self.new_button.clicked.connect(self.start_new)
        self.deactivate_button.clicked.connect(self.toggle_active)

    # -- reading ----------------------------------------------------------------------------

    def reading(self, action: Callable[[Session], T]) -> T | None:
        return read(self, self.context, action)

    def writing(self, action: Callable[[Session], T], form: FieldForm | None = None) -> T | None:
        return write(self, self.context, action, form)

    def reload(self, select: int | None = None) -> None:
        """Read the list again and show record ``select`` (or a blank form if it is gone)."""
        rows = self._refill()
        if select is None and rows:
            select = rows[0].key  # open on a record, not an empty form; "New" is one click
        if select is None or not self.select(select):
            self.start_new()

    def refresh_list(self) -> None:
        """Read the list and the choices again, keeping what the form shows, typed or not."""
        typed = self.form.values()
        self._refill()
        self._mark(self.current)
        self.form.set_values(typed)

    def _refill(self) -> list[Row]:
        include = self.show_inactive.isChecked()
        rows = self.reading(lambda s: self._read_list(s, include)) or []
        self.rows = {row.key: row for row in rows}
        self.table.blockSignals(True)
        fill_table(self.table, rows, self.status_texts)
        self.table.blockSignals(False)
        return rows

    def _read_list(self, session: Session, include_inactive: bool) -> list[Row]:
        self.load_choices(session)
        return self.load_rows(session, include_inactive)

    def select(self, key: int) -> bool:
        """Select record ``key`` in the list and show it; False if it is not listed."""
        if not self._mark(key):
            return False
        self.show_record(key)
        return True

    def _mark(self, key: int | None) -> bool:
        """Highlight record ``key``'s row without showing it again; False if not listed."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if key is not None and item is not None and item.data(Qt.ItemDataRole.UserRole) == key:
                self.table.blockSignals(True)
                self.table.selectRow(row)
                self.table.blockSignals(False)
                return True
        return False

    def _selection_changed(self) -> None:
        items = self.table.selectedItems()
        if items:
            self.show_record(int(items[0].data(Qt.ItemDataRole.UserRole)))

    def show_record(self, key: int) -> None:
        values = self.reading(lambda s: self.load_values(s, key))
        if values is None:
            return
        self.current = key
        row = self.rows.get(key)
        self._current_active = row is None or row.active
        self.form.clear_problems()
        self.form.set_values(values)
        active = "" if self._current_active else f" ({self.status_texts[1].lower()})"
        self.heading.setText(f"{self.describe(values)}{active}")
        self.deactivate_button.setText(self.deactivate_texts[0 if self._current_active else 1])
        self.deactivate_button.setVisible(self.editable)
        self.saved.clear()
        self.record_shown(key)

    def start_new(self) -> None:
        """Clear the form for a new record."""
        self.current = None
        self.table.clearSelection()
        self.form.clear_problems()
        self.form.set_values(self.blank_values())
        self.heading.setText(f"New {self.noun}" if self.editable else f"Choose a {self.noun}")
        self.deactivate_button.hide()
        self.saved.clear()
        self.record_shown(None)

    # -- writing ----------------------------------------------------------------------------

    def save(self) -> None:
        raw = self.form.values()
        key = self.current
        if self.status_in_raw and key is not None:
            raw["active"] = self._current_active
        if key is None:
            saved = self.writing(lambda s: self.create_record(s, raw), self.form)
        else:
            saved = self.writing(lambda s: self.update_record(s, key, raw), self.form)
        if saved is not None:
            self.reload(saved)
            self.saved.setText("Saved.")
            self.changed.emit()

    def toggle_active(self) -> None:
        key, active = self.current, not self._current_active
        if key is None or not write_done(
                self, self.context, lambda s: self.set_record_active(s, key, active)):
            return
        if active is False and not self.show_inactive.isChecked():
            self.show_inactive.setChecked(True)  # keep the record in view, greyed
        self.reload(key)
        done = self.deactivate_texts[1 if active else 0]  # "Deactivate" -> "Deactivated."
        self.saved.setText(f"{done}d.")
        self.changed.emit()
