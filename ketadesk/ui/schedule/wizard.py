"""The "New series" wizard: patient → protocol → where, when and preferences → the plan → Book.

Pages, each reading what it shows in its own short read-only session:

1. :class:`PatientPage` — search as you type
   (:func:`~ketadesk.clinic.patients.patient_page`), pick one;
2. :class:`ProtocolPage` — the clinic's active protocols
   (:func:`~ketadesk.scheduling.protocols.list_protocols`);
3. :class:`PreferencesPage` — location, start date, weekdays, a time window, and for an
   open-ended protocol how often and how many sessions to book now;
4. :class:`ProposalPage` — :func:`~ketadesk.scheduling.planner.plan_series` proposes every
   session. Each row shows its day, time, chair and provider, the problems met on the
   way, and a drop-down of the nearest alternatives (:meth:`SeriesPlan.choose`). Hard stops
   are listed in red and keep Book disabled; every warning has its own "I acknowledge"
   box. **Book** calls :func:`~ketadesk.billing.actions.book_series` in one write
   transaction with the acknowledged codes (it drafts the Good Faith Estimate too); a
   refusal is shown in words on the page and the wizard stays open ("Plan again"
   re-plans around whatever changed).

On success the wizard closes and emits :attr:`NewSeriesWizard.booked` with a
:class:`Booked` record; the schedule jumps to the first session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTime, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ketadesk.billing.actions import Booked as BookedSeries
from ketadesk.billing.actions import book_series
from ketadesk.clinic.locations import WEEKDAY_NAMES, get_location, list_locations
from ketadesk.clinic.models import Patient
from ketadesk.clinic.patients import PatientRow, patient_page
from ketadesk.errors import KetaDeskError, NotFound, SlotTaken, ValidationError
from ketadesk.scheduling.planner import plan_series
from ketadesk.scheduling.proposals import Preferences, SeriesPlan
from ketadesk.scheduling.protocols import get_protocol, list_protocols
from ketadesk.ui import style
from ketadesk.ui.context import AppContext
from ketadesk.ui.schedule.plan_rows import PlanRows
from ketadesk.ui.schedule.text import moment
from ketadesk.ui.style import set_role

SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 50
DEFAULT_OPEN_ENDED_COUNT = 6
ID_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class ProtocolChoice:
    """A protocol as the wizard offers it."""

    id: int
    key: str
    name: str
    modality_label: str
    session_count: int | None
    interval_choices: tuple[int, ...]
    chair_minutes: int
    description: str

    @property
    def open_ended(self) -> bool:
        return self.session_count is None

    @property
    def summary(self) -> str:
        count = f"{self.session_count} sessions" if self.session_count else "open-ended"
        return f"{count} · {self.modality_label} · {self.chair_minutes} min in the chair"


@dataclass(frozen=True)
class Booked:
    """A series just booked: where the schedule should jump, and a sentence about it."""

    series_id: int
    location_id: int
    first_session_id: int
    first_day: date
    first_time: time
    count: int
    summary: str


def _error_text(error: KetaDeskError) -> str:
    if isinstance(error, ValidationError):
        return "\n".join(f"{p.field[:1].upper()}{p.field[1:]}: {p.message}" for p in error.problems)
    text = str(error)
    return text[:1].upper() + text[1:]


def _note(text: str, role: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    set_role(label, role)
    return label


# -- 1. the patient -------------------------------------------------------------------------


class PatientPage(QWizardPage):
    """Type a name, MRN, date of birth or phone; pick the patient from the list."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("Patient")
        self.setSubTitle("Who is the series for? Search by name, MRN, date of birth or phone.")
        self.search = QLineEdit()
        self.search.setObjectName("patientSearch")
        self.search.setPlaceholderText("Start typing a name…")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName("patientResults")
        self.count = _note("", "muted")
        column = QVBoxLayout(self)
        column.addWidget(self.search)
        column.addWidget(self.results, 1)
        column.addWidget(self.count)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self.search.textChanged.connect(lambda _text: self._timer.start())
        self.search.returnPressed.connect(self.search_now)
        self.results.itemSelectionChanged.connect(self.completeChanged.emit)
        self.results.itemDoubleClicked.connect(lambda _item: self.wizard().next())
        self.rows: dict[int, PatientRow] = {}

    def search_now(self) -> None:
        """Search for what is typed and list the matches (the first one selected)."""
        self._timer.stop()
        text = self.search.text().strip()
        self.results.clear()
        self.rows = {}
        if not text:
            self.count.setText("")
            self.completeChanged.emit()
            return
        with self.context.db.rows() as connection:  # plain rows: no ORM session needed
            found = patient_page(connection, self.context.actor, text, limit=SEARCH_LIMIT)
        rows = found.rows
        for row in rows:
            item = QListWidgetItem(
                f"{row.display_name}   ·   MRN {row.mrn}   ·   born {row.date_of_birth:%m/%d/%Y}"
            )
            item.setData(ID_ROLE, row.id)
            self.results.addItem(item)
            self.rows[row.id] = row
        more = f" (the first {len(rows)}; type more to narrow)" if found.more else ""
        self.count.setText(f"{found.total:,} found{more}" if rows else "Nobody matches that.")
        if rows:
            self.results.setCurrentRow(0)
        self.completeChanged.emit()

    def patient(self) -> PatientRow | None:
        item = self.results.currentItem()
        if item is None or not item.isSelected():
            return None
        return self.rows.get(int(item.data(ID_ROLE)))

    def isComplete(self) -> bool:
        return self.patient() is not None


