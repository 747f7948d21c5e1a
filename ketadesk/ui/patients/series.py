"""The open patient's treatment series: progress, sessions ahead and behind, the score trend.

:func:`load_series` reads :func:`~ketadesk.scheduling.series.patient_series` in one read-only
session and copies what the panel shows into frozen :class:`SeriesLine` and
:class:`ScorePoint` values (times already in each location's zone), so no ORM object
outlives its session. :class:`SeriesPanel` shows one block per series — protocol,
location, status, "4 of 6", then its upcoming and past sessions (date, time, chair,
status, score) — and one :class:`ScoreTrendChart` over every completed session with a
PHQ-9 or GAD-7 score. The chart is painted with ``QPainter`` (PySide6-Essentials has no
QtCharts): PHQ-9 severity bands behind, one line with points per questionnaire, axis
labels, and a legend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketadesk.scheduling.models import (
    OPEN,
    ScoreKind,
    Series,
    SeriesStatus,
    SessionStatus,
    TreatmentSession,
)
from ketadesk.scheduling.series import patient_series, series_progress
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import us_date
from ketadesk.ui.patients.outcomes import load_outcomes, series_summaries
from ketadesk.ui.style import ACCENT, ERROR, INK, LINE, MUTED, set_role

DATE_LABEL_WIDTH = 44  # pixels for "12/07" under the chart's axis
PAST_ROWS = 8  # past sessions listed per series (the latest ones); the rest are counted
COLUMNS = ("#", "Date", "Time", "Chair", "Status", "Score")
COLUMN_WIDTHS = (40, 100, 64, 0, 112, 92)  # the chair column takes the rest
SCORE_COLOURS = {ScoreKind.PHQ9: ACCENT, ScoreKind.GAD7: "#7b4fb8"}
# PHQ-9 severity: (from, to, name, tint)
PHQ9_BANDS = (
    (0, 4, "minimal", "#eef7ee"),
    (5, 9, "mild", "#f6f8e6"),
    (10, 14, "moderate", "#fdf5e2"),
    (15, 19, "mod. severe", "#fcebdf"),
    (20, 27, "severe", "#fae3e1"),
)
_STATUS_INK = {
    SessionStatus.CANCELLED: MUTED,
    SessionStatus.LATE_CANCELLED: ERROR,
    SessionStatus.NO_SHOW: ERROR,
}


@dataclass(frozen=True)
class SessionLine:
    session_id: int
    reference: str
    number: int
    local_start: datetime
    chair_name: str
    status: SessionStatus
    score_kind: ScoreKind | None
    score: int | None

    @property
    def score_text(self) -> str:
        if self.score_kind is None or self.score is None:
            return ""
        return f"{self.score_kind.label} {self.score}"


@dataclass(frozen=True)
class SeriesLine:
    series_id: int
    protocol_name: str
    location_name: str
    status: SeriesStatus
    progress: str  # "4 of 6"
    discontinued_reason: str
    upcoming: tuple[SessionLine, ...]  # soonest first
    past: tuple[SessionLine, ...]  # latest first

    @property
    def heading(self) -> str:
        return f"{self.protocol_name} · {self.location_name}"


@dataclass(frozen=True)
class ScorePoint:
    day: date
    kind: ScoreKind
    score: int
    reference: str


def _line(ts: TreatmentSession, zone: ZoneInfo) -> SessionLine:
    return SessionLine(
        session_id=ts.id,
        reference=ts.reference,
        number=ts.number,
        local_start=ts.starts_at.astimezone(zone),
        chair_name=ts.chair.name,
        status=ts.status,
        score_kind=ts.score_kind,
        score=ts.score,
    )


def _series_line(series: Series, now: datetime) -> SeriesLine:
    zone = ZoneInfo(series.location.time_zone)
    ordered = sorted(series.sessions, key=lambda s: (s.starts_at, s.id))
    ahead = [s for s in ordered if s.status in OPEN and s.ends_at > now]
    ahead_ids = {s.id for s in ahead}
    behind = [s for s in reversed(ordered) if s.id not in ahead_ids]
    return SeriesLine(
        series_id=series.id,
        protocol_name=series.protocol.name,
        location_name=series.location.name,
        status=series.status,
        progress=series_progress(series).text,
        discontinued_reason=series.discontinued_reason,
        upcoming=tuple(_line(s, zone) for s in ahead),
        past=tuple(_line(s, zone) for s in behind),
    )


def load_series(
    context: AppContext, patient_id: int, now: datetime | None = None
) -> tuple[tuple[SeriesLine, ...], tuple[ScorePoint, ...]]:
    """The patient's series (newest first) and score points (oldest first)."""
    moment = now or datetime.now(UTC)
    with context.db.reading() as session:
        found = patient_series(session, context.actor, patient_id)
        lines = tuple(_series_line(series, moment) for series in found)
    points = sorted(
        (
            ScorePoint(s.local_start.date(), s.score_kind, s.score, s.reference)
            for line in lines
            for s in line.past
            if s.status is SessionStatus.COMPLETED
            and s.score_kind is not None
            and s.score is not None
        ),
        key=lambda p: (p.day, p.reference),
    )
    return lines, tuple(points)


