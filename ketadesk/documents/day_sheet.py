"""The printed day sheet: one location's sessions for a day, chair by chair, on paper.

:func:`render_day_sheet` takes the :class:`~ketadesk.scheduling.calendar.CalendarWindow`
that ``ketadesk schedule day`` and the schedule view already read, and lays it out with
reportlab platypus:

* a header: clinic and location, the date, the opening hours or why the location is
  closed (a holiday, a closure), and how many sessions there are;
* one section per chair: a table of time, patient, MRN, protocol and "n of N", status,
  provider, and the driver: the patient's usual driver and phone from their record, ticked
  when the ride home is confirmed. Rows split across pages with the column headings
  repeated; long names wrap inside their cells;
* a notes and signature area for the charge nurse, kept on one page with the last rows
  of the day, so the last page never holds the signatures alone;
* a footer on every page: the sheet's name, when it was printed and "Page 1 of 2".

Names go through :func:`ketadesk.documents.fonts.paragraph_markup`, so Zoë Łukasiewicz
and 阮文英 print as written. With ``deterministic=True`` the same window gives the same
bytes (reportlab's invariant mode), which the tests rely on.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ketadesk.documents.fonts import REGULAR, Styles, paragraph_markup, styles
from ketadesk.documents.format import phone_text, weekday_date
from ketadesk.scheduling.calendar import CalendarDay, CalendarEntry, CalendarWindow

MARGIN = 0.5 * inch
FRAME_PADDING = 6  # platypus frames keep 6 points clear inside the margins
COLUMNS = ("Time", "Patient", "MRN", "Protocol", "Status", "Provider", "Driver")
WIDTHS = (64, 104, 46, 108, 60, 68, 78)  # points: 612 less margins and frame padding
TICK = "✓"
RULE = colors.HexColor("#9a9a9a")
SHADE = colors.HexColor("#eeeeee")
FADED = colors.HexColor("#777777")


def time_range(entry: CalendarEntry, dash: str = "–") -> str:
    """The session's local chair time, ``09:00–10:10``."""
    return f"{entry.local_start:%H:%M}{dash}{entry.local_end:%H:%M}"


@dataclass(frozen=True)
class ChairSessions:
    """One chair's sessions of the day, earliest first."""

    chair_id: int
    name: str
    active: bool
    entries: tuple[CalendarEntry, ...]


def sessions_by_chair(window: CalendarWindow, day: date) -> list[ChairSessions]:
    """The day's sessions grouped by chair, in the window's chair order.

    Every active chair appears (an empty one shows as free); a retired chair appears only
    when it still holds sessions that day.
    """
    entries = window.on(day)
    groups = [
        ChairSessions(
            c.chair_id, c.name, c.active, tuple(e for e in entries if e.chair_id == c.chair_id)
        )
        for c in window.chairs
    ]
    listed = {c.chair_id for c in window.chairs}
    strays = sorted({(e.chair_name, e.chair_id) for e in entries if e.chair_id not in listed})
    groups += [
        ChairSessions(cid, name, False, tuple(e for e in entries if e.chair_id == cid))
        for name, cid in strays
    ]
    return [g for g in groups if g.active or g.entries]


def opening_text(day: CalendarDay) -> str:
    """``Open 08:00-12:00, 13:00-18:00`` or the reason the location is closed."""
    if day.closed:
        return day.closed if day.closed.startswith("Closed") else f"Closed: {day.closed}"
    return "Open " + ", ".join(str(interval) for interval in day.hours)