# -- 2. the protocol ------------------------------------------------------------------------


class ProtocolPage(QWizardPage):
    """The clinic's active protocols; pick one."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setTitle("Protocol")
        self.setSubTitle("Which treatment series?")
        self.list = QListWidget()
        self.list.setObjectName("protocols")
        self.list.setWordWrap(True)
        self.description = _note("", "muted")
        column = QVBoxLayout(self)
        column.addWidget(self.list, 1)
        column.addWidget(self.description)
        self.choices: dict[int, ProtocolChoice] = {}
        self.list.itemSelectionChanged.connect(self._chosen)
        self.list.itemDoubleClicked.connect(lambda _item: self.wizard().next())

    def initializePage(self) -> None:
        if self.choices:
            return
        with self.context.db.reading() as session:
            for p in list_protocols(session):
                self.choices[p.id] = ProtocolChoice(
                    p.id,
                    p.key,
                    p.name,
                    p.modality.label,
                    p.session_count,
                    tuple(p.interval_choices),
                    p.chair_minutes,
                    p.description,
                )
        for choice in self.choices.values():
            item = QListWidgetItem(f"{choice.name}\n{choice.summary}")
            item.setData(ID_ROLE, choice.id)
            self.list.addItem(item)

    def _chosen(self) -> None:
        choice = self.protocol()
        self.description.setText(choice.description if choice else "")
        self.completeChanged.emit()

    def choose(self, key: str) -> None:
        """Select the protocol whose key is ``key``, as a click on it would."""
        for row in range(self.list.count()):
            choice = self.choices[int(self.list.item(row).data(ID_ROLE))]
            if choice.key == key:
                self.list.setCurrentRow(row)
                return
        raise LookupError(f"no protocol {key!r} offered")

    def protocol(self) -> ProtocolChoice | None:
        item = self.list.currentItem()
        if item is None or not item.isSelected():
            return None
        return self.choices.get(int(item.data(ID_ROLE)))

    def isComplete(self) -> bool:
        return self.protocol() is not None


# -- 3. where, when, preferences -----------------------------------------------------------


class PreferencesPage(QWizardPage):
    """Location, first day, weekdays, a time window; interval and count when open-ended."""

    def __init__(self, context: AppContext, location_id: int | None, start: date) -> None:
        super().__init__()
        self.context = context
        self.setTitle("Where and when")
        self.setSubTitle(
            "The first day to consider and what the patient prefers. "
            "Leave weekdays unticked for any day."
        )
        form = QFormLayout(self)
        self.location = QComboBox()
        self.location.setObjectName("planLocation")
        with context.db.reading() as session:
            places = [
                (loc.id, f"{loc.name} ({loc.code})")
                for loc in list_locations(session, context.actor)
            ]
        self.location_ids = [location for location, _text in places]
        self.location.addItems([text for _location, text in places])
        if location_id in self.location_ids:
            self.location.setCurrentIndex(self.location_ids.index(location_id))
        form.addRow("Location", self.location)
        self.start = QDateEdit(QDate(start.year, start.month, start.day))
        self.start.setObjectName("planStart")
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("ddd MMM d, yyyy")
        form.addRow("Start on or after", self.start)
        form.addRow("Weekdays", self._weekdays())
        form.addRow("Time of day", self._time_window())
        self.interval = QComboBox()
        self.interval.setObjectName("intervalWeeks")
        self.interval_weeks: list[int] = []  # by row of ``interval``
        self.count = QSpinBox()
        self.count.setObjectName("sessionCount")
        self.count.setRange(1, 52)
        self.count.setValue(DEFAULT_OPEN_ENDED_COUNT)
        self.count.setSuffix(" sessions")
        self._interval_row = QWidget()
        row = QHBoxLayout(self._interval_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.interval)
        row.addWidget(QLabel("book now:"))
        row.addWidget(self.count)
        row.addStretch(1)
        self._interval_caption = QLabel("How often")
        form.addRow(self._interval_caption, self._interval_row)

    def _weekdays(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.weekdays: list[QCheckBox] = []
        for number, name in enumerate(WEEKDAY_NAMES):
            check = QCheckBox(name[:3])
            check.setObjectName(f"weekday{number}")
            self.weekdays.append(check)
            row.addWidget(check)
        row.addStretch(1)
        return box

    def _time_window(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.window_check = QCheckBox("Only between")
        self.window_check.setObjectName("timeWindow")
        self.earliest = QTimeEdit(QTime(9, 0))
        self.earliest.setObjectName("earliest")
        self.latest = QTimeEdit(QTime(15, 0))
        self.latest.setObjectName("latest")
        for edit in (self.earliest, self.latest):
            edit.setDisplayFormat("h:mm AP")
            edit.setEnabled(False)
            self.window_check.toggled.connect(edit.setEnabled)
        row.addWidget(self.window_check)
        row.addWidget(self.earliest)
        row.addWidget(QLabel("and"))
        row.addWidget(self.latest)
        row.addWidget(_note("(the session's start)", "muted"))
        row.addStretch(1)
        return box

    def initializePage(self) -> None:
        protocol = self._protocol()
        open_ended = protocol is not None and protocol.open_ended
        self._interval_row.setVisible(open_ended)
        self._interval_caption.setVisible(open_ended)
        self.interval.clear()
        self.interval_weeks = list(protocol.interval_choices) if protocol else []
        self.interval.addItems(
            [
                "Every week" if weeks == 1 else f"Every {weeks} weeks"
                for weeks in self.interval_weeks
            ]
        )

    def _protocol(self) -> ProtocolChoice | None:
        wizard = self.wizard()
        return wizard.protocol_page.protocol() if isinstance(wizard, NewSeriesWizard) else None

    def location_id(self) -> int | None:
        row = self.location.currentIndex()
        return self.location_ids[row] if 0 <= row < len(self.location_ids) else None

    def start_day(self) -> date:
        chosen = self.start.date().toPython()
        return chosen if isinstance(chosen, date) else date.today()

    def preferences(self) -> Preferences:
        protocol = self._protocol()
        open_ended = protocol is not None and protocol.open_ended
        earliest = latest = None
        if self.window_check.isChecked():
            earliest = self.earliest.time().toPython()
            latest = self.latest.time().toPython()
        return Preferences(
            weekdays=frozenset(n for n, check in enumerate(self.weekdays) if check.isChecked()),
            earliest=earliest if isinstance(earliest, time) else None,
            latest=latest if isinstance(latest, time) else None,
            interval_weeks=self._interval_weeks() if open_ended else None,
            count=self.count.value() if open_ended else None,
        )

    def _interval_weeks(self) -> int | None:
        row = self.interval.currentIndex()
        return self.interval_weeks[row] if 0 <= row < len(self.interval_weeks) else None

    def isComplete(self) -> bool:
        return self.location_id() is not None


# -- 4. the plan ----------------------------------------------------------------------------


class ProposalPage(QWizardPage):
    """The proposed sessions with their problems and alternatives; Book."""

    def __init__(
        self, context: AppContext, clock_now: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__()
        self.context = context
        self._now = clock_now or (lambda: datetime.now(UTC))
        self.setTitle("Proposed sessions")
        self.setSubTitle(
            "Check the dates; pick another time where one is offered. Book when ready."
        )
        self.plan: SeriesPlan | None = None
        self.booked: Booked | None = None
        self.summary = _note("", "")
        self.blockers = _note("", "error")
        self.blockers.setObjectName("blockers")
        self.rows = PlanRows()
        self.rows.changed.connect(self.completeChanged.emit)
        self.warnings = QFrame()
        self.warning_rows = QVBoxLayout(self.warnings)
        self.warning_rows.setContentsMargins(0, 0, 0, 0)
        self.acknowledgements: dict[str, QCheckBox] = {}
        self.error = _note("", "error")
        self.error.setObjectName("bookingError")
        self.replan = QPushButton("Plan again")
        self.replan.setToolTip("Propose the sessions again, around whatever changed")
        self.replan.clicked.connect(self.make_plan)
        page = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.replan)
        page.addLayout(top)
        page.addWidget(self.blockers)
        page.addWidget(self.rows, 1)
        page.addWidget(self.warnings)
        page.addWidget(self.error)

    def _wizard(self) -> NewSeriesWizard:
        wizard = self.wizard()
        if not isinstance(wizard, NewSeriesWizard):
            raise TypeError("the proposal page belongs to a NewSeriesWizard")
        return wizard

    def initializePage(self) -> None:
        self.make_plan()

    def make_plan(self) -> None:
        """Ask the planner for the series again and show it."""
        wizard = self._wizard()
        patient = wizard.patient_page.patient()
        protocol = wizard.protocol_page.protocol()
        location_id = wizard.preferences_page.location_id()
        self.error.hide()
        self.plan = None
        if patient is not None and protocol is not None and location_id is not None:
            self.summary.setText(f"<b>{protocol.name}</b> for <b>{patient.display_name}</b>")
            try:
                self.plan = self._plan(patient.id, protocol.id, location_id)
            except KetaDeskError as error:
                self._show_error(_error_text(error))
        self._show_plan()

    def _plan(self, patient_id: int, protocol_id: int, location_id: int) -> SeriesPlan:
        preferences = self._wizard().preferences_page
        with self.context.db.reading() as session:
            patient = session.get(Patient, patient_id)
            if patient is None:
                raise NotFound("that patient is no longer on file")
            return plan_series(
                session,
                self.context.actor,
                patient,
                get_protocol(session, protocol_id),
                get_location(session, location_id),
                preferences.start_day(),
                preferences.preferences(),
                now=self._now(),
            )

    def _show_plan(self) -> None:
        plan = self.plan
        blockers = plan.blockers if plan else ()
        self.blockers.setText("\n".join(f"Cannot book: {b}" for b in blockers))
        self.blockers.setVisible(bool(blockers))
        self.rows.show_plan(plan)
        self._show_warnings()
        self.completeChanged.emit()

    def _show_warnings(self) -> None:
        while self.warning_rows.count():
            item = self.warning_rows.takeAt(0)
            widget = item.widget() if item else None
            if widget is not None:
                widget.deleteLater()
        self.acknowledgements = {}
        for warning in self.plan.warnings if self.plan else ():
            # The box and the warning side by side, the warning wrapped: a long one (the
            # patient's other series, a prior authorisation's dates) must not widen the
            # wizard past a laptop's screen.
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            check = QCheckBox("I acknowledge:")
            check.setObjectName(f"acknowledge:{warning.code}")
            check.setToolTip(warning.message)
            check.toggled.connect(lambda _on: self.completeChanged.emit())
            words = QLabel(warning.message)
            words.setObjectName(f"warning:{warning.code}")
            words.setWordWrap(True)
            for widget in (check, words):
                widget.setStyleSheet(f"color: {style.WARNING_INK};")
            line.addWidget(check, 0, Qt.AlignmentFlag.AlignTop)
            line.addWidget(words, 1)
            self.warning_rows.addWidget(row)
            self.acknowledgements[warning.code] = check
        self.warnings.setVisible(bool(self.acknowledgements))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # -- booking ------------------------------------------------------------------------

    def acknowledged(self) -> list[str]:
        return [code for code, check in self.acknowledgements.items() if check.isChecked()]

    def isComplete(self) -> bool:
        plan = self.rows.current_plan()
        return bool(
            plan and plan.bookable and all(c.isChecked() for c in self.acknowledgements.values())
        )

    def validatePage(self) -> bool:
        """Book; on a refusal say why and stay on the page."""
        plan = self.rows.current_plan()
        if plan is None:
            return False
        self.error.hide()
        try:
            with self.context.db.transaction() as session:
                booked = book_series(
                    session,
                    self.context.actor,
                    plan,
                    now=self._now(),
                    acknowledged=self.acknowledged(),
                )
                self.booked = _booked(booked, plan)
        except KetaDeskError as error:
            hint = " Press “Plan again” to plan around it." if isinstance(error, SlotTaken) else ""
            self._show_error(f"Not booked: {_error_text(error)}{hint}")
            return False
        return True


def _booked(booked: BookedSeries, plan: SeriesPlan) -> Booked:
    """What the schedule needs of a series just booked (read inside its transaction),
    with the Good Faith Estimate the booking drafted named in the summary."""
    zone = ZoneInfo(plan.time_zone)
    series, new = booked.series, booked.sessions
    first = min(new, key=lambda s: s.starts_at)
    local = first.starts_at.astimezone(zone)
    protocol, patient = series.protocol, series.patient
    summary = (
        f"Booked {protocol.name} for {patient.display_name}: {len(new)} session"
        f"{'s' if len(new) != 1 else ''}, the first on {moment(local)} in "
        f"{first.chair.name}."
    )
    if booked.estimate is not None:
        summary += f" {booked.estimate.sentence}"
    return Booked(
        series.id, series.location_id, first.id, local.date(), local.time(), len(new), summary
    )


# -- the wizard -----------------------------------------------------------------------------


class NewSeriesWizard(QWizard):
    """Book a patient's series in four steps (see the module docstring)."""

    booked = Signal(object)  # Booked, once the series is in the database

    def __init__(
        self,
        context: AppContext,
        *,
        location_id: int | None = None,
        start: date | None = None,
        clock_now: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle("New series")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Book")
        self.patient_page = PatientPage(context)
        self.protocol_page = ProtocolPage(context)
        self.preferences_page = PreferencesPage(context, location_id, start or date.today())
        self.proposal_page = ProposalPage(context, clock_now)
        for page in (
            self.patient_page,
            self.protocol_page,
            self.preferences_page,
            self.proposal_page,
        ):
            self.addPage(page)
        self.resize(920, 640)

    def accept(self) -> None:
        super().accept()
        if self.proposal_page.booked is not None:
            self.booked.emit(self.proposal_page.booked)
