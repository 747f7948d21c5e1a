"""Does every word on screen fit its widget? The measuring half of the laptop-fit tests.

:func:`clipped` walks the visible widgets under a window and returns one sentence per piece
of text that does not fit where it is drawn:

* a push button, tool button, check box or radio button whose text (plus its icon, the
  style's padding and, for a tool button, its menu arrow) is wider than the button;
* a label without word wrap whose text is wider than its contents rectangle (rich text is
  measured as laid out, the longest line of plain text by :class:`QFontMetrics`);
* a tab whose title is wider than the tab, or tabs that no longer fit their bar (scroll
  arrows);
* a table column narrower than its header's text, or a cell whose text is cut: a figure or
  word elided in a table that does not wrap, or a single word wider than its column in one
  that does (one word a line);
* a drop-down whose chosen text is wider than its field.

Text is measured with :meth:`QFontMetrics.horizontalAdvance` in the widget's own font; the
room is the widget's contents rectangle less what the style draws around the text.
"""

from __future__ import annotations

import re

from PySide6 import QtGui
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QStyle,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QTabBar,
    QTableView,
    QToolButton,
    QWidget,
)

SLACK = 1  # a pixel of rounding between measuring and drawing
CELL_PADDING = 2 * 8 + 2  # the style sheet's item padding (8px a side) and the grid line


def _plain(text: str) -> str:
    """Button text as drawn: mnemonics' ``&`` removed (``&&`` is a literal ``&``)."""
    return re.sub(r"&(.)", r"\1", text)


def _widest_line(metrics: QFontMetrics, text: str) -> int:
    return max((metrics.horizontalAdvance(line) for line in text.splitlines()), default=0)


def _name(widget: QWidget) -> str:
    label = widget.objectName() or type(widget).__name__
    parent = widget.parentWidget()
    while parent is not None and not parent.objectName():
        parent = parent.parentWidget()
    return f"{label} (in {parent.objectName()})" if parent is not None else label


def _shown(widget: QWidget, window: QWidget) -> bool:
    # Inside a scroll area a widget may be scrolled away; it is then not "on screen" but
    # neither is it cut, so it is still measured.
    return widget.isVisibleTo(window) and widget.width() > 0


def _push_button(button: QPushButton) -> list[str]:
    text = _plain(button.text())
    if not text:
        return []
    option = QStyleOptionButton()
    button.initStyleOption(option)  # type: ignore[arg-type]
    inner = button.style().subElementRect(
        QStyle.SubElement.SE_PushButtonContents, option, button
    )
    need = button.fontMetrics().horizontalAdvance(text)
    if not button.icon().isNull():
        need += button.iconSize().width() + 4
    if button.menu() is not None:
        need += button.style().pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, None, button)
    room = inner.width()
    if need > room + SLACK:
        return [f"button {_name(button)} {text!r} needs {need}px, has {room}px"]
    return []


def _other_button(button: QAbstractButton) -> list[str]:
    text = _plain(button.text())
    if not text:
        return []
    hint = button.sizeHint().width()
    if isinstance(button, QToolButton) and button.toolButtonStyle() == (
        Qt.ToolButtonStyle.ToolButtonIconOnly
    ) and not button.icon().isNull():
        return []
    if hint > button.width() + SLACK:
        return [f"button {_name(button)} {text!r} needs {hint}px, has {button.width()}px"]
    return []


def _label(label: QLabel) -> list[str]:
    text = label.text()
    if not text or label.wordWrap() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return []
    room = label.contentsRect().width() - 2 * max(label.margin(), 0)
    if label.indent() > 0:
        room -= label.indent()
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)
    )
    if rich:
        document = QTextDocument()
        document.setDefaultFont(label.font())
        document.setDocumentMargin(0)
        document.setHtml(text)
        need = round(document.idealWidth())
    else:
        need = _widest_line(label.fontMetrics(), text)
    if need > room + SLACK:
        shown = re.sub(r"<[^>]+>", "", text)[:60]
        return [f"label {_name(label)} {shown!r} needs {need}px, has {room}px"]
    return []


def _tabs(bar: QTabBar) -> list[str]:
    problems = []
    metrics = bar.fontMetrics()
    for index in range(bar.count()):
        if not bar.isTabVisible(index):
            continue
        text = _plain(bar.tabText(index))
        rect: QRect = bar.tabRect(index)
        need = metrics.horizontalAdvance(text) + 2 * bar.style().pixelMetric(
            QStyle.PixelMetric.PM_TabBarTabHSpace, None, bar) // 2
        if need > rect.width() + SLACK:
            problems.append(f"tab {text!r} of {_name(bar)} needs {need}px, has {rect.width()}px")
        if rect.right() > bar.width() + SLACK:
            problems.append(f"tab {text!r} of {_name(bar)} is past the bar's end")
    return problems


