"""The Schedule area: one location's day or week, chairs as columns, sessions as blocks.

Flow: the tool bar picks the location, the day or week, and moves through time; every
change calls :meth:`ScheduleView.refresh`, which reads
:func:`~ketadesk.scheduling.calendar.calendar_window` in one read-only session and hands
the frozen result to the :class:`~ketadesk.ui.schedule.grid.ScheduleGrid`. No ORM object
outlives that session.

Actions, each one transaction around one service call:

* dragging a block ends in :meth:`ScheduleView.move_to` →
  :func:`~ketadesk.billing.actions.move_session` with the version the block was drawn
  from; it re-drafts the series' Good Faith Estimate in the same transaction, and the
  banner names a new draft. A refusal (the chair taken, the patient busy, outside hours,
  someone else's edit) leaves the block where it was and says why in the banner above the
  calendar, outlining the session in the way;
* a double-click opens a :class:`~ketadesk.ui.schedule.session_dialog.SessionDialog`
  (confirm, no-show, cancel with a reason, shift the rest of the series);
* "New series…" opens the :class:`~ketadesk.ui.schedule.wizard.NewSeriesWizard`; once it
  books, the schedule jumps to the series' first session and outlines it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.billing.actions import move_session
from ketadesk.clinic.locations import list_locations
from ketadesk.clinic.models import Modality
from ketadesk.errors import KetaDeskError, SlotTaken, ValidationError
from ketadesk.scheduling.calendar import CalendarEntry, CalendarWindow, calendar_window, week_start
from ketadesk.scheduling.models import SessionStatus
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import flow_holder
from ketadesk.ui.schedule import colors
from ketadesk.ui.schedule.grid import ScheduleGrid
from ketadesk.ui.schedule.layout import DropTarget, minutes
from ketadesk.ui.schedule.session_dialog import SessionDialog
from ketadesk.ui.schedule.text import clock, day_heading, entry_line, week_heading
from ketadesk.ui.schedule.wizard import Booked, NewSeriesWizard
from ketadesk.ui.style import set_role

DAY, WEEK = "day", "week"


class Banner(QFrame):
    """A line above the calendar that says what just happened or why it was refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scheduleBanner")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.clear)
        row.addWidget(self.label, 1)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def say(self, text: str, kind: str = "info") -> None:
        """Show ``text``; ``kind`` is ``info`` (done) or ``error`` (refused)."""
        self.kind = kind
        self.label.setText(text)
        set_role(self.label, "warning" if kind == "error" else "muted")
        self.show()

    def clear(self) -> None:
        self.kind = ""
        self.label.clear()
        self.hide()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


class _Chip(QWidget):
    """One legend entry: a small block painted like the calendar's."""

    def __init__(
        self, text: str, fill: QColor, edge: QColor, *, dashed: bool = False, faded: bool = False
    ) -> None:
        super().__init__()
        self._fill, self._edge, self._dashed, self._faded = fill, edge, dashed, faded
        self.setFixedSize(18, 14)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._faded:
            painter.setOpacity(colors.FADED_OPACITY)
        pen = QPen(self._edge, 1.4)
        if self._dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(self._fill)
        painter.drawRoundedRect(1, 1, self.width() - 2, self.height() - 2, 3, 3)
        painter.end()


def legend() -> QWidget:
    """Modalities by fill, and the released statuses by their faded, dashed look."""
    # Each chip stays beside its caption; the pairs wrap onto a second line in a narrow window.
    strip, row = flow_holder(spacing=14)
    for modality in Modality:
        row.addWidget(_legend_item(
            _Chip(modality.label, colors.fill(modality), colors.strong(modality)),
            QLabel(modality.label)))
    for status in (SessionStatus.CANCELLED, SessionStatus.LATE_CANCELLED, SessionStatus.NO_SHOW):
        caption = QLabel(status.label)
        set_role(caption, "muted")
        row.addWidget(_legend_item(
            _Chip(
                status.label,
                colors.fill(Modality.IV),
                colors.border(Modality.IV, status),
                dashed=True,
                faded=True,
            ),
            caption,
        ))
    return strip


def _legend_item(chip: QWidget, caption: QLabel) -> QWidget:
    item = QWidget()
    row = QHBoxLayout(item)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    row.addWidget(chip)
    row.addWidget(caption)
    return item


