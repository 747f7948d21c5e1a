"""The calendar itself: a graphics view with chair headers on top and the hours on the left.

:class:`ScheduleGrid` shows one :class:`~ketadesk.scheduling.calendar.CalendarWindow`. The
surface (opening hours white, outside hours grey, closed days hatched with the reason, the
hour and quarter-hour lines, the current time as a red line on today) is painted in
:meth:`ScheduleGrid.drawBackground` / :meth:`drawForeground`, clipped to what is exposed,
so a busy week paints at once. Each session is one :class:`SessionBlock` item. The chair
headers and the hour ruler are small widgets in the view's margins that follow the scroll
bars, so they stay in sight while the calendar scrolls.

Moving a session: press on a block, drag (it follows the pointer in 15-minute steps, from
chair to chair and day to day, showing where it would land), let go. The release goes to
:meth:`ScheduleGrid.drop_at` — the same method a test may call at scene coordinates — which
asks :attr:`ScheduleGrid.move_handler` to make the move. When the handler refuses, the
block snaps back to where it was. A double-click (or Enter on the selected block) emits
:attr:`ScheduleGrid.opened`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGraphicsItem,
    QGraphicsScene,
    QGraphicsSceneHoverEvent,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from ketadesk.scheduling.calendar import CalendarEntry, CalendarWindow, ChairColumn
from ketadesk.ui.schedule import colors
from ketadesk.ui.schedule.layout import (
    DayBand,
    DropTarget,
    Geometry,
    clock_time,
    minutes,
)
from ketadesk.ui.schedule.text import (
    clock,
    compact_progress,
    day_heading,
    entry_tooltip,
    time_range,
)

HEADER_HEIGHT = 50
RULER_WIDTH = 62
NOW_REFRESH_MS = 60_000
COMPACT_WIDTH = 150  # narrower blocks show the family name, the start and "2/6"
MoveHandler = Callable[[CalendarEntry, DropTarget], bool]


def _font(base: QFont, size: float, *, bold: bool = False) -> QFont:
    font = QFont(base)
    font.setPointSizeF(size)
    font.setBold(bold)
    return font


class SessionBlock(QGraphicsItem):
    """One session: a pale block in its modality's colour, its status in border and badge."""

    def __init__(
        self, entry: CalendarEntry, rect: QRectF, *, draggable: bool, fonts: tuple[QFont, QFont]
    ) -> None:
        super().__init__()
        self.entry = entry
        self.home = rect.topLeft()
        self.home_width = rect.width()
        self.width = rect.width()
        self.height = rect.height()
        self.draggable = draggable
        self.highlighted = False
        self.caption = ""  # where a drag would put it, while dragging
        self._fonts = fonts  # bold for the name, small for the rest; shared by all blocks
        self.setPos(self.home)
        # Painted once into a pixmap and reused while scrolling and repainting.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setAcceptHoverEvents(True)  # the tooltip is written on the first hover
        self.setCursor(
            Qt.CursorShape.OpenHandCursor if draggable else Qt.CursorShape.PointingHandCursor
        )
        if colors.look(entry.status).faded:
            self.setOpacity(colors.FADED_OPACITY)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if not self.toolTip():
            self.setToolTip(entry_tooltip(self.entry))
        super().hoverEnterEvent(event)

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, self.width + 4, self.height + 4)

    def set_width(self, width: float) -> None:
        if width != self.width:
            self.prepareGeometryChange()
            self.width = width

    def snap_back(self) -> None:
        """Return to where the session is booked (after a refused or abandoned drag)."""
        self.caption = ""
        self.set_width(self.home_width)
        self.setPos(self.home)
        self.setZValue(0)
        self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        entry = self.entry
        look = colors.look(entry.status)
        body = QRectF(0, 0, self.width, self.height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(colors.border(entry.modality, entry.status), look.border_width)
        pen.setStyle(colors.pen_style(entry.status))
        if self.highlighted:
            pen = QPen(QColor(colors.HIGHLIGHT), 3.0)
        painter.setPen(pen)
        painter.setBrush(colors.fill(entry.modality))
        painter.drawRoundedRect(body, 4, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colors.strong(entry.modality))
        painter.drawRect(QRectF(1.5, 1.5, 3.5, max(self.height - 3, 1)))
        self._paint_text(painter, body.adjusted(9, 3, -4, -2), look)

    def _paint_text(self, painter: QPainter, area: QRectF, look: colors.StatusLook) -> None:
        bold, small = self._fonts
        entry = self.entry
        badge = self._badge_width(look, area.width(), small)
        if self.width < COMPACT_WIDTH:  # the week view: family name, start, "2/6"
            name = entry.patient_name.split(",")[0]
            when = f"{clock(entry.local_start.time(), compact=True)} · {compact_progress(entry)}"
        else:
            name, when = entry.patient_name, f"{time_range(entry)} · {entry.progress}"
        lines: list[tuple[QFont, str, str]] = [
            (bold, name, colors.TEXT),
            (small, self.caption or when, colors.TEXT),
            (small, entry.protocol_name, colors.TEXT_MUTED),
        ]
        y = area.top()
        for number, (font, text, ink) in enumerate(lines):
            metrics = QFontMetricsF(font)
            if y + metrics.height() > area.bottom() + 1 and number > 0:
                break
            width = area.width() - (badge + 4 if number == 0 else 0)
            painter.setFont(font)
            painter.setPen(QColor(ink))
            shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(width, 0))
            painter.drawText(QPointF(area.left(), y + metrics.ascent()), shown)
            y += metrics.height()
        if badge:
            self._paint_badge(painter, area, look, small, badge)

    def _badge_text(self, look: colors.StatusLook, room: float, font: QFont) -> str:
        if not look.badge:
            return ""
        full = QFontMetricsF(font).horizontalAdvance(look.badge) + 10
        return look.badge if full <= room * 0.4 else look.short

    def _badge_width(self, look: colors.StatusLook, room: float, font: QFont) -> float:
        text = self._badge_text(look, room, font)
        return QFontMetricsF(font).horizontalAdvance(text) + 10 if text else 0.0

    def _paint_badge(
        self, painter: QPainter, area: QRectF, look: colors.StatusLook, font: QFont, width: float
    ) -> None:
        text = self._badge_text(look, area.width(), font)
        metrics = QFontMetricsF(font)
        pill = QRectF(area.right() - width, area.top() + 1, width, metrics.height() + 1)
        painter.setPen(QPen(QColor(look.badge_ink), 0.8))
        painter.setBrush(QColor(look.badge_fill))
        painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        painter.setFont(font)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)


