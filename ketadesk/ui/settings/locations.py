"""The Locations tab: each location's details, weekly opening hours, closures and holidays.

The list and the details form are a :class:`~ketadesk.ui.settings.table.RecordTab`. Beside
the details, three more pages describe a saved location, each reading and writing through
the services of :mod:`ketadesk.clinic.locations`:

* **Opening hours** — one line per weekday (``08:00-12:00, 13:00-17:00``; blank when
  closed), checked as it is typed with :func:`~ketadesk.clinic.locations.parse_hours`, and
  saved as a whole week with :func:`~ketadesk.clinic.locations.set_hours`;
* **Closures** — days the clinic closes besides holidays, added and removed one at a time;
* **Public holidays** — the holidays of the location's state in a chosen year, each with a
  "Clinic closed" box; unticking one keeps the clinic open on it every year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.clinic import locations as service
from ketadesk.clinic.codes import PLACE_OF_SERVICE
from ketadesk.clinic.locations import WEEKDAY_NAMES, Interval, PublicHoliday
from ketadesk.errors import FieldProblem, InvalidValue
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import day_text
from ketadesk.ui.forms import FieldForm, require_hooks
from ketadesk.ui.settings.table import (
    SAVED_STYLE,
    Fields,
    RecordTab,
    Row,
    make_read_only,
    read,
    record_table,
    shown_phone,
    write,
    write_done,
)

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HINT_STYLE = "color: #555;"
TIME_ZONES = (
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
)
FIELDS = Fields(service.LOCATION_FIELDS)


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet(HINT_STYLE)
    return label


def shown_tin(digits: str) -> str:
    """A stored nine-digit TIN as an EIN is written on forms: ``12-3456789``."""
    return f"{digits[:2]}-{digits[2:]}" if len(digits) == 9 else digits


class LocationsTab(RecordTab):
    """Locations on the left; details, hours, closures and holidays of the chosen one."""

    noun = "location"
    columns = ("Name", "Code", "City")
    status_in_raw = False

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        editable = context.actor.can(self.permission)
        self.hours = HoursPage(context, editable)
        self.closures = ClosuresPage(context, editable)
        self.holidays = HolidaysPage(context, editable)
        self.pages = QTabWidget()
        super().__init__(context, parent)

    def side_panel(self, details: QWidget) -> QWidget:
        self.pages.addTab(details, "Details")
        self.pages.addTab(self.hours, "Opening hours")
        self.pages.addTab(self.closures, "Closures")
        self.pages.addTab(self.holidays, "Public holidays")
        return self.pages

    def build_form(self, form: FieldForm) -> None:
        form.add_section("Location")
        FIELDS.add_texts(form, ("code", "name"), {"code": "short code, e.g. NYC"})
        form.add_section("Address")
        FIELDS.add_texts(form, ("address_line1", "address_line2", "city", "state", "zip_code",
                                "phone"),
                         {"state": "e.g. NY", "zip_code": "e.g. 10001",
                          "phone": "e.g. (212) 555-0142"})
        form.add_section("Billing and time")
        FIELDS.add_choice(form, "pos_code",
                          [(code, f"{code} – {name}") for code, name in PLACE_OF_SERVICE.items()])
        FIELDS.add_texts(form, ("npi", "tin"), {"npi": "organisation (type 2) NPI, 10 digits",
                                                "tin": "EIN, e.g. 12-3456789"})
        FIELDS.add_choice(form, "time_zone", TIME_ZONES)
        form.add_check("observe_holidays", FIELDS.label("observe_holidays"))

    def blank_values(self) -> Mapping[str, object]:
        return {**super().blank_values(), "pos_code": "11", "time_zone": TIME_ZONES[0][0],
                "observe_holidays": True}

    def load_rows(self, session: Session, include_inactive: bool) -> list[Row]:
        found = service.list_locations(session, self.context.actor,
                                       include_inactive=include_inactive)
        return [Row(loc.id, (loc.name, loc.code, f"{loc.city}, {loc.state}"), loc.active)
                for loc in found]

    def load_values(self, session: Session, key: int) -> Mapping[str, object]:
        values = shown_phone(service.location_values(service.get_location(session, key)))
        values["tin"] = shown_tin(str(values["tin"]))
        zone = self.form.editors["time_zone"]
        if isinstance(zone, QComboBox) and zone.findData(values["time_zone"]) < 0:
            zone.addItem(str(values["time_zone"]), values["time_zone"])  # outside the usual
        return values

    def describe(self, values: Mapping[str, object]) -> str:
        return f"{values['name']} ({values['code']})"

    def create_record(self, session: Session, raw: Mapping[str, object]) -> int:
        return service.create_location(session, self.context.actor, raw).id

    def update_record(self, session: Session, key: int, raw: Mapping[str, object]) -> int:
        return service.update_location(session, self.context.actor, key, raw).id

    def set_record_active(self, session: Session, key: int, active: bool) -> None:
        service.set_location_active(session, self.context.actor, key, active)

    def record_shown(self, key: int | None) -> None:
        for page in (self.hours, self.closures, self.holidays):
            page.show_location(key)
        for index in (1, 2, 3):
            self.pages.setTabEnabled(index, key is not None)
            self.pages.setTabToolTip(index, "" if key else "Save the new location first")
        if key is None:
            self.pages.setCurrentIndex(0)


class LocationPage(QWidget):
    """A page about one saved location; :meth:`show_location` (re)reads it."""

    def __init__(self, context: AppContext, editable: bool) -> None:
        super().__init__()
        self.context = context
        self.editable = editable
        self.location_id: int | None = None
        self.status = QLabel()
        self.status.setStyleSheet(SAVED_STYLE)

    def show_location(self, location_id: int | None) -> None:
        self.location_id = location_id
        self.status.clear()
        if location_id is not None:
            self.refresh()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        require_hooks(cls, ("refresh",))  # each page (re)reads its location in refresh()

    if TYPE_CHECKING:

        def refresh(self) -> None: ...

    def button_row(self, *buttons: QPushButton) -> QHBoxLayout:
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addWidget(self.status, 1)
        return row


# -- opening hours ----------------------------------------------------------------------------


def day_texts(intervals: Sequence[Interval]) -> dict[str, str]:
    """Intervals -> one line of text per weekday key (``""`` on a closed day)."""
    return {key: ", ".join(str(iv) for iv in intervals if iv.weekday == day)
            for day, key in enumerate(DAY_KEYS)}


def week_of(session: Session, location_id: int) -> list[Interval]:
    hours = service.get_location(session, location_id).hours
    return sorted(Interval(h.weekday, h.opens, h.closes) for h in hours)


def parse_week(texts: Mapping[str, object]) -> tuple[list[Interval], list[FieldProblem]]:
    """Per-day texts -> every interval of the week, and a problem for each unreadable day."""
    intervals: list[Interval] = []
    problems: list[FieldProblem] = []
    for day, key in enumerate(DAY_KEYS):
        text = str(texts.get(key) or "").strip()
        if not text:
            continue
        try:
            intervals.extend(service.parse_hours(f"{DAY_KEYS[day]} {text}"))
        except InvalidValue as error:
            problems.append(FieldProblem(key, str(error)))
    return intervals, problems


class HoursPage(LocationPage):
    """Seven lines, Monday to Sunday, each with that day's opening times."""

    def __init__(self, context: AppContext, editable: bool) -> None:
        super().__init__(context, editable)
        self.form = FieldForm()
        for key, name in zip(DAY_KEYS, WEEKDAY_NAMES, strict=True):
            editor = self.form.add_text(key, name, placeholder="closed")
            editor.textEdited.connect(self.check)
        self.summary = QLabel()
        self.summary.setObjectName("hours_summary")
        self.save_button = QPushButton("Save hours")
        self.copy_button = QPushButton("Copy Monday to Tue–Fri")
        self.undo_button = QPushButton("Undo changes")
        box = QVBoxLayout(self)
        box.addWidget(hint(
            "Type each day's opening times, e.g. 08:00-18:00 or 8am-6pm. For a lunch break "
            "give two ranges: 08:00-12:00, 13:00-17:00. Leave a day blank when closed."
            if editable else "The times each day this location is open."))
        box.addWidget(self.form)
        box.addWidget(self.summary)
        if editable:
            box.addLayout(self.button_row(self.save_button, self.copy_button, self.undo_button))
            self.save_button.clicked.connect(self.save)
            self.copy_button.clicked.connect(self.copy_monday)
            self.undo_button.clicked.connect(self.refresh)
        else:
            make_read_only(self.form)
            for day in self.form.editors.values():
                if isinstance(day, QLineEdit):
                    day.setPlaceholderText("closed")  # here a blank day means closed
        box.addStretch(1)

    def refresh(self) -> None:
        location_id = self.location_id
        if location_id is None:
            return
        intervals = read(self, self.context, lambda s: week_of(s, location_id))
        self.form.clear_problems()
        self.form.set_values(day_texts(intervals or []))
        self.check()

    def check(self) -> list[Interval] | None:
        """Check every day as typed; the week's intervals, or None if a day is unreadable."""
        intervals, problems = parse_week(self.form.values())
        self.status.clear()
        if problems:
            self.form.show_problems(problems)
            self.summary.setText("Fix the days marked in red.")
            return None
        self.form.clear_problems()
        week = service.format_hours(intervals)
        self.summary.setText(f"Week: {week}" if week else "Closed every day: no hours set.")
        return intervals

    def copy_monday(self) -> None:
        monday = self.form.values()["mon"]
        self.form.set_values(dict.fromkeys(DAY_KEYS[1:5], monday))
        self.check()

    def save(self) -> None:
        location_id, intervals = self.location_id, self.check()
        if location_id is None or intervals is None:
            return
        if write_done(self, self.context, lambda s: service.set_hours(
                s, self.context.actor, location_id, intervals), self.form):
            self.status.setText("Opening hours saved.")


