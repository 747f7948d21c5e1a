"""The filter bar above the dashboard and every report: the period, the places and people,
and how a report is split.

The period is a preset (this month, last month, this quarter, this year, the last 12 months)
or custom dates; changing a date by hand turns the preset to "Custom dates". Locations,
providers and payers are multi-select menus (nothing ticked means all); the dashboard offers
one location or all. "Split by" and "then by" offer the report's own dimensions. The bar
emits :attr:`FilterBar.changed` whenever the request changes; :meth:`FilterBar.request`
returns it as a :class:`~ketadesk.reports.model.ReportFilter` and the chosen split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ketadesk.reports.model import Dimension, ReportFilter
from ketadesk.reports.names import SELF_PAY, Names

Clock = Callable[[], date]
PRESETS = ("This month", "Last month", "This quarter", "This year", "Last 12 months")
CUSTOM = "Custom dates"
# A year of months to start with: the monthly charts have a shape and a rate its weight.
DEFAULT_PRESET = "Last 12 months"
NOTHING = "—"


def preset_period(preset: str, today: date) -> tuple[date, date]:
    """The first and last day of a preset period around ``today``.

    Periods that hold today end today (month, quarter and year to date; the last 12 months
    are this month so far and the eleven before it), so a figure never counts days that have
    not happened yet — chairs open next week, money owed as of the 31st. "Last month" is
    the whole month before this one.
    """
    month_start = today.replace(day=1)
    if preset == "Last month":
        last = month_start - timedelta(days=1)
        return last.replace(day=1), last
    if preset == "This quarter":
        return today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1), today
    if preset == "This year":
        return today.replace(month=1, day=1), today
    if preset == "Last 12 months":
        year, month = (today.year - 1, today.month + 1) if today.month < 12 else (today.year, 1)
        return date(year, month, 1), today
    return month_start, today


def _by_name(found: dict[int, str]) -> list[tuple[object, str]]:
    return sorted(found.items(), key=lambda pair: pair[1])


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


class TickMenu(QMenu):
    """A menu that stays open while ticks are set, so several can be chosen in one go."""

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        action = self.actionAt(event.position().toPoint())
        if action is not None and action.isCheckable():
            action.trigger()  # ticks it without closing the menu
            return
        super().mouseReleaseEvent(event)


class Choices(QToolButton):
    """A button with a menu of ticks: ``All locations`` until some are ticked."""

    changed = Signal()

    def __init__(self, everything: str, choices: Sequence[tuple[object, str]]) -> None:
        super().__init__()
        self.everything = everything
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = TickMenu(self)
        self.actions_by_key: dict[object, QAction] = {}
        for key, text in choices:
            action = QAction(text, menu)
            action.setCheckable(True)
            action.toggled.connect(self._toggled)
            menu.addAction(action)
            self.actions_by_key[key] = action
        self.setMenu(menu)
        self._toggled()

    def _toggled(self) -> None:
        chosen = [a.text() for a in self.actions_by_key.values() if a.isChecked()]
        if not chosen:
            self.setText(self.everything)
        elif len(chosen) == 1:
            self.setText(chosen[0])
        else:
            self.setText(f"{len(chosen)} chosen")
        self.setToolTip(", ".join(chosen) or self.everything)
        self.changed.emit()

    def chosen(self) -> tuple[object, ...]:
        return tuple(k for k, a in self.actions_by_key.items() if a.isChecked())

    def choose(self, keys: Sequence[object]) -> None:
        for key, action in self.actions_by_key.items():
            action.blockSignals(True)
            action.setChecked(key in keys)
            action.blockSignals(False)
        self._toggled()


class FilterBar(QWidget):
    """Period, places, people, payers and the split, in one row."""

    changed = Signal()

    def __init__(
        self,
        names: Names,
        today: Clock,
        *,
        dimensions: Sequence[Dimension] = (),
        default_by: Sequence[str] = (),
        as_of: bool = False,
        dashboard: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.today = today
        self.as_of = as_of
        self.dimensions = tuple(dimensions)
        self.location: QComboBox | None
        self.locations: Choices | None = None
        self.providers: Choices | None = None
        self.payers: Choices | None = None
        lines = QVBoxLayout(self)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(4)
        row = QHBoxLayout()
        row.setSpacing(6)
        lines.addLayout(row)
        self._period(row)
        if dashboard:
            self.location = QComboBox()
            self.location.setObjectName("dashboardLocation")
            self.location.setMaximumWidth(320)
            self.location.addItem("All locations", None)
            for key, name in sorted(names.locations.items(), key=lambda kv: kv[1]):
                self.location.addItem(name, key)
            self.location.currentIndexChanged.connect(self.changed)
            row.addWidget(self.location)
        else:
            self.location = None
            self._people(row, names)
        self.split: list[QComboBox] = []
        row.addStretch(1)
        if self.dimensions:  # on a line of its own, so the bar fits a laptop's width
            second = QHBoxLayout()
            second.setSpacing(6)
            lines.addLayout(second)
            self._split(second, default_by)
            second.addStretch(1)
        self.apply_preset()

    # --- building ----------------------------------------------------------------------

    def _period(self, row: QHBoxLayout) -> None:
        self.preset = QComboBox()
        self.preset.setObjectName("periodPreset")
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.preset.addItems([*PRESETS, CUSTOM])
        self.preset.setCurrentText(DEFAULT_PRESET)
        self.preset.currentIndexChanged.connect(self.apply_preset)
        self.date_from = QDateEdit()
        self.date_to = QDateEdit()
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("MM/dd/yyyy")
            edit.dateChanged.connect(self._dates_edited)
        if self.as_of:
            row.addWidget(QLabel("As of"))
            row.addWidget(self.date_to)
            self.date_from.hide()
            self.preset.hide()
            return
        row.addWidget(self.preset)
        row.addWidget(self.date_from)
        row.addWidget(QLabel("to"))
        row.addWidget(self.date_to)

    def _people(self, row: QHBoxLayout, names: Names) -> None:
        locations = Choices("All locations", _by_name(names.locations))
        providers = Choices("All providers", _by_name(names.providers))
        payers = Choices("All payers", [(None, SELF_PAY), *_by_name(names.payers)])
        self.locations, self.providers, self.payers = locations, providers, payers
        for name, choices in (
            ("locations", locations),
            ("providers", providers),
            ("payers", payers),
        ):
            choices.setObjectName(f"filter_{name}")
            choices.changed.connect(self.changed)
            row.addWidget(choices)

    def _split(self, row: QHBoxLayout, default_by: Sequence[str]) -> None:
        row.addWidget(QLabel("Split by"))
        for position in range(2):
            combo = QComboBox()
            combo.setObjectName(f"splitBy{position}")
            if position:
                row.addWidget(QLabel("then"))
            combo.addItem(NOTHING, None)
            for dimension in self.dimensions:
                combo.addItem(dimension.label, dimension.key)
            chosen = default_by[position] if position < len(default_by) else None
            combo.setCurrentIndex(max(combo.findData(chosen), 0))
            combo.currentIndexChanged.connect(self.changed)
            row.addWidget(combo)
            self.split.append(combo)

    # --- reading and setting -----------------------------------------------------------

    def apply_preset(self) -> None:
        """Set the dates from the preset (unless it is "Custom dates")."""
        text = self.preset.currentText()
        if text == CUSTOM:
            return
        first, last = preset_period(text, self.today())
        if self.as_of:
            last = self.today()
        for edit, day in ((self.date_from, first), (self.date_to, last)):
            edit.blockSignals(True)
            edit.setDate(_qdate(day))
            edit.blockSignals(False)
        self.changed.emit()

    def _dates_edited(self) -> None:
        if self.preset.currentText() != CUSTOM:
            self.preset.blockSignals(True)
            self.preset.setCurrentText(CUSTOM)
            self.preset.blockSignals(False)
        self.changed.emit()

    def set_dates(self, first: date, last: date) -> None:
        """Custom dates, as a person would type them."""
        self.preset.setCurrentText(CUSTOM)
        self.date_from.setDate(_qdate(first))
        self.date_to.setDate(_qdate(last))

    def set_split(self, by: Sequence[str]) -> None:
        for position, combo in enumerate(self.split):
            key = by[position] if position < len(by) else None
            combo.setCurrentIndex(max(combo.findData(key), 0))

    def by(self) -> tuple[str, ...]:
        keys = [c.currentData() for c in self.split if c.currentData() is not None]
        return tuple(dict.fromkeys(keys))  # the same dimension twice is asked once

    def report_filter(self) -> ReportFilter:
        """The filter as chosen (raises InvalidValue when the dates are the wrong way)."""
        last = _pydate(self.date_to.date())
        first = last if self.as_of else _pydate(self.date_from.date())
        if self.location is not None:
            key = self.location.currentData()
            return ReportFilter(first, last, location_ids=() if key is None else (int(key),))
        if self.locations is None or self.providers is None or self.payers is None:
            return ReportFilter(first, last)
        return ReportFilter(
            first,
            last,
            location_ids=tuple(int(str(k)) for k in self.locations.chosen()),
            provider_ids=tuple(int(str(k)) for k in self.providers.chosen()),
            payer_ids=tuple(None if k is None else int(str(k)) for k in self.payers.chosen()),
        )