class _Margin(QWidget):
    """A strip beside the viewport (chair headers, hour ruler) painted by the grid."""

    def __init__(self, grid: ScheduleGrid, paint: Callable[[QPainter], None]) -> None:
        super().__init__(grid)
        self._paint = paint
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(colors.HEADER_FILL))
        self._paint(painter)
        painter.end()


@dataclass
class _Press:
    block: SessionBlock
    at: QPointF  # scene position of the press
    viewport: QPoint
    dragging: bool = False


class ScheduleGrid(QGraphicsView):
    """Days × chairs × time for one :class:`CalendarWindow`; see the module docstring."""

    opened = Signal(object)  # the CalendarEntry double-clicked (or Enter)
    selected = Signal(object)  # the CalendarEntry clicked, or None

    def __init__(
        self, parent: QWidget | None = None, clock_now: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("scheduleGrid")
        self.setScene(QGraphicsScene(self))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setViewportMargins(RULER_WIDTH, HEADER_HEIGHT, 0, 0)
        # Always there, so fitting the day to the width never brings a horizontal bar.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.header = _Margin(self, self._paint_header)
        self.ruler = _Margin(self, self._paint_ruler)
        self.corner = _Margin(self, lambda _painter: None)
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.valueChanged.connect(self._scrolled)
        self.move_handler: MoveHandler | None = None
        self.window_data: CalendarWindow | None = None
        self.geometry_: Geometry | None = None
        self.blocks: dict[int, SessionBlock] = {}
        self.selected_id: int | None = None
        self._now = clock_now or (lambda: datetime.now().astimezone())
        self._press: _Press | None = None
        self._week = False
        self._zone: ZoneInfo | None = None
        self.generation = 0  # bumped on every rebuild: a refused drop snaps back only if
        # its block still exists
        self._now_timer = QTimer(self)
        self._now_timer.timeout.connect(self.viewport().update)
        self._now_timer.start(NOW_REFRESH_MS)

    # -- content ----------------------------------------------------------------------

    def show_window(self, window: CalendarWindow, *, week: bool) -> None:
        """Show ``window`` (one day, or a week when ``week``)."""
        first = self.window_data is None
        self.window_data = window
        self._zone = ZoneInfo(window.time_zone)
        self._week = week
        self._rebuild()
        if first or not self.blocks:
            self.scroll_to_minute(minutes(window.earliest_opening()))

    def _available_width(self) -> float:
        return float(self.viewport().width())

    def _rebuild(self) -> None:
        window = self.window_data
        if window is None:
            return
        self.generation += 1
        self._press = None
        self.geometry_ = Geometry(window, self._available_width(), week=self._week)
        scene = self.scene()
        scene.clear()
        self.resetCachedContent()
        self.blocks = {}
        scene.setSceneRect(QRectF(0, 0, self.geometry_.width, self.geometry_.height))
        book = self.move_handler is not None
        fonts = (_font(self.font(), 8.6, bold=True), _font(self.font(), 8.0))
        for entry, rect in self.geometry_.block_rects():
            block = SessionBlock(entry, rect, draggable=book and entry.status.is_open, fonts=fonts)
            block.highlighted = entry.session_id == self.selected_id
            scene.addItem(block)
            self.blocks[entry.session_id] = block
        self.header.update()
        self.ruler.update()
        self.viewport().update()

    def block(self, session_id: int) -> SessionBlock | None:
        return self.blocks.get(session_id)

    def select(self, session_id: int | None) -> None:
        """Outline session ``session_id`` (the one in the way, or just booked)."""
        self.selected_id = session_id
        for sid, block in self.blocks.items():
            if block.highlighted != (sid == session_id):
                block.highlighted = sid == session_id
                block.update()
        shown = self.blocks.get(session_id) if session_id is not None else None
        if shown is not None:
            self.ensureVisible(shown, 40, 40)

    def scroll_to_day(self, day: date) -> None:
        """Scroll sideways until ``day`` is in sight (the week view is wider than most
        screens): not at all when it already is, else so that it starts at the left."""
        band = (
            next((b for b in self.geometry_.bands if b.day.day == day), None)
            if (self.geometry_)
            else None
        )
        if band is None:
            return
        bar = self.horizontalScrollBar()
        if band.x < bar.value() or band.x + band.width > bar.value() + self.viewport().width():
            bar.setValue(int(band.x))

    def scroll_to_minute(self, minute: int) -> None:
        if self.geometry_ is not None:
            self.verticalScrollBar().setValue(int(self.geometry_.y_of(minute) - 12))

    # -- margins follow the viewport --------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        port = self.viewport().geometry()
        self.header.setGeometry(
            port.left(), port.top() - HEADER_HEIGHT, port.width(), HEADER_HEIGHT
        )
        self.ruler.setGeometry(port.left() - RULER_WIDTH, port.top(), RULER_WIDTH, port.height())
        self.corner.setGeometry(
            port.left() - RULER_WIDTH, port.top() - HEADER_HEIGHT, RULER_WIDTH, HEADER_HEIGHT
        )
        if event.oldSize().width() != event.size().width():
            self._rebuild()

    def _scrolled(self, _value: int) -> None:
        self.header.update()
        self.ruler.update()

    def _x_on_screen(self, scene_x: float) -> float:
        return self.mapFromScene(QPointF(scene_x, 0)).x()

    def _y_on_screen(self, scene_y: float) -> float:
        return self.mapFromScene(QPointF(0, scene_y)).y()

    def _paint_header(self, painter: QPainter) -> None:
        geometry = self.geometry_
        if geometry is None:
            return
        today = self._local_now().date()
        half = HEADER_HEIGHT / 2
        for band in geometry.bands:
            left = self._x_on_screen(band.x)
            self._paint_day_heading(
                painter, band, QRectF(left, 0, band.width, half), band.day.day == today
            )
            for column in band.columns:
                rect = QRectF(self._x_on_screen(column.x), half, column.width, half)
                self._paint_chair_heading(painter, column.chair, rect)
            painter.setPen(QPen(QColor(colors.DAY_LINE), 1))
            painter.drawLine(QPointF(left, 0), QPointF(left, HEADER_HEIGHT))
        painter.setPen(QPen(QColor(colors.HOUR_LINE), 1))
        painter.drawLine(0, HEADER_HEIGHT - 1, self.header.width(), HEADER_HEIGHT - 1)

    def _paint_day_heading(
        self, painter: QPainter, band: DayBand, rect: QRectF, today: bool
    ) -> None:
        if today:
            painter.fillRect(rect, QColor(colors.HEADER_TODAY))
        font = _font(self.font(), 9.0, bold=True)
        painter.setFont(font)
        painter.setPen(QColor(colors.HEADER_INK))
        text = day_heading(band.day.day, long=not self._week)
        if band.day.closed and not band.collapsed:
            text = f"{text} — {band.day.closed}"
        metrics = QFontMetricsF(font)
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 8)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, shown)

    def _paint_chair_heading(self, painter: QPainter, chair: ChairColumn, rect: QRectF) -> None:
        """The chair's name and, where there is room, what it hosts (``IV 1  IV·IM``)."""
        font = _font(self.font(), 8.6)
        metrics = QFontMetricsF(font)
        painter.setFont(font)
        hosts = "·".join(sorted(colors.MODALITY_COLOURS[m].short for m in chair.modalities))
        room = rect.width() - 8
        both = f"{chair.name}   {hosts}"
        if hosts and metrics.horizontalAdvance(both) <= room:
            left = rect.center().x() - metrics.horizontalAdvance(both) / 2
            baseline = rect.center().y() + (metrics.ascent() - metrics.descent()) / 2
            painter.setPen(QColor(colors.HEADER_INK))
            painter.drawText(QPointF(left, baseline), chair.name)
            painter.setPen(QColor(colors.HEADER_MUTED))
            painter.drawText(
                QPointF(left + metrics.horizontalAdvance(f"{chair.name}   "), baseline), hosts
            )
        else:
            painter.setPen(QColor(colors.HEADER_INK))
            shown = metrics.elidedText(chair.name, Qt.TextElideMode.ElideMiddle, room)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, shown)
        painter.setPen(QPen(QColor(colors.COLUMN_LINE), 1))
        painter.drawLine(rect.topLeft() + QPointF(0, 4), rect.bottomLeft())

    def _paint_ruler(self, painter: QPainter) -> None:
        geometry = self.geometry_
        if geometry is None:
            return
        font = _font(self.font(), 8.0)
        painter.setFont(font)
        painter.setPen(QColor(colors.HEADER_MUTED))
        height = QFontMetricsF(font).height()
        for minute in geometry.hours():
            y = self._y_on_screen(geometry.y_of(minute))
            label = clock(clock_time(minute), short=True) if minute < 24 * 60 else "midnight"
            rect = QRectF(0, max(y - height / 2, 1.0), RULER_WIDTH - 8, height)
            painter.drawText(
                rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label
            )
        painter.setPen(QPen(QColor(colors.HOUR_LINE), 1))
        painter.drawLine(RULER_WIDTH - 1, 0, RULER_WIDTH - 1, self.ruler.height())

    def _local_now(self) -> datetime:
        """Now, on the location's clock."""
        now = self._now()
        return now.astimezone(self._zone) if self._zone is not None else now

    # -- the surface --------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, exposed: QRectF | QRect) -> None:
        rect = QRectF(exposed)
        geometry = self.geometry_
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # straight lines only
        painter.fillRect(rect, QColor(colors.BEYOND))
        rect = rect.intersected(self.sceneRect())
        if geometry is None or rect.isEmpty():
            return
        painter.fillRect(rect, QColor(colors.OUTSIDE_HOURS))
        shown = [b for b in geometry.bands if b.x <= rect.right() and b.x + b.width >= rect.left()]
        for band in shown:
            self._paint_band(painter, band, geometry)
        self._paint_lines(painter, rect, geometry)
        for band in shown:
            if band.day.closed:
                self._paint_closed_reason(painter, band, geometry)

    def _paint_band(self, painter: QPainter, band: DayBand, geometry: Geometry) -> None:
        full = QRectF(band.x, 0, band.width, geometry.height)
        if band.day.closed:
            painter.fillRect(full, QColor(colors.CLOSED_DAY))
            painter.fillRect(full, QBrush(QColor(colors.CLOSED_HATCH), Qt.BrushStyle.BDiagPattern))
            return
        for interval in band.day.hours:
            top = geometry.y_of(minutes(interval.opens))
            bottom = geometry.y_of(minutes(interval.closes))
            painter.fillRect(
                QRectF(band.x, top, band.width, bottom - top), QColor(colors.OPEN_HOURS)
            )

    def _paint_closed_reason(self, painter: QPainter, band: DayBand, geometry: Geometry) -> None:
        reason = band.day.closed or ""
        font = _font(self.font(), 8.6, bold=True)
        painter.setFont(font)
        painter.setPen(QColor(colors.CLOSED_TEXT))
        top = (
            geometry.y_of(minutes(self.window_data.earliest_opening()))
            if (self.window_data)
            else 0.0
        )
        box = QRectF(band.x + 6, top + 8, band.width - 12, 120)
        back = painter.boundingRect(
            box, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter, reason
        )
        painter.fillRect(back.adjusted(-4, -3, 4, 3), QColor(colors.CLOSED_DAY))
        painter.drawText(box, Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignHCenter, reason)

    def _paint_lines(self, painter: QPainter, rect: QRectF, geometry: Geometry) -> None:
        left, right = rect.left(), rect.right()
        quarter = QPen(QColor(colors.QUARTER_LINE), 1)
        hour = QPen(QColor(colors.HOUR_LINE), 1)
        for minute in range(geometry.first_minute, geometry.last_minute + 1, 15):
            y = geometry.y_of(minute)
            if rect.top() - 1 <= y <= rect.bottom() + 1:
                painter.setPen(hour if minute % 60 == 0 else quarter)
                painter.drawLine(QPointF(left, y), QPointF(right, y))
        painter.setPen(QPen(QColor(colors.COLUMN_LINE), 1))
        for column in geometry.columns():
            if left - 1 <= column.x <= right + 1:
                painter.drawLine(QPointF(column.x, rect.top()), QPointF(column.x, rect.bottom()))
        painter.setPen(QPen(QColor(colors.DAY_LINE), 1.5))
        for band in geometry.bands:
            if left - 2 <= band.x <= right + 2:
                painter.drawLine(QPointF(band.x, rect.top()), QPointF(band.x, rect.bottom()))

    def drawForeground(self, painter: QPainter, exposed: QRectF | QRect) -> None:
        geometry, y = self.geometry_, self.now_line_y()
        if geometry is None or y is None:
            return
        today = self._local_now().date()
        band = next(b for b in geometry.bands if b.day.day == today)
        painter.setPen(QPen(QColor(colors.NOW_LINE), 2))
        painter.drawLine(QPointF(band.x, y), QPointF(band.x + band.width, y))
        painter.setBrush(QColor(colors.NOW_LINE))
        painter.drawEllipse(QPointF(band.x + 3, y), 4, 4)

    def now_line_y(self) -> float | None:
        """Where the current-time line is drawn (scene y), or ``None`` when today is not
        shown or now is outside the hours drawn."""
        geometry = self.geometry_
        if geometry is None:
            return None
        now = self._local_now()
        shown = any(b.day.day == now.date() for b in geometry.bands)
        minute = minutes(now.time())
        if not shown or not geometry.first_minute <= minute <= geometry.last_minute:
            return None
        return geometry.y_of(minute)

    # -- the mouse and keyboard -------------------------------------------------------

    def _block_at(self, point: QPoint) -> SessionBlock | None:
        for item in self.items(point):
            if isinstance(item, SessionBlock):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        block = self._block_at(point)
        if event.button() != Qt.MouseButton.LeftButton or block is None:
            if block is None and event.button() == Qt.MouseButton.LeftButton:
                self._choose(None)
            super().mousePressEvent(event)
            return
        self._choose(block.entry)
        self._press = _Press(block, self.mapToScene(point), point)
        event.accept()

    def _choose(self, entry: CalendarEntry | None) -> None:
        self.select(entry.session_id if entry else None)
        self.selected.emit(entry)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        press = self._press
        if press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        point = event.position().toPoint()
        if not press.dragging:
            moved = (point - press.viewport).manhattanLength()
            if not press.block.draggable or moved < QApplication.startDragDistance():
                return
            press.dragging = True
            press.block.setZValue(10)
            press.block.setCursor(Qt.CursorShape.ClosedHandCursor)
        self._follow(press, self.mapToScene(point))
        event.accept()

    def _grip(self, press: _Press, scene: QPointF) -> QPointF:
        """The dragged block's new top (y) under the pointer's x."""
        return QPointF(scene.x(), press.block.home.y() + scene.y() - press.at.y())

    def _follow(self, press: _Press, scene: QPointF) -> None:
        geometry = self.geometry_
        if geometry is None:
            return
        grip = self._grip(press, scene)
        entry = press.block.entry
        target = geometry.target_at(grip.x(), grip.y(), _duration(entry))
        if target is None:
            return
        column = geometry.column_of(target.day, target.chair_id) if target.chair_id else None
        band = geometry.band_at(grip.x())
        x = column.x if column else (band.x if band else press.block.x())
        width = column.width if column else (band.width if band else press.block.width)
        press.block.set_width(width - 4)
        press.block.setPos(x + 2, geometry.y_of(minutes(target.start)) + 1)
        press.block.caption = f"→ {clock(target.start)} · {target.chair_name or 'closed'}"
        press.block.update()
        self.ensureVisible(QRectF(scene.x() - 1, scene.y() - 1, 2, 2), 30, 30)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press, self._press = self._press, None
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        event.accept()
        if press.dragging:
            scene = self.mapToScene(event.position().toPoint())
            self.drop_at(press.block.entry.session_id, self._grip(press, scene))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        block = self._block_at(event.position().toPoint())
        if block is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseDoubleClickEvent(event)
            return
        self._press = None
        event.accept()
        self.opened.emit(block.entry)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        press = self._press
        if press is not None and press.dragging and event.key() == Qt.Key.Key_Escape:
            self._press = None  # Esc abandons the drag
            press.block.snap_back()
            return
        block = self.blocks.get(self.selected_id) if self.selected_id is not None else None
        if block is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.opened.emit(block.entry)
            return
        super().keyPressEvent(event)

    def drop_at(self, session_id: int, point: QPointF) -> bool:
        """Move session ``session_id`` to the chair column under ``point.x()`` at the
        15-minute mark nearest ``point.y()`` (the block's new top), through
        :attr:`move_handler`. The mouse comes here too. Returns whether it moved; when not,
        the block is back where it was."""
        block, geometry = self.blocks.get(session_id), self.geometry_
        if block is None or geometry is None:
            return False
        target = geometry.target_at(point.x(), point.y(), _duration(block.entry))
        generation = self.generation
        moved = False
        if (
            target is not None
            and self.move_handler is not None
            and not _same_place(block.entry, target)
        ):
            moved = self.move_handler(block.entry, target)
        if not moved and generation == self.generation:
            block.snap_back()
        return moved

    def scene_point(self, session_id: int) -> QPointF:
        """The centre of session ``session_id``'s block, in scene coordinates."""
        block = self.blocks[session_id]
        return block.pos() + QPointF(block.width / 2, block.height / 2)

    def drop_point(self, day: date, chair_id: int, minute: int) -> QPointF:
        """The scene point (column centre, block top) that :meth:`drop_at` reads as
        ``chair_id`` on ``day`` at ``minute`` after midnight."""
        geometry = self.geometry_
        column = geometry.column_of(day, chair_id) if geometry else None
        if geometry is None or column is None:
            raise LookupError(f"chair {chair_id} is not shown on {day}")
        return QPointF(column.x + column.width / 2, geometry.y_of(minute))


def _duration(entry: CalendarEntry) -> int:
    return int((entry.ends_at - entry.starts_at).total_seconds() // 60)


def _same_place(entry: CalendarEntry, target: DropTarget) -> bool:
    return (
        target.chair_id == entry.chair_id
        and target.day == entry.local_start.date()
        and target.start == entry.local_start.time().replace(second=0, microsecond=0)
    )
