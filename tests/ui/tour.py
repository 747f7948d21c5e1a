"""A walk through every view of the main window, as a person clicking through it would see it.

:func:`tour` takes a shown :class:`~ketadesk.ui.main_window.MainWindow` and yields a name for
each screen it arranges — every area, every tab of every area (nested tabs too), the
schedule's day and week, a patient's record and ledger, each Settings page with its first
record open — after letting the window lay itself out. The laptop-fit test measures each
screen; rendered with ``window.grab()`` after each step, they are the PNGs a person looks at.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtWidgets import QApplication, QTabWidget, QWidget
from sqlalchemy import func, select

from ketadesk.billing.models import LedgerEntry
from ketadesk.ui.main_window import AREAS, MainWindow


def settle(rounds: int = 3) -> None:
    """Let queued layouts, deferred loads and zero timers run."""
    for _ in range(rounds):
        QApplication.processEvents()


def _tabs_in(widget: QWidget) -> list[QTabWidget]:
    """The tab widgets directly on ``widget``'s visible page (not inside other tab widgets)."""
    found = []
    for tabs in widget.findChildren(QTabWidget):
        if not tabs.isVisibleTo(widget.window()):
            continue
        parent = tabs.parentWidget()
        nested = False
        while parent is not None and parent is not widget:
            if isinstance(parent, QTabWidget):
                nested = True
                break
            parent = parent.parentWidget()
        if not nested:
            found.append(tabs)
    return found


def _walk_tabs(widget: QWidget, name: str) -> Iterator[str]:
    """``name`` itself, then each tab page under it (depth first)."""
    tab_widgets = _tabs_in(widget)
    if not tab_widgets:
        yield name
        return
    for tabs in tab_widgets:
        for index in range(tabs.count()):
            if not tabs.isTabEnabled(index) or not tabs.isTabVisible(index):
                continue
            tabs.setCurrentIndex(index)
            settle()
            _open_first_record(tabs.widget(index))
            settle()
            title = tabs.tabText(index).replace("&&", "&").lower().replace(" ", "-")
            yield from _walk_tabs(tabs.widget(index), f"{name}-{title}")
        tabs.setCurrentIndex(0)
        settle()


def _open_first_record(page: QWidget) -> None:
    """A Settings page shows its first record, as after a click on the list's first row."""
    select = getattr(page, "select", None)
    rows = getattr(page, "rows", None)
    if callable(select) and isinstance(rows, dict) and rows:
        select(next(iter(rows)))


def busiest_patient(window: MainWindow) -> int | None:
    """The patient with the most ledger entries: the fullest Ledger tab in the clinic."""
    with window.context.db.reading() as session:
        return session.scalar(
            select(LedgerEntry.patient_id)
            .group_by(LedgerEntry.patient_id)
            .order_by(func.count().desc(), LedgerEntry.patient_id)
            .limit(1)
        )


def tour(window: MainWindow) -> Iterator[str]:
    """Arrange every screen of ``window`` in turn and yield its name."""
    for key in AREAS:  # the Reports placeholder too
        area = window.show_area(key)
        settle()
        if key == "schedule":
            for mode in ("day", "week"):
                area.set_mode(mode)  # type: ignore[attr-defined]
                settle()
                yield f"schedule-{mode}"
            continue
        if key == "patients":
            yield "patients-list"
            patient = busiest_patient(window)
            if patient is not None:
                area.open_patient(patient)  # type: ignore[attr-defined]
                settle()
                yield from _walk_tabs(area, "patients")
            continue
        yield from _walk_tabs(area, key)

