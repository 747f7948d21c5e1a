"""The patient list as a Qt table model that loads one page at a time.

:meth:`PatientListModel.search` starts a new search and loads its first page with
:func:`ketadesk.clinic.patients.search_patients` on a read-only connection, as it runs per
keystroke: plain rows, no ORM session, and one connection kept while the person types
(:class:`ketadesk.db.HeldRows`). The view asks for more through ``canFetchMore`` and
``fetchMore`` as the person scrolls towards the end, and each call loads the next page
(``offset`` = rows already loaded). So a clinic of 20,000 patients costs one page of rows at
start-up, never the whole list.

:attr:`total` holds how many patients match in all (one indexed count, read on the same
connection as the first page), so the count label is exact before the last page has arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from sqlalchemy import Connection

from ketadesk.clinic.patients import PatientRow, count_matching, search_patients
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import count_text, phone_text, us_date

PAGE_SIZE = 100
COLUMNS = ("MRN", "Name", "Date of birth", "Age", "Phone")
ID_ROLE = Qt.ItemDataRole.UserRole
Index = QModelIndex | QPersistentModelIndex


def age_on(born: date, today: date) -> int:
    """Whole years from ``born`` to ``today``."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _alignment(column: int) -> Qt.AlignmentFlag:
    side = Qt.AlignmentFlag.AlignRight if column == 3 else Qt.AlignmentFlag.AlignLeft
    return side | Qt.AlignmentFlag.AlignVCenter


class PatientListModel(QAbstractTableModel):
    """Search results, fetched lazily a page at a time; ``ID_ROLE`` gives a row's patient id."""

    page_loaded = Signal()

    def __init__(self, context: AppContext, *, page_size: int = PAGE_SIZE,
                 today: Callable[[], date] = date.today, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.page_size = page_size
        self._today = today
        self.rows: list[PatientRow] = []
        self.text = ""
        self.exhausted = True
        self.total: int | None = None
        self._reads = context.db.held_rows()

    # --- searching -------------------------------------------------------------------

    def search(self, text: str) -> None:
        """Forget the loaded rows and load the first page of patients matching ``text``.

        The first page and, when more rows match than one page holds, the count are read in
        one read-only transaction, on the connection kept from the keystroke before.
        """
        self.beginResetModel()
        self.rows = []
        self.text = text.strip()
        self.exhausted = False
        self.total = None
        self.endResetModel()
        with self._reads.rows() as connection:
            self._load_page(connection)
            if self.exhausted:
                self.total = len(self.rows)
            else:
                self.total = count_matching(connection, self.context.actor, self.text)
        self.page_loaded.emit()

    def refresh(self) -> None:
        """Search again for the same text (after a save)."""
        self.search(self.text)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and not self.exhausted

    def fetchMore(self, parent: Index) -> None:
        if parent.isValid() or self.exhausted:
            return
        with self._reads.rows() as connection:
            self._load_page(connection)
        self.page_loaded.emit()

    def _load_page(self, connection: Connection) -> None:
        """Append the next page of matches (``offset`` = rows already loaded)."""
        page = search_patients(
            connection, self.context.actor, self.text,
            limit=self.page_size, offset=len(self.rows),
        )
        self.exhausted = len(page) < self.page_size
        if page:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self.rows.extend(page)
            self.endInsertRows()

    def summary(self) -> str:
        """What the count label says: "20,000 patients", "12 patients match", …"""
        total = self.total if self.total is not None else len(self.rows)
        if not self.text:
            return count_text(total, "patient", "patients") if total else "No patients yet"
        if not total:
            return "No patient matches"
        return count_text(total, "patient matches", "patients match")

    # --- rows ------------------------------------------------------------------------

    def row_of(self, patient_id: int) -> int | None:
        """The row of ``patient_id`` among the loaded rows, or ``None``."""
        for number, row in enumerate(self.rows):
            if row.id == patient_id:
                return number
        return None

    def patient_at(self, row: int) -> PatientRow:
        return self.rows[row]

    # --- the Qt model interface ------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, index.column())
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(index.column())
        return None

    def _cell(self, row: PatientRow, column: int) -> str:
        if column == 0:
            return row.mrn
        if column == 1:
            return row.display_name
        if column == 2:
            return us_date(row.date_of_birth)
        if column == 3:
            return str(age_on(row.date_of_birth, self._today()))
        return phone_text(row.phone)
