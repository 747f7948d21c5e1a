"""The Billing area of the window, and the small pieces its tabs and dialogs share.

* ``view`` — :class:`~ketadesk.ui.billing.view.BillingView`: the area's tabs (charges to
  review, invoices, credits & prepayments, then packages, estimates and superbills);
* ``charges`` — the review queue: capture, edit, dismiss and post charges;
* ``invoices`` — the invoice list and the open invoice: issue, void, payment, PDF;
* ``payment_dialog`` — :class:`TakePaymentDialog`, also used from the chart and at check-out;
* ``corrections`` — refund, adjustment and reversal dialogs, each requiring a reason;
* ``pdf`` — a PDF's bytes opened in the system viewer or saved where the person chooses.

Nothing here holds a money rule: every figure comes from :mod:`ketadesk.billing` services,
and every action is one of them inside one ``context.db.transaction()``. This module only
reads a typed amount and builds the read-only tables and permission-aware buttons the tabs
have in common (money and dates are written by :mod:`ketadesk.ui.format`). It imports no
tab, so the patient chart can open the payment dialog without building the area.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import TypeVar

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidgetItem,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ketadesk.access.permissions import Actor, Permission
from ketadesk.config import data_dir
from ketadesk.errors import FieldProblem, InvalidValue, KetaDeskError, ValidationError
from ketadesk.money import amount_above_zero
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.style import set_role

T = TypeVar("T")
ID_ROLE = Qt.ItemDataRole.UserRole
Clock = Callable[[], date]
Confirm = Callable[[QWidget | None, str, str], bool]


def parse_amount(text: str) -> Decimal:
    """An amount a person typed (``450``, ``$1,200.50``) as exact money above zero.

    The rule is :func:`ketadesk.money.amount_above_zero`, which the command line shares.
    Raises :class:`InvalidValue` with a sentence for anything else.
    """
    if not text.strip():
        raise InvalidValue("enter an amount, like 450.00")
    return amount_above_zero(text)


def read_amount(text: str, field: str, problems: list[FieldProblem]) -> Decimal | None:
    """:func:`parse_amount`, keeping a refusal as a problem of ``field`` instead of raising."""
    try:
        return parse_amount(text)
    except InvalidValue as error:
        problems.append(FieldProblem(field, str(error)))
        return None


def attempt_in(form: FieldForm, action: Callable[[], T]) -> T | None:
    """Run ``action``; show a refusal inside ``form`` and return ``None``.

    Field problems go beside their fields; any other refusal (a conflict, a permission, a
    stale edit) goes in the form's banner, in words. The action's transaction rolled back,
    so nothing changed. Unlike :func:`ketadesk.ui.forms.attempt` no message box is raised:
    the person reads the reason where they typed.
    """
    form.clear_problems()
    try:
        return action()
    except ValidationError as error:
        form.show_problems(error.problems)
    except KetaDeskError as error:
        form.banner.setText(sentence(str(error)))
        form.banner.show()
    return None


def sentence(text: str) -> str:
    """A service's message as a sentence: capital first letter, a full stop at the end."""
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?" else f"{text}."


