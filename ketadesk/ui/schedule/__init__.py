"""The Schedule area: day and week calendars per location, moving sessions, booking series.

:class:`ScheduleView` is what the main window shows for "schedule"; see
:mod:`ketadesk.ui.schedule.view` for the flow, :mod:`.grid` for the calendar drawing,
:mod:`.wizard` for the new-series wizard and :mod:`.colors` for the colours.
"""

from ketadesk.ui.schedule.view import ScheduleView

__all__ = ["ScheduleView"]
