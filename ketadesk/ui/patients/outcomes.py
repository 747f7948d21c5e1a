"""The patient chart's Outcomes tab: a chart per measure, each series' response and
remission in words, the item-9 alerts, and "Record score…".

Everything shown comes from :func:`ketadesk.scheduling.outcomes.summary.patient_outcomes`;
the chart is a :class:`~ketadesk.reports.model.Chart` drawn by :mod:`ketadesk.ui.charts`:
the scores over time, with each series' baseline and its response line (half the baseline)
stepping from one series to the next, and the remission threshold as a flat line. Recording
goes through :func:`ketadesk.scheduling.outcomes.scores.record_score`, the one the floor uses.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ketadesk.access.permissions import Permission
from ketadesk.errors import ValidationError
from ketadesk.reports.model import Chart, Kind, Series
from ketadesk.scheduling.outcomes import scores
from ketadesk.scheduling.outcomes.alerts import AlertView
from ketadesk.scheduling.outcomes.measures import all_measures
from ketadesk.scheduling.outcomes.rules import percent_words
from ketadesk.scheduling.outcomes.summary import (
    MeasureOutcomes,
    PatientOutcomes,
    SeriesOutcome,
    patient_outcomes,
)
from ketadesk.ui.card import section_card
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import FieldForm, attempt
from ketadesk.ui.style import ERROR, set_role

ALERT_STYLE = f"color: {ERROR}; font-weight: 600;"


def load_outcomes(context: AppContext, patient_id: int) -> PatientOutcomes:
    """The patient's outcomes, read for the chart (whose opening was audited already)."""
    with context.db.reading() as session:
        return patient_outcomes(session, context.actor, patient_id, audited=False)


def series_words(item: SeriesOutcome, zone: ZoneInfo) -> str:
    """``"IV ketamine induction from 11/02/2026: 20 → 8 (−12, −60%): response, …"``."""
    start = f"{item.protocol_name} from {item.starts_at.astimezone(zone):%m/%d/%Y}"
    if item.baseline is None or item.latest is None or item.change is None:
        return f"{start}: {item.words}"
    change = f"{item.change:+d}, {percent_words(item.change_fraction)}"
    return f"{start}: {item.baseline.total} → {item.latest.total} ({change}): {item.words}"


def series_summaries(found: PatientOutcomes) -> dict[int, list[str]]:
    """Per series id, one line per measure: what the Series card shows under each series."""
    zone = ZoneInfo(found.time_zone)
    lines: dict[int, list[str]] = {}
    for block in found.measures:
        for item in block.series:
            if item.baseline is not None:
                text = series_words(item, zone).split(": ", 1)[1]
                lines.setdefault(item.series_id, []).append(f"{block.measure.name} {text}")
    return lines


def baseline_steps(block: MeasureOutcomes) -> tuple[Decimal, ...]:
    """For each score, the baseline it is measured against: that of the series whose
    baseline is the latest taken at or before it (the first series' for earlier scores), so
    a second induction's line steps to its own baseline (a maintenance series is measured
    against its induction's, and so keeps the line flat). Empty when no series has one."""
    baselines = sorted((s.baseline for s in block.series if s.baseline is not None),
                       key=lambda point: point.taken_at)
    if not baselines:
        return ()
    steps = []
    for point in block.points:
        current = baselines[0]
        for baseline in baselines:
            if baseline.taken_at <= point.taken_at:
                current = baseline
        steps.append(Decimal(current.total))
    return tuple(steps)


def outcome_chart(block: MeasureOutcomes, zone: ZoneInfo) -> Chart:
    """The measure's scores over time, with each series' baseline and response line (half
    the baseline) stepping from series to series, and the remission threshold flat."""
    seen: Counter[str] = Counter()
    days = []
    for point in block.points:
        day = f"{point.taken_at.astimezone(zone):%m/%d/%y}"
        seen[day] += 1
        days.append(day if seen[day] == 1 else f"{day} ({seen[day]})")
    count = len(days)
    series = [Series(block.measure.name, tuple(Decimal(p.total) for p in block.points))]
    steps = baseline_steps(block)
    if steps:
        series.append(Series("Baseline", steps))
        series.append(Series("Response (50% of baseline)", tuple(b / 2 for b in steps)))
    threshold = block.measure.remission_threshold
    if threshold is not None:
        series.append(Series(f"Remission (under {threshold})", (Decimal(threshold),) * count))
    title = f"{block.measure.name} ({block.measure.range_words})"
    return Chart(title, "line", tuple(days), tuple(series), kind=Kind.NUMBER)