# -- closures ---------------------------------------------------------------------------------


def closures_of(session: Session, location_id: int) -> list[tuple[int, str, date, date]]:
    closures = service.get_location(session, location_id).closures
    return [(c.id, c.reason, c.first_day, c.last_day) for c in closures]


class ClosuresPage(LocationPage):
    """The location's closures, and a small form to add one."""

    def __init__(self, context: AppContext, editable: bool) -> None:
        super().__init__(context, editable)
        self.table = record_table(("Reason", "First day", "Last day"))
        self.form = FieldForm()
        self.form.add_text("first_day", "First day", placeholder="MM/DD/YYYY", required=True)
        self.form.add_text("last_day", "Last day", placeholder="blank: the first day only")
        self.form.add_text("reason", "Reason", placeholder="e.g. staff training",
                           required=True)
        self.add_button = QPushButton("Add closure")
        self.remove_button = QPushButton("Remove selected closure")
        box = QVBoxLayout(self)
        box.addWidget(hint("Days this location is closed besides public holidays "
                           "(training, repairs, weather). No sessions can be booked on them."))
        box.addWidget(self.table, 1)
        if editable:
            box.addWidget(QLabel("<b>Add a closure</b>"))
            box.addWidget(self.form)
            box.addLayout(self.button_row(self.add_button, self.remove_button))
            self.add_button.clicked.connect(self.add)
            self.remove_button.clicked.connect(self.remove)
            self.table.itemSelectionChanged.connect(self._selection_changed)
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(bool(self.table.selectedItems()))

    def refresh(self) -> None:
        location_id = self.location_id
        if location_id is None:
            return
        rows = read(self, self.context, lambda s: closures_of(s, location_id))
        self.table.setRowCount(0)
        for index, (key, reason, first, last) in enumerate(rows or []):
            self.table.insertRow(index)
            for column, text in enumerate((reason, day_text(first), day_text(last))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, key)
                self.table.setItem(index, column, item)
        self._selection_changed()

    def add(self) -> None:
        location_id = self.location_id
        raw = self.form.values()
        first, last = str(raw["first_day"]), str(raw["last_day"]).strip() or str(raw["first_day"])
        if location_id is None:
            return
        done = write(self, self.context, lambda s: service.add_closure(
            s, self.context.actor, location_id, first, last, str(raw["reason"])), self.form)
        if done is not None:
            self.form.set_values(dict.fromkeys(("first_day", "last_day", "reason"), ""))
            self.refresh()
            self.status.setText("Closure added.")

    def remove(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        closure_id = int(items[0].data(Qt.ItemDataRole.UserRole))
        if write_done(self, self.context, lambda s: service.remove_closure(
                s, self.context.actor, closure_id)):
            self.refresh()
            self.status.setText("Closure removed.")


# -- public holidays --------------------------------------------------------------------------


def base_name(name: str) -> str:
    """``"Independence Day (observed)"`` -> ``"Independence Day"``: both days share a switch."""
    return name.removesuffix(" (observed)")


class HolidaysPage(LocationPage):
    """The public holidays of one year, each with a "Clinic closed" box."""

    def __init__(self, context: AppContext, editable: bool) -> None:
        super().__init__(context, editable)
        self.year = QSpinBox()
        this_year = date.today().year
        self.year.setRange(this_year - 1, this_year + 1)
        self.year.setValue(this_year)
        self.year.valueChanged.connect(self.refresh)
        self.explain = hint("")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Date", "Holiday", "Clinic"])
        self.checks: list[tuple[PublicHoliday, QCheckBox]] = []
        self._style_table()
        top = QHBoxLayout()
        top.addWidget(QLabel("Year"))
        top.addWidget(self.year)
        top.addWidget(self.status, 1)
        box = QVBoxLayout(self)
        box.addLayout(top)
        box.addWidget(self.explain)
        box.addWidget(self.table, 1)

    def _style_table(self) -> None:
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

    def _read(self, session: Session) -> tuple[bool, str, list[PublicHoliday]]:
        location = service.get_location(session, self.location_id or 0)
        year = self.year.value()
        return location.observe_holidays, location.state, service.public_holidays(location, year)

    def refresh(self) -> None:
        if self.location_id is None:
            return
        found = read(self, self.context, self._read)
        if found is None:
            return
        observes, state, holidays = found
        self.explain.setText(self._explanation(observes, state))
        for _holiday, old in self.checks:
            old.hide()  # replaced below; deleted once Qt's event loop runs again
        self.table.setRowCount(len(holidays))
        self.checks = []
        for index, holiday in enumerate(holidays):
            self.table.setItem(index, 0, QTableWidgetItem(day_text(holiday.day)))
            self.table.setItem(index, 1, QTableWidgetItem(holiday.name))
            self.table.setCellWidget(index, 2, self._check(holiday, observes))
        if self.checks:  # the column holds widgets, which ResizeToContents does not measure
            header = self.table.horizontalHeader()
            header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
            box = self.checks[0][1]
            box.ensurePolished()  # measured in the window's style, as it will be drawn
            header.resizeSection(2, max(header.sectionSizeHint(2), box.sizeHint().width() + 16))

    def _explanation(self, observes: bool, state: str) -> str:
        if not observes:
            return ("This location stays open on public holidays. To close on them, tick "
                    "“Closed on public holidays” on the Details page.")
        change = "Untick a holiday to keep the clinic open that day; the choice applies " \
                 "every year." if self.editable else ""
        return f"Public holidays in {state}. The clinic is closed on the ticked ones. {change}"

    def _check(self, holiday: PublicHoliday, observes: bool) -> QCheckBox:
        box = QCheckBox("Closed")
        box.setObjectName(f"closed:{holiday.name}")
        box.setChecked(holiday.observed)
        box.setEnabled(self.editable and observes)
        box.toggled.connect(lambda closed, name=holiday.name: self.switch(name, closed))
        self.checks.append((holiday, box))
        return box

    def switch(self, name: str, closed: bool) -> None:
        location_id = self.location_id
        if location_id is None:
            return
        done = write_done(self, self.context, lambda s: service.set_holiday_worked(
            s, self.context.actor, location_id, base_name(name), not closed))
        if done:
            self.status.setText(f"{base_name(name)}: {'closed' if closed else 'open'}.")
        self._sync(base_name(name), closed if done else not closed)

    def _sync(self, name: str, closed: bool) -> None:
        """Show ``closed`` on every row of holiday ``name`` (its date and observed day)."""
        for holiday, box in self.checks:
            if base_name(holiday.name) == name:
                box.blockSignals(True)
                box.setChecked(closed)
                box.blockSignals(False)