class ScheduleView(QWidget):
    """The Schedule area (see the module docstring)."""

    def __init__(
        self,
        context: AppContext,
        *,
        clock_now: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.context = context
        self._now = clock_now or (lambda: datetime.now().astimezone())
        self.mode = WEEK
        self.anchor = self._now().date()
        self.location_id: int | None = None
        self.window_data: CalendarWindow | None = None
        self.dialog: SessionDialog | None = None
        self.wizard: NewSeriesWizard | None = None
        self.can_book = context.actor.can(Permission.SCHEDULE_BOOK)
        self.grid = ScheduleGrid(clock_now=self._now)
        self.grid.move_handler = self.move_to if self.can_book else None
        self.grid.opened.connect(self.open_session)
        self.banner = Banner()
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        set_role(self.empty, "muted")
        self.empty.hide()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 18, 24, 12)
        outer.setSpacing(10)
        outer.addLayout(self._tool_bar())
        outer.addWidget(self.banner)
        outer.addWidget(self.empty)
        outer.addWidget(self._calendar_card(), 1)
        outer.addWidget(legend())
        QShortcut(QKeySequence(Qt.Key.Key_PageDown), self, self.next)
        QShortcut(QKeySequence(Qt.Key.Key_PageUp), self, self.previous)
        self._load_locations()
        self.refresh()

    # -- building -----------------------------------------------------------------------

    def _tool_bar(self) -> QVBoxLayout:
        """Two lines, so that a laptop's width shows every control whole: the page title,
        the location and New series… above; the days, the date and Day / Week below."""
        lines = QVBoxLayout()
        lines.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(8)
        heading = QLabel("Schedule")
        heading.setObjectName("pageTitle")
        top.addWidget(heading)
        top.addSpacing(12)
        self.location_box = QComboBox()
        self.location_box.setObjectName("location")
        self.location_box.setMinimumWidth(200)
        self.location_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.location_box.currentIndexChanged.connect(self._location_chosen)
        top.addWidget(self.location_box)
        top.addStretch(1)
        lines.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(8)
        lines.addLayout(row)
        self.previous_button = self._button("◀", "Previous day or week (Page Up)", self.previous)
        self.today_button = self._button("Today", "Go to today", self.today)
        self.next_button = self._button("▶", "Next day or week (Page Down)", self.next)
        for button in (self.previous_button, self.today_button, self.next_button):
            row.addWidget(button)
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("goToDate")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("MMM d, yyyy")
        self.date_edit.setToolTip("Go to a date")
        self.date_edit.dateChanged.connect(self._date_chosen)
        row.addWidget(self.date_edit)
        self.title = QLabel()
        self.title.setObjectName("scheduleTitle")
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        row.addSpacing(8)
        row.addWidget(self.title, 1)
        row.addLayout(self._mode_buttons())
        self.new_button = QPushButton("New series…")
        self.new_button.setObjectName("newSeries")
        set_role(self.new_button, "primary")
        self.new_button.clicked.connect(self.new_series)
        self.new_button.setVisible(self.can_book)
        top.addWidget(self.new_button)
        return lines

    def _button(self, text: str, tip: str, action: Callable[[], None]) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(action)
        return button

    def _mode_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(0)
        self.day_button = QPushButton("Day")
        self.week_button = QPushButton("Week")
        self.mode_group = QButtonGroup(self)
        for button, mode in ((self.day_button, DAY), (self.week_button, WEEK)):
            button.setCheckable(True)
            button.setObjectName(f"{mode}Mode")
            self.mode_group.addButton(button)
            button.clicked.connect(lambda _checked=False, mode=mode: self.set_mode(mode))
            row.addWidget(button)
        self.week_button.setChecked(True)
        return row

    def _calendar_card(self) -> QFrame:
        card = QFrame()
        card.setObjectName("card")
        inside = QVBoxLayout(card)
        inside.setContentsMargins(1, 1, 1, 1)
        inside.addWidget(self.grid)
        return card

    def _load_locations(self) -> None:
        with self.context.db.reading() as session:
            places = [
                (loc.id, f"{loc.name} ({loc.code})")
                for loc in list_locations(session, self.context.actor)
            ]
        # Ids by row, not as item data (see wizard._alternatives on PySide6 and None).
        self.location_ids = [location_id for location_id, _text in places]
        self.location_box.blockSignals(True)
        self.location_box.clear()
        self.location_box.addItems([text for _location_id, text in places])
        self.location_box.blockSignals(False)
        self.location_id = places[0][0] if places else None
        self.location_box.setEnabled(bool(places))

    # -- where and when -----------------------------------------------------------------

    @property
    def first_day(self) -> date:
        return self.anchor if self.mode == DAY else week_start(self.anchor)

    @property
    def day_count(self) -> int:
        return 1 if self.mode == DAY else 7

    def _location_chosen(self, index: int) -> None:
        if 0 <= index < len(self.location_ids) and self.location_ids[index] != self.location_id:
            self.location_id = self.location_ids[index]
            self.refresh()

    def show_location(self, location_id: int) -> None:
        """Show ``location_id`` (reading the locations again if it is new)."""
        if location_id not in self.location_ids:
            self._load_locations()
        if location_id in self.location_ids:
            self.location_box.setCurrentIndex(self.location_ids.index(location_id))

    def _date_chosen(self, chosen: QDate) -> None:
        day = chosen.toPython()
        if isinstance(day, date) and day != self.anchor:
            self.go_to(day)

    def go_to(self, day: date) -> None:
        """Show the day (or the week holding) ``day``."""
        self.anchor = day
        self.refresh()

    def set_mode(self, mode: str) -> None:
        """``day`` or ``week``."""
        self.mode = mode
        (self.day_button if mode == DAY else self.week_button).setChecked(True)
        self.refresh()

    def previous(self) -> None:
        self.go_to(self.anchor - timedelta(days=self.day_count))

    def next(self) -> None:
        self.go_to(self.anchor + timedelta(days=self.day_count))

    def today(self) -> None:
        self.go_to(self._local_today())

    def _local_today(self) -> date:
        window = self.window_data
        now = self._now()
        return now.astimezone(ZoneInfo(window.time_zone)).date() if window else now.date()

    def refresh(self) -> None:
        """Read the shown days again and redraw them."""
        self.date_edit.blockSignals(True)
        self.date_edit.setDate(QDate(self.anchor.year, self.anchor.month, self.anchor.day))
        self.date_edit.blockSignals(False)
        last = self.first_day + timedelta(days=self.day_count - 1)
        self.title.setText(
            day_heading(self.first_day, long=True)
            if self.mode == DAY
            else week_heading(self.first_day, last)
        )
        if self.location_id is None:
            self._empty("There are no locations yet. Add one in Settings → Locations.")
            return
        with self.context.db.reading() as session:
            window = calendar_window(
                session, self.context.actor, self.location_id, self.first_day, self.day_count
            )
        self.window_data = window
        if not any(c.active for c in window.chairs):
            self._empty(f"{window.location_name} has no chairs yet. Add them in Settings → Chairs.")
        else:
            self.empty.hide()
        self.grid.show_window(window, week=self.mode == WEEK)
        if self.mode == WEEK:
            self.grid.scroll_to_day(self.anchor)

    def _empty(self, text: str) -> None:
        self.empty.setText(text)
        self.empty.show()

    def entry(self, session_id: int) -> CalendarEntry | None:
        """The shown session ``session_id``, as last read."""
        window = self.window_data
        return (
            next((e for e in window.entries if e.session_id == session_id), None)
            if (window)
            else None
        )

    # -- moving -------------------------------------------------------------------------

    def move_to(self, entry: CalendarEntry, target: DropTarget) -> bool:
        """Move ``entry`` to ``target`` (the grid's drop); say why when refused."""
        where = f"{day_heading(target.day)}, {clock(target.start)}"
        if target.chair_id is None:
            self.banner.say(
                f"{entry.reference} was not moved: the clinic is closed on "
                f"{where.split(',')[0]} ({target.closed}).",
                "error",
            )
            return False
        window = self.window_data
        zone = ZoneInfo(window.time_zone if window else "UTC")
        starts_at = datetime.combine(target.day, target.start, tzinfo=zone)
        try:
            with self.context.db.transaction() as session:
                moved = move_session(
                    session,
                    self.context.actor,
                    entry.session_id,
                    starts_at,
                    now=self._now(),
                    chair_id=target.chair_id,
                    expected_version=entry.version,
                )
        except KetaDeskError as error:
            self._refused(entry, f"{where} in {target.chair_name}", error)
            return False
        estimate = f" {moved.estimate.sentence}" if moved.estimate else ""
        self.banner.say(
            f"Moved {entry.reference} ({entry.patient_name}) to {where} in "
            f"{target.chair_name}.{estimate}"
        )
        self.grid.selected_id = entry.session_id
        self.refresh()
        return True

    def _refused(self, entry: CalendarEntry, where: str, error: KetaDeskError) -> None:
        reason = (
            "; ".join(p.message for p in error.problems)
            if isinstance(error, ValidationError)
            else str(error)
        )
        text = f"{entry.reference} ({entry.patient_name}) was not moved to {where}: {reason}"
        if isinstance(error, SlotTaken) and error.session_id is not None:
            other = self.entry(error.session_id)
            if other is not None and other.patient_name not in text:
                text += f" In the way: {entry_line(other)}."
            self.grid.select(error.session_id)
        self.banner.say(text, "error")

    # -- opening and booking ------------------------------------------------------------

    def open_session(self, entry: CalendarEntry) -> SessionDialog | None:
        """Open the session dialog for ``entry``; the schedule refreshes after each change."""
        if self.window_data is None:
            return None
        if self.dialog is not None:
            self.dialog.deleteLater()
        dialog = SessionDialog(
            self.context, entry, self.window_data.location_id, clock_now=self._now, parent=self
        )
        dialog.changed.connect(self.refresh)
        self.dialog = dialog
        dialog.open()
        return dialog

    def new_series(self) -> NewSeriesWizard | None:
        """Open the new-series wizard at this location, starting from the shown day."""
        if not self.can_book:
            return None
        if self.wizard is not None:
            self.wizard.deleteLater()
        start = max(self.first_day, self._local_today())
        wizard = NewSeriesWizard(
            self.context,
            location_id=self.location_id,
            start=start,
            clock_now=self._now,
            parent=self,
        )
        wizard.booked.connect(self.show_booked)
        self.wizard = wizard
        wizard.open()
        return wizard

    def show_booked(self, booked: Booked) -> None:
        """Jump to the first session of a series just booked and outline it."""
        self.banner.say(booked.summary)
        self.show_location(booked.location_id)
        self.location_id = booked.location_id
        self.anchor = booked.first_day
        self.grid.selected_id = booked.first_session_id
        self.refresh()
        self.grid.scroll_to_minute(minutes(booked.first_time) - 30)
        self.grid.select(booked.first_session_id)