class OutcomesPanel(QWidget):
    """The Outcomes tab; loads when first shown for a patient, and after each recording."""

    recorded = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.patient_id: int | None = None
        self.found: PatientOutcomes | None = None
        self.stale = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 4, 0, 0)
        bar = QHBoxLayout()
        self.alerts = QLabel()
        self.alerts.setObjectName("outcomeAlerts")
        self.alerts.setWordWrap(True)
        self.alerts.setStyleSheet(ALERT_STYLE)
        bar.addWidget(self.alerts, 1)
        self.record_button = QPushButton("Record score…")
        self.record_button.setObjectName("recordScore")
        self.record_button.setVisible(context.actor.can(Permission.CLINICAL_RECORD))
        self.record_button.clicked.connect(self.open_record_dialog)
        bar.addWidget(self.record_button, 0, Qt.AlignmentFlag.AlignRight)
        outer.addLayout(bar)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        self.blocks = QVBoxLayout(body)
        self.blocks.setContentsMargins(0, 0, 6, 0)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

    def set_patient(self, patient_id: int) -> None:
        """Show ``patient_id``: now if the tab is on screen, else when it is first shown."""
        self.patient_id = patient_id
        self.stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stale:
            self.refresh()

    def refresh(self) -> None:
        if self.patient_id is None:
            return
        self.stale = False
        self.show_outcomes(load_outcomes(self.context, self.patient_id))

    def show_outcomes(self, found: PatientOutcomes) -> None:
        self.found = found
        zone = ZoneInfo(found.time_zone)
        self.alerts.setText(
            "\n".join(
                f"⚠ Open alert {a.reference}: {a.words}, raised "
                f"{a.raised_at.astimezone(zone):%m/%d/%Y %H:%M} — acknowledge it on the Today "
                "board"
                for a in found.open_alerts
            )
        )
        self.alerts.setVisible(bool(found.open_alerts))
        while (item := self.blocks.takeAt(0)) is not None:
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        if not found.measures:
            none = QLabel("No outcome scores yet. Record a PHQ-9, GAD-7, PCL-5 or pain score.")
            set_role(none, "muted")
            self.blocks.addWidget(none)
        for block in found.measures:
            self.blocks.addWidget(self._measure_card(block, zone))
        done = [a for a in found.alerts if not a.is_open]
        if done:
            self.blocks.addWidget(self._alert_history(done, zone))
        self.blocks.addStretch(1)

    def _measure_card(self, block: MeasureOutcomes, zone: ZoneInfo) -> QWidget:
        from ketadesk.ui.charts import chart_widget  # QtCharts loads with the first chart

        card, inside = section_card(f"{block.measure.name} · {block.measure.condition}")
        card.setProperty("measure", block.measure.key)
        drawn = chart_widget(outcome_chart(block, zone))
        drawn.setMinimumHeight(340)  # title, plot, slanted day labels and the legend, whole
        inside.addWidget(drawn)
        for item in reversed(block.series):
            words = QLabel(series_words(item, zone))
            words.setObjectName("seriesOutcome")
            words.setWordWrap(True)
            inside.addWidget(words)
        return card

    def _alert_history(self, done: list[AlertView], zone: ZoneInfo) -> QWidget:
        card, inside = section_card("Acknowledged alerts")
        for alert in done:
            line = QLabel(
                f"{alert.reference} {alert.raised_at.astimezone(zone):%m/%d/%Y}: {alert.words}. "
                f"Acknowledged by {alert.acknowledged_by}: {alert.note}"
            )
            line.setWordWrap(True)
            inside.addWidget(line)
        return card

    def series_texts(self) -> list[str]:
        """What the tab says of each series, as shown (for tests and the screen reader)."""
        return [label.text() for label in self.findChildren(QLabel, "seriesOutcome")]

    def open_record_dialog(self) -> RecordScoreDialog | None:
        if self.patient_id is None:
            return None
        dialog = RecordScoreDialog(self.context, self.patient_id, parent=self)
        dialog.accepted.connect(self._after_recording)
        dialog.open()
        return dialog

    def _after_recording(self) -> None:
        self.refresh()
        self.recorded.emit()


class RecordScoreDialog(QDialog):
    """Record a score: the measure, then the total or the item answers (or both)."""

    def __init__(self, context: AppContext, patient_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.patient_id = patient_id
        self.setWindowTitle("Record score")
        self.setMinimumWidth(520)
        column = QVBoxLayout(self)
        self.form = FieldForm()
        with context.db.reading() as session:
            choices = [(m.key, f"{m.name} ({m.range_words})") for m in all_measures(session)]
        self.form.add_choice("measure", "Measure", choices, required=True)
        self.form.add_text("score", "Total", placeholder="e.g. 14 (or give the items)")
        self.form.add_text("items", "Item answers", placeholder="e.g. 2,1,2,1,1,0,1,0,0")
        self.form.add_text("taken_at", "Taken on", placeholder="today; or 12/01/2026")
        column.addWidget(self.form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)

    def submit(self) -> None:
        if attempt(self, self._record, self.form) is not None:
            self.accept()

    def _record(self) -> object:
        from ketadesk.clinic.validation import parse_date

        values = self.form.values()
        total_text, items_text = str(values["score"]).strip(), str(values["items"]).strip()
        day_text = str(values["taken_at"]).strip()
        if total_text and not total_text.isdigit():
            raise ValidationError.single("score", "give the total as a whole number")
        now = datetime.now().astimezone()
        with self.context.db.transaction() as session:
            taken_at = None
            if day_text and day_text.lower() != "today":
                try:
                    day = parse_date(day_text)
                except ValueError as error:
                    raise ValidationError.single("taken_at", str(error)) from None
                taken_at = scores.taken_on(session, self.patient_id, day, now)
            answers = scores.Answers(
                total=int(total_text) if total_text else None,
                items=scores.read_items(items_text) if items_text else None,
            )
            return scores.record_score(
                session,
                self.context.actor,
                self.patient_id,
                str(values["measure"]),
                answers,
                taken_at=taken_at,
                now=now,
            )