def render_day_sheet(
    window: CalendarWindow,
    *,
    clinic_name: str,
    printed_at: datetime | None = None,
    deterministic: bool = False,
) -> bytes:
    """The day sheet of every day in ``window`` (one day per page run) as PDF bytes.

    ``printed_at`` (an aware instant) is printed in the location's time; it defaults to
    now, except in ``deterministic`` mode, where the printed time is left out unless
    given, so that the same window always yields the same bytes.
    """
    if printed_at is None and not deterministic:
        printed_at = datetime.now(ZoneInfo(window.time_zone))
    buffer = io.BytesIO()
    first = window.days[0].day if window.days else None
    title = f"Day sheet {window.location_code} {first.isoformat() if first else ''}".rstrip()
    document = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 14,
        title=title,
        author=clinic_name,
        creator="KetaDesk",
        subject=f"{window.location_name}: sessions by chair",
        invariant=1 if deterministic else 0,
        initialFontName=REGULAR,
    )
    footer = _footer_text(title, printed_at, window.time_zone)
    document.build(_story(window, clinic_name), canvasmaker=partial(_NumberedCanvas, footer=footer))
    return buffer.getvalue()


def _footer_text(title: str, printed_at: datetime | None, time_zone: str) -> str:
    if printed_at is None:
        return title
    if printed_at.tzinfo is None:
        raise ValueError("printed_at must be an aware datetime")
    local = printed_at.astimezone(ZoneInfo(time_zone))
    return f"{title} · printed {local:%Y-%m-%d %H:%M} {local.tzname()}"


def _story(window: CalendarWindow, clinic_name: str) -> list[Flowable]:
    look = styles()
    story: list[Flowable] = []
    for n, day in enumerate(window.days):
        if n:
            story.append(PageBreak())
        story += _header(window, day, clinic_name, look)
        groups = sessions_by_chair(window, day.day)
        for group in groups[:-1]:
            story += _chair_section(group, look)
        if groups:  # the notes and signatures ride in the last chair's table, with its rows
            story += _chair_section(groups[-1], look, notes=_notes_area(look))
        else:
            story += [Paragraph("This location has no chairs.", look.body), *_notes_area(look)]
    return story


def _header(
    window: CalendarWindow, day: CalendarDay, clinic_name: str, look: Styles
) -> list[Flowable]:
    place = window.location_name
    if place.casefold() != clinic_name.casefold():
        place = f"{place} ({window.location_code})"
    else:
        place = f"Location {window.location_code}"
    header: list[Flowable] = [
        Paragraph(paragraph_markup(clinic_name), look.title),
        Paragraph(
            f"<b>{paragraph_markup(weekday_date(day.day))}</b> · {paragraph_markup(place)}",
            look.body,
        ),
        Paragraph(paragraph_markup(opening_text(day)), look.body),
        Paragraph(paragraph_markup(_count_text(window.on(day.day))), look.small),
        Spacer(1, 4),
    ]
    return header


def _count_text(entries: Sequence[CalendarEntry]) -> str:
    held = sum(1 for e in entries if e.holds_chair)
    released = len(entries) - held
    text = {0: "No sessions booked", 1: "1 session booked"}.get(held, f"{held} sessions booked")
    if released:
        text += f"; {released} cancelled or no-show"
    return text + "."


def _chair_section(
    group: ChairSessions, look: Styles, notes: list[Flowable] | None = None
) -> list[Flowable]:
    """The chair's table; its first two rows (the chair's name and the column headings)
    repeat on every page the table runs onto, so a loose page still says whose it is.

    The day's last chair carries the ``notes`` and signature lines as a final row that may
    not be split from the two rows above it (``NOSPLIT``): when the page is full they move on
    together, under the repeated headings, so the last page never holds the signatures alone.
    """
    name = group.name if group.active else f"{group.name} (out of service)"
    blank = [""] * (len(COLUMNS) - 1)
    rows: list[list[Any]] = [
        [Paragraph(paragraph_markup(name), look.heading), *blank],
        [Paragraph(c, look.cell_bold) for c in COLUMNS],
    ]
    rows += [_row(entry, look) for entry in group.entries]
    if not group.entries:
        rows.append([Paragraph("No sessions booked.", look.cell), *blank])
    last = len(rows) - 1  # the last row of sessions
    if notes is not None:
        rows.append([notes, *blank])
    table = Table(rows, colWidths=WIDTHS, repeatRows=2, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
                ("SPAN", (0, 0), (-1, 0)),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 1), (-1, 1), SHADE),
                ("LINEBELOW", (0, 1), (-1, last), 0.4, RULE),
                ("BOX", (0, 1), (-1, last), 0.6, RULE),
                ("TOPPADDING", (0, 1), (-1, last), 3),
                ("BOTTOMPADDING", (0, 1), (-1, last), 3),
                ("LEFTPADDING", (0, 1), (-1, last), 4),
                ("RIGHTPADDING", (0, 1), (-1, last), 4),
                *([("SPAN", (0, 2), (-1, 2))] if not group.entries else []),
                *(_notes_row_style(last) if notes is not None else []),
            ]
        )
    )
    return [table] if notes is not None else [table, Spacer(1, 6)]