class ScoreTrendChart(QWidget):
    """PHQ-9 / GAD-7 scores over completed sessions: bands, lines, points, labels."""

    MARGINS = (38, 26, 90, 30)  # left, top, right, bottom

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreTrend")
        self.points: tuple[ScorePoint, ...] = ()
        self.setMinimumHeight(210)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_points(self, points: Sequence[ScorePoint]) -> None:
        self.points = tuple(points)
        self.update()

    def kinds(self) -> list[ScoreKind]:
        return [k for k in ScoreKind if any(p.kind is k for p in self.points)]

    def plot_area(self) -> QRectF:
        left, top, right, bottom = self.MARGINS
        return QRectF(left, top, self.width() - left - right, self.height() - top - bottom)

    def top_score(self) -> int:
        return max((k.maximum for k in self.kinds()), default=ScoreKind.PHQ9.maximum)

    def position(self, point: ScorePoint) -> QPointF:
        """Where ``point`` is drawn: x by its place among the sessions, y by its score.

        Sessions are evenly spaced (months between two series would otherwise squeeze a
        series into a corner); the dates are written under the axis.
        """
        area = self.plot_area()
        index = self.points.index(point)
        steps = len(self.points) - 1
        x = area.left() + area.width() * index / steps if steps else area.center().x()
        return QPointF(x, self._y(point.score))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() - 1.5, 7))
        painter.setFont(small)
        if not self.points:
            painter.setPen(QColor(MUTED))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "No PHQ-9 or GAD-7 scores recorded yet."
            )
            return
        self._bands(painter)
        self._axes(painter)
        for kind in self.kinds():
            self._line(painter, kind)
        self._legend(painter)

    def _y(self, score: float) -> float:
        area = self.plot_area()
        return area.bottom() - area.height() * score / self.top_score()

    def _bands(self, painter: QPainter) -> None:
        if ScoreKind.PHQ9 not in self.kinds():
            return
        area = self.plot_area()
        for low, high, name, tint in PHQ9_BANDS:
            top = self._y(min(high + 1, self.top_score()))
            band = QRectF(area.left(), top, area.width(), self._y(low) - top)
            painter.fillRect(band, QColor(tint))
            painter.setPen(QColor(MUTED))
            painter.drawText(
                QRectF(area.right() + 6, band.top(), 80, band.height()),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                name,
            )

    def _axes(self, painter: QPainter) -> None:
        area = self.plot_area()
        painter.setPen(QPen(QColor(LINE), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        painter.setPen(QColor(MUTED))
        for score in range(0, self.top_score() + 1, 5):
            y = self._y(score)
            painter.drawText(
                QRectF(0, y - 8, area.left() - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                str(score),
            )
        last_right = -1e9
        for point in self.points:  # a date under each point, skipping those that would touch
            x = self.position(point).x()
            if x - DATE_LABEL_WIDTH / 2 < last_right + 4:
                continue
            painter.drawText(
                QRectF(x - DATE_LABEL_WIDTH / 2, area.bottom() + 4, DATE_LABEL_WIDTH, 16),
                Qt.AlignmentFlag.AlignHCenter,
                f"{point.day:%m/%d}",
            )
            last_right = x + DATE_LABEL_WIDTH / 2

    def _line(self, painter: QPainter, kind: ScoreKind) -> None:
        colour = QColor(SCORE_COLOURS[kind])
        spots = [self.position(p) for p in self.points if p.kind is kind]
        painter.setPen(QPen(colour, 2))
        for start, end in pairwise(spots):
            painter.drawLine(start, end)
        painter.setBrush(colour)
        painter.setPen(QPen(QColor("#ffffff"), 1.5))
        for spot in spots:
            painter.drawEllipse(spot, 4.5, 4.5)

    def _legend(self, painter: QPainter) -> None:
        x = self.plot_area().left() + 4
        for kind in self.kinds():
            colour = QColor(SCORE_COLOURS[kind])
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(x, 12), QPointF(x + 16, 12))
            painter.setPen(QColor(INK))
            painter.drawText(QRectF(x + 20, 3, 60, 18), Qt.AlignmentFlag.AlignVCenter, kind.label)
            x += 80


def _table(lines: Sequence[SessionLine]) -> QTableWidget:
    table = QTableWidget(len(lines), len(COLUMNS))
    table.setHorizontalHeaderLabels(list(COLUMNS))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column, width in enumerate(COLUMN_WIDTHS):
        table.setColumnWidth(column, width)
    header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setDefaultSectionSize(26)
    for row, line in enumerate(lines):
        cells = (
            str(line.number),
            us_date(line.local_start.date()),
            f"{line.local_start:%H:%M}",
            line.chair_name,
            line.status.label,
            line.score_text,
        )
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 4 and line.status in _STATUS_INK:
                item.setForeground(QColor(_STATUS_INK[line.status]))
            table.setItem(row, column, item)
    height = header.sizeHint().height() + 26 * len(lines) + 2 * table.frameWidth() + 2
    table.setFixedHeight(height)
    return table


class SeriesPanel(QWidget):
    """Every series of the open patient, then the score chart."""

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.outcome_lines: dict[int, list[str]] = {}  # per series: response and remission
        self.lines: tuple[SeriesLine, ...] = ()
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(8)
        self.blocks = QVBoxLayout()
        self.blocks.setSpacing(14)
        self.column.addLayout(self.blocks)
        trend = QLabel("OUTCOME SCORES")
        trend.setObjectName("sectionTitle")
        self.column.addWidget(trend)
        self.chart = ScoreTrendChart()
        self.column.addWidget(self.chart)

    def set_patient(self, patient_id: int, now: datetime | None = None) -> None:
        """Load and show ``patient_id``'s series and scores."""
        lines, points = load_series(self.context, patient_id, now)
        self.outcome_lines = series_summaries(load_outcomes(self.context, patient_id))
        self.show_series(lines, points)

    def show_series(self, lines: Sequence[SeriesLine], points: Sequence[ScorePoint]) -> None:
        self.lines = tuple(lines)
        while (item := self.blocks.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        if not lines:
            none = QLabel("No treatment series yet. Book one in the Schedule area.")
            set_role(none, "muted")
            self.blocks.addWidget(none)
        for line in lines:
            self.blocks.addWidget(self._block(line))
        self.chart.set_points(points)

    def _block(self, line: SeriesLine) -> QFrame:
        block = QFrame()
        block.setObjectName("seriesBlock")
        column = QVBoxLayout(block)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        heading = QLabel(f"<b>{line.heading}</b>")
        heading.setObjectName("seriesHeading")
        heading.setWordWrap(True)
        column.addWidget(heading)
        facts = [line.status.label, line.progress]
        if line.discontinued_reason:
            facts.append(f"stopped: {line.discontinued_reason}")
        progress = QLabel(" · ".join(facts))
        progress.setObjectName("seriesProgress")
        set_role(progress, "muted")
        column.addWidget(progress)
        for said in self.outcome_lines.get(line.series_id, ()):
            outcome = QLabel(said)
            outcome.setObjectName("seriesOutcome")
            outcome.setWordWrap(True)
            column.addWidget(outcome)
        if line.upcoming:
            column.addWidget(self._caption(f"Upcoming ({len(line.upcoming)})"))
            column.addWidget(_table(line.upcoming))
        if line.past:
            shown = line.past[:PAST_ROWS]
            more = len(line.past) - len(shown)
            caption = f"Past ({len(line.past)})" + (f" — latest {len(shown)} shown" if more else "")
            column.addWidget(self._caption(caption))
            column.addWidget(_table(shown))
        return block

    def _caption(self, text: str) -> QLabel:
        caption = QLabel(text)
        caption.setObjectName("seriesCaption")
        caption.setStyleSheet(f"color: {MUTED}; font-weight: 600; padding-top: 4px;")
        return caption

    def progress_texts(self) -> list[str]:
        """Each series' progress as shown ("4 of 6"), newest series first."""
        return [line.progress for line in self.lines]