def _table(view: QTableView) -> list[str]:
    """Headings as the style draws them (bold, padded: :meth:`QHeaderView.sectionSizeHint`);
    cells as the view measures its visible rows (:meth:`QTableView.sizeHintForColumn`), or,
    where words wrap, each cell's longest word with the item padding."""
    problems: list[str] = []
    header: QHeaderView = view.horizontalHeader()
    model = view.model()
    if model is None or header.isHidden():
        return problems
    cell_metrics = view.fontMetrics()
    first_row = view.rowAt(0)
    last_row = view.rowAt(view.viewport().height() - 1)
    if first_row < 0:
        rows: range = range(0)
    else:
        rows = range(first_row, (last_row if last_row >= 0 else model.rowCount() - 1) + 1)
    if view.wordWrap():
        for row in rows:
            lines = view.sizeHintForRow(row)
            if not view.isRowHidden(row) and lines > view.rowHeight(row) + SLACK:
                problems.append(f"row {row} of {_name(view)} is {view.rowHeight(row)}px high, "
                                f"its wrapped words need {lines}px")
                break  # one short row a table is enough to say
    for column in range(model.columnCount()):
        if header.isSectionHidden(column):
            continue
        width = header.sectionSize(column)
        title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        need = header.sectionSizeHint(column)
        if title and need > width + SLACK:
            problems.append(
                f"column {title!r} of {_name(view)} is {width}px, its heading needs {need}px")
        right = header.sectionViewportPosition(column) + width
        scrolls = view.horizontalScrollBar().isVisible()
        past = right - header.viewport().width()
        if not scrolls and past > SLACK:
            problems.append(f"column {title!r} of {_name(view)} runs {past}px past the table")
        if not rows:
            continue
        if not view.wordWrap():
            need = view.sizeHintForColumn(column)
            if need > width + SLACK:
                problems.append(f"column {title!r} of {_name(view)} cuts its cells: they need "
                                f"{need}px, it has {width}px")
            continue
        for row in rows:
            if view.isRowHidden(row):
                continue
            value = model.index(row, column).data(Qt.ItemDataRole.DisplayRole)
            text = "" if value is None else str(value)
            if not text.strip():
                continue
            word = max(text.split(), key=cell_metrics.horizontalAdvance)
            need = cell_metrics.horizontalAdvance(word) + CELL_PADDING
            if need > width + SLACK:
                problems.append(f"cell ({row}, {title!r}) of {_name(view)} cuts the word "
                                f"{word!r}: needs {need}px, has {width}px")
                break  # one cut cell a column is enough to say
    return problems


def _list(view: QListView) -> list[str]:
    """A list's entries as the view measures them, against the room its viewport has."""
    if view.model() is None or view.model().rowCount() == 0 or view.isWrapping():
        return []
    if view.horizontalScrollBar().isVisible():
        return []  # lines longer than a form allows scroll sideways: reachable, not cut
    need = view.sizeHintForColumn(0)
    room = view.viewport().width()
    if need > room + SLACK:
        return [f"list {_name(view)} cuts its entries: they need {need}px, it has {room}px"]
    return []


def _combo(combo: QComboBox) -> list[str]:
    text = combo.currentText()
    if not text or combo.isEditable():
        return []
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)  # type: ignore[arg-type]
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo)
    need = combo.fontMetrics().horizontalAdvance(text)
    if not combo.itemIcon(combo.currentIndex()).isNull():
        need += combo.iconSize().width() + 4
    if need > field.width() + SLACK:
        return [f"drop-down {_name(combo)} {text!r} needs {need}px, has {field.width()}px"]
    return []


def clipped(window: QWidget) -> list[str]:
    """Every piece of text under ``window`` that does not fit, as sentences (none: all fit)."""
    problems: list[str] = []
    widgets = [window, *window.findChildren(QWidget)]
    for widget in widgets:
        if not _shown(widget, window):
            continue
        if isinstance(widget, QPushButton):
            problems += _push_button(widget)
        elif isinstance(widget, (QToolButton, QCheckBox, QRadioButton)):
            if widget.parentWidget() is not None and isinstance(widget.parentWidget(), QTabBar):
                continue  # a tab bar's scroll arrows
            problems += _other_button(widget)
        elif isinstance(widget, QLabel):
            problems += _label(widget)
        elif isinstance(widget, QTabBar):
            problems += _tabs(widget)
        elif isinstance(widget, QTableView):
            problems += _table(widget)
        elif isinstance(widget, QComboBox):
            problems += _combo(widget)
        elif isinstance(widget, QListView) and widget.objectName() != "navigation":
            problems += _list(widget)
        elif isinstance(widget, QScrollArea) and widget.widgetResizable():
            sideways = widget.horizontalScrollBar()
            if sideways.maximum() > SLACK:
                problems.append(f"scroll area {_name(widget)} hides {sideways.maximum()}px of "
                                "its contents past its right edge")
    return problems


def too_big(window: QWidget, size: QSize) -> list[str]:
    """Whether ``window`` needs more room than ``size`` (then it would run off the screen)."""
    least = window.minimumSizeHint().expandedTo(window.minimumSize())
    problems = []
    if least.width() > size.width() or least.height() > size.height():
        problems.append(f"{_name(window)} needs at least {least.width()}x{least.height()}, "
                        f"the screen is {size.width()}x{size.height()}")
    if window.width() > size.width() or window.height() > size.height():
        problems.append(f"{_name(window)} is {window.width()}x{window.height()}, "
                        f"the screen is {size.width()}x{size.height()}")
    return problems


__all__ = ["clipped", "too_big"]