def _notes_row_style(last: int) -> list[tuple[Any, ...]]:
    """The notes row spans the table without lines or padding, and is kept on one page with
    the last two rows of sessions."""
    notes = last + 1
    return [
        ("SPAN", (0, notes), (-1, notes)),
        ("LEFTPADDING", (0, notes), (-1, notes), 0),
        ("RIGHTPADDING", (0, notes), (-1, notes), 0),
        ("TOPPADDING", (0, notes), (-1, notes), 0),
        ("BOTTOMPADDING", (0, notes), (-1, notes), 0),
        ("NOSPLIT", (0, max(2, last - 1)), (-1, notes)),
    ]


def _row(entry: CalendarEntry, look: Styles) -> list[Paragraph]:
    style = look.cell if entry.holds_chair else _faded(look.cell)
    cells = (
        time_range(entry),
        entry.patient_name,
        entry.mrn,
        f"{entry.protocol_name}\n{entry.progress}",
        entry.status.label,
        entry.provider_name,
    )
    row = [Paragraph(paragraph_markup(text), style) for text in cells]
    return [*row, Paragraph(driver_markup(entry), style)]


def driver_markup(entry: CalendarEntry) -> str:
    """Who takes the patient home: the usual driver's name and phone from the patient's
    record, ticked once the ride home was confirmed at the pre-dose checklist."""
    lines = [paragraph_markup(entry.driver_name)] if entry.driver_name else []
    if entry.driver_phone:
        lines.append(paragraph_markup(phone_text(entry.driver_phone)))
    text = "<br/>".join(lines)
    if entry.driver_confirmed:
        text = f"{TICK} {text}".rstrip()
    return text


def _faded(style: ParagraphStyle) -> ParagraphStyle:
    faded = style.clone(f"{style.name}_faded")
    faded.textColor = FADED
    return faded


def _notes_area(look: Styles) -> list[Flowable]:
    lines = Table([[""] for _ in range(4)], colWidths=[sum(WIDTHS)], rowHeights=20, hAlign="LEFT")
    lines.setStyle(
        TableStyle(
            [("FONT", (0, 0), (-1, -1), REGULAR), ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE)]
        )
    )
    sign = Table(
        [["Charge nurse", "", "Signature", "", "Time", ""]],
        colWidths=[62, 146, 52, 160, 30, 78],
        rowHeights=26,
        hAlign="LEFT",
    )
    sign.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                *[("LINEBELOW", (c, 0), (c, 0), 0.6, colors.black) for c in (1, 3, 5)],
            ]
        )
    )
    return [Spacer(1, 10), Paragraph("Notes", look.heading), lines, sign]


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no types
    """A canvas that holds its pages until the end, to print "Page n of N" on each."""

    def __init__(self, *args: Any, footer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(REGULAR, 7.5)
        self.setFillColor(FADED)
        left, right = MARGIN + FRAME_PADDING, width - MARGIN - FRAME_PADDING
        self.drawString(left, MARGIN - 4, self._footer)
        self.drawRightString(right, MARGIN - 4, f"Page {number} of {total}")
        self.restoreState()
