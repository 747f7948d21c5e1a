"""The Qt model over a frozen :class:`~ketadesk.reports.model.ReportTable`.

Columns are the report's dimensions (its labels) and then its measures (its figures); rows
are the report's rows and, last, the total. Money and figures are right-aligned and written
as the window writes them; a header's tooltip is the measure's definition. Sorting reorders
the rows by the figure itself (periods by their key, so months sort in time) and keeps the
total at the bottom.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from ketadesk.reports import periods
from ketadesk.reports.model import Measure, ReportTable, Row, Value
from ketadesk.ui.charts import figure_text

Index = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the frozen Row behind a table row
MEASURE_ROLE = Qt.ItemDataRole.UserRole + 2  # the measure key of a figure's column
TOTAL = "Total"
_PERIODS = frozenset(g.value for g in periods.GRAINS)


def cell_text(value: Value, measure: Measure) -> str:
    """A figure as the table shows it: ``$1,234.50``, ``12.5%``, ``1,969``; ``—`` for none."""
    if value is None:
        return "—"
    if measure.kind.value == "days":
        return f"{Decimal(value):,.1f}"
    return figure_text(Decimal(value), measure.kind)


class ReportTableModel(QAbstractTableModel):
    """One report's rows and total, read-only, sortable."""

    def __init__(self, table: ReportTable | None = None) -> None:
        super().__init__()
        self.table: ReportTable | None = None
        self.rows: list[Row] = []
        self.show(table)

    def show(self, table: ReportTable | None) -> None:
        self.beginResetModel()
        self.table = table
        self.rows = list(table.rows) if table is not None else []
        self.endResetModel()

    # --- shape -------------------------------------------------------------------------

    def dimension_count(self) -> int:
        return len(self.table.dimensions) if self.table is not None else 0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's name)
        if parent.isValid() or self.table is None:
            return 0
        return len(self.rows) + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.table is None:
            return 0
        return max(self.dimension_count(), 1) + len(self.table.measures)

    def row_at(self, row: int) -> Row | None:
        if self.table is None or not 0 <= row <= len(self.rows):
            return None
        return self.rows[row] if row < len(self.rows) else self.table.total

    def measure_at(self, column: int) -> Measure | None:
        if self.table is None:
            return None
        index = column - max(self.dimension_count(), 1)
        return self.table.measures[index] if 0 <= index < len(self.table.measures) else None

    def is_total(self, row: int) -> bool:
        return row == len(self.rows)

    # --- cells -------------------------------------------------------------------------

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row())
        if row is None or self.table is None:
            return None
        measure = self.measure_at(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(index.row(), index.column(), row, measure)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if measure is not None:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.is_total(index.row()):
            bold = QFont()
            bold.setBold(True)
            return bold
        if role == Qt.ItemDataRole.ToolTipRole and measure is not None:
            return f"{measure.label}: {measure.definition}\nDouble-click to see the rows behind it."
        if role == ROW_ROLE:
            return row
        if role == MEASURE_ROLE:
            return measure.key if measure is not None else None
        return None

    def _text(self, number: int, column: int, row: Row, measure: Measure | None) -> str:
        if measure is not None:
            return cell_text(row.values[self.table.measure_index(measure.key)], measure)  # type: ignore[union-attr]
        if self.is_total(number):
            return TOTAL if column == 0 else ""
        return row.labels[column] if column < len(row.labels) else ""

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or self.table is None:
            return None
        measure = self.measure_at(section)
        if role == Qt.ItemDataRole.DisplayRole:
            if measure is not None:
                return measure.label
            dims = self.table.dimensions
            return dims[section].label if section < len(dims) else ""
        if role == Qt.ItemDataRole.ToolTipRole and measure is not None:
            return measure.definition
        if role == Qt.ItemDataRole.TextAlignmentRole and measure is not None:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # --- sorting -----------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self.table is None:
            return
        self.layoutAboutToBeChanged.emit()
        descending = order == Qt.SortOrder.DescendingOrder
        present = [r for r in self.rows if self._sort_key(r, column) is not None]
        missing = [r for r in self.rows if self._sort_key(r, column) is None]
        present.sort(key=lambda r: self._sort_key(r, column), reverse=descending)
        self.rows = present + missing  # rows without a figure stay last, as does the total
        self.layoutChanged.emit()

    def _sort_key(self, row: Row, column: int) -> Any:
        measure = self.measure_at(column)
        if measure is not None:
            value = row.values[self.table.measure_index(measure.key)]  # type: ignore[union-attr]
            return None if value is None else Decimal(value)
        dims = self.table.dimensions if self.table is not None else ()
        if column < len(dims) and dims[column].key in _PERIODS and column < len(row.keys):
            return str(row.keys[column])
        return row.labels[column].casefold() if column < len(row.labels) else ""
