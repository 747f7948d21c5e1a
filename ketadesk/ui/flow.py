"""Words that take more lines instead of being cut when the window is narrow (a laptop).

:class:`FlowLayout` places its widgets left to right and starts a new line when the row is
full. Rows of buttons and legends use it so that a 1280×800 window shows every button whole
on two lines instead of squeezing their words: the layout's minimum width is its widest
single item, and its height follows its width (``heightForWidth``), so the widgets below
move down when it wraps.

:func:`wrap_words` does the same for a table's cells: long descriptions wrap inside their
column, and every row is measured again (once the event loop runs) whenever the columns'
widths, the rows or the table's visibility change, so no wrapped line is hidden.

:class:`DownScrollArea` scrolls a form up and down only: it asks its layout for the form's
whole width, so a field or a choice is never cut at the pane's right edge.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMargins, QObject, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QLayout,
    QLayoutItem,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QWidget,
)


class FlowLayout(QLayout):
    """Items in reading order, wrapped onto as many lines as the width needs."""

    def __init__(self, parent: QWidget | None = None, *, spacing: int = 8,
                 line_spacing: int | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._line_spacing = spacing if line_spacing is None else line_spacing
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    # --- the QLayout protocol ------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        width = sum(item.sizeHint().width() for item in self._visible())
        width += self._spacing * max(len(self._visible()) - 1, 0)
        height = max((item.sizeHint().height() for item in self._visible()), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(),
                     height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        """The widest single item: narrower than that, something would be cut."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize().expandedTo(item.sizeHint()))
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # --- placing -------------------------------------------------------------------------

    def _visible(self) -> list[QLayoutItem]:
        shown = []
        for item in self._items:
            widget = item.widget()
            if widget is None or not widget.isHidden():
                shown.append(item)
        return shown

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        """Place the items inside ``rect`` (when ``move``); return the height they take."""
        margins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        x, y, line_height = area.x(), area.y(), 0
        for item in self._visible():
            hint = item.sizeHint()
            if x > area.x() and x + hint.width() > area.right() + 1:
                x, y = area.x(), y + line_height + self._line_spacing
                line_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y() + margins.bottom()


def flow_holder(spacing: int = 8) -> tuple[QWidget, FlowLayout]:
    """A widget holding a :class:`FlowLayout` whose height follows its width."""
    holder = QWidget()
    layout = FlowLayout(holder, spacing=spacing)
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    holder.setSizePolicy(policy)
    return holder, layout


class _RowHeights(QObject):
    """Measures ``table``'s rows again after its columns, rows or visibility change."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self.table = table
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)  # once, after the changes of this turn of the event loop
        self.timer.timeout.connect(table.resizeRowsToContents)
        table.horizontalHeader().sectionResized.connect(lambda *_: self.timer.start())
        model = table.model()
        for signal in (model.rowsInserted, model.modelReset, model.dataChanged,
                       model.layoutChanged):
            signal.connect(lambda *_: self.timer.start())
        table.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Show:
            self.timer.start()
        return False


def wrap_words(table: QTableView) -> None:
    """Let long words in ``table`` wrap onto more lines (rows grow to fit) instead of being
    cut: for descriptions a laptop's width cannot show on one line."""
    table.setWordWrap(True)
    table.setTextElideMode(Qt.TextElideMode.ElideNone)
    _RowHeights(table)


class DownScrollArea(QScrollArea):
    """A scroll area that scrolls vertically only and is never narrower than its widget."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def setWidget(self, widget: QWidget) -> None:
        super().setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The form's layout changed (a wider choice came in): ask for room again."""
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        inside = self.widget()
        if inside is None:
            return hint
        width = (inside.minimumSizeHint().width() + 2 * self.frameWidth()
                 + self.verticalScrollBar().sizeHint().width())
        return QSize(max(hint.width(), width), hint.height())