class Notice(QLabel):
    """A line under a tab that says what just happened, or — in red — why it was refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.refused = False

    def say(self, text: str) -> None:
        self.refused = False
        set_role(self, "muted")
        self.setText(text)

    def refuse(self, error: KetaDeskError) -> None:
        self.refused = True
        set_role(self, "error")
        self.setText(sentence(str(error)))

    def attempt(self, action: Callable[[], T]) -> T | None:
        """Run ``action``; on a refusal say why here and return ``None`` (nothing changed)."""
        try:
            return action()
        except KetaDeskError as error:
            self.refuse(error)
            return None


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask a yes/no question; True when the person answered Yes."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def not_allowed(actor: Actor, permission: Permission) -> str:
    """The tooltip of a button this actor may not use: who they are and what it needs."""
    return f"Your role ({actor.role.label}) may not {permission.label}."


def guard(button: QAbstractButton, actor: Actor, permission: Permission, tip: str = "") -> bool:
    """Disable ``button`` with a tooltip saying why unless ``actor`` holds ``permission``.

    Returns whether the actor may use it. The services refuse anyway; this is courtesy.
    """
    allowed = actor.can(permission)
    button.setEnabled(allowed)
    button.setToolTip(tip if allowed else not_allowed(actor, permission))
    button.setProperty("allowed", allowed)
    return allowed


def allowed(button: QAbstractButton) -> bool:
    """Whether :func:`guard` let the actor use ``button`` (unguarded buttons: yes)."""
    return bool(button.property("allowed") if button.property("allowed") is not None else True)


def make_table(
    columns: Sequence[str],
    *,
    money_columns: Sequence[int] = (),
    stretch: int | None = None,
    multi: bool = False,
    object_name: str = "",
    max_widths: dict[int, int] | None = None,
) -> QTableWidget:
    """A read-only table of whole rows in KetaDesk's look; money columns align right.

    Columns fit their contents up to :data:`MAX_COLUMN_WIDTH` (or ``max_widths[column]``);
    the ``stretch`` column takes the room left.
    """
    table = QTableWidget(0, len(columns))
    if object_name:
        table.setObjectName(object_name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(28)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(stretch is None)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setProperty("money_columns", list(money_columns))
    table.setProperty("max_widths", {str(k): v for k, v in (max_widths or {}).items()})
    for column in money_columns:
        item = table.horizontalHeaderItem(column)
        if item is not None:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return table


MAX_COLUMN_WIDTH = 240  # a very long name is cut (its cell's tooltip has it all)


def fit_columns(table: QTableWidget) -> None:
    """Size the columns to what they hold, none wider than :data:`MAX_COLUMN_WIDTH`."""
    header = table.horizontalHeader()
    limits = table.property("max_widths") or {}
    for column in range(table.columnCount()):
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
            continue
        table.resizeColumnToContents(column)
        limit = int(limits.get(str(column), MAX_COLUMN_WIDTH))
        if table.columnWidth(column) > limit:
            table.setColumnWidth(column, limit)


def fill_table(
    table: QTableWidget,
    rows: Sequence[tuple[object, Sequence[str]]],
    *,
    keep_selection: bool = True,
) -> None:
    """Replace the rows of ``table``: each is ``(key, cells)``; the key rides on column 0.

    The rows whose keys were selected stay selected, so a refresh does not lose the place.
    """
    selected = set(selected_keys(table)) if keep_selection else set()
    right = set(table.property("money_columns") or ())
    table.setSortingEnabled(False)
    table.clearSelection()
    table.setRowCount(len(rows))
    mode = table.selectionMode()
    if selected:  # re-selecting row by row needs a mode that adds to the selection
        table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
    for number, (key, cells) in enumerate(rows):
        for column, text in enumerate(cells):
            table.setItem(number, column, _cell(text, key, column, right))
        if key in selected:
            table.selectRow(number)
    table.setSelectionMode(mode)
    fit_columns(table)


def append_rows(
    table: QTableWidget, first: int, rows: Sequence[tuple[object, Sequence[str]]]
) -> None:
    """Add ``rows`` below row ``first - 1`` (a further page of a list), as :func:`fill_table`
    would draw them, leaving the rows above and the selection as they are."""
    right = set(table.property("money_columns") or ())
    table.setRowCount(first + len(rows))
    for number, (key, cells) in enumerate(rows, start=first):
        for column, text in enumerate(cells):
            table.setItem(number, column, _cell(text, key, column, right))
    fit_columns(table)


def _cell(text: str, key: object, column: int, right: set[int]) -> QTableWidgetItem:
    """One cell; the row's key rides on column 0, money columns align right."""
    item = QTableWidgetItem(text)
    if len(text) > 24:  # may be cut off in the cell; hovering shows it whole
        item.setToolTip(text)
    if column == 0:
        item.setData(ID_ROLE, key)
    if column in right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def more_item(more: int) -> QListWidgetItem:
    """The last line of a picker that shows only the first matches: how many it left out,
    and what to do about it. It cannot be chosen."""
    item = QListWidgetItem(f"… and {more:,} more; type more of the name, the MRN or the birth date")
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    return item


def layout_settings() -> QSettings:
    """Where the window remembers how a person arranged it (a split's sizes): an INI file
    in KetaDesk's data directory, beside the database, never the system's registry."""
    return QSettings(str(data_dir() / "layout.ini"), QSettings.Format.IniFormat)


def selected_keys(table: QTableWidget) -> list[object]:
    """The keys of the selected rows, top to bottom."""
    rows = sorted({index.row() for index in table.selectionModel().selectedRows()})
    keys = []
    for row in rows:
        item = table.item(row, 0)
        if item is not None:
            keys.append(item.data(ID_ROLE))
    return keys


def all_keys(table: QTableWidget) -> list[object]:
    """The keys of every row shown, top to bottom."""
    keys = []
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None:
            keys.append(item.data(ID_ROLE))
    return keys


def select_key(table: QTableWidget, key: object) -> bool:
    """Select the row whose key is ``key``; False when it is not shown."""
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None and item.data(ID_ROLE) == key:
            table.selectRow(row)
            table.scrollToItem(item)
            return True
    return False
