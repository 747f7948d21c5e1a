"""The CMS-1500 (02/12) form itself, drawn on the character grid its data is typed on.

:mod:`ketadesk.documents.cms1500` types a claim on a grid of 10 columns and 6 lines to the
inch; this module draws the form around that grid for the "full" mode: the outline and the
rules between boxes, the box numbers and captions in small type, the check boxes, and the
shaded strips of box 24, all in drop-out red as on the printed form. Every position is in
grid units (``col`` 1 is the first character's column, ``line`` b is the top of grid line
b), so a box drawn here always surrounds the data typed into it. The drawing is the same
on every page: :func:`draw_form` records it once per PDF as a reusable form object.

The layout follows the printed 02/12 form box by box; it is a faithful drawing, not a scan,
and says so nowhere on the page because payers that accept an image of the form read the
data, not the drawing.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from ketadesk.documents.fonts import BOLD, REGULAR, register_fonts

PITCH = 72 / 10  # 10 characters to the inch
LEADING = 72 / 6  # 6 lines to the inch
LEFT = 24.0  # points from the paper's left edge to column 1 (OpenEMR's default margin)
TOP = 20.0  # points from the paper's top edge to the top of line 1

RED = colors.Color(0.85, 0.16, 0.17)  # drop-out red
PINK = colors.Color(0.99, 0.89, 0.88)  # box 24's shaded strips
CAPTION = 5.0  # points: a box's number and caption
SMALL = 4.3  # points: the words under a caption (MM DD YY, YES / NO)
FORM_NAME = "cms1500-02-12"

EDGE_LEFT, EDGE_RIGHT = 0.55, 79.0  # the form's outline, in columns
MIDDLE, RIGHT = 29.6, 49.6  # the dividers between the form's three columns of boxes


def grid_x(col: float) -> float:
    """The left edge of column ``col`` in points from the paper's left edge."""
    return LEFT + (col - 1) * PITCH


def grid_y(line: float) -> float:
    """The top of grid line ``line`` in points from the paper's bottom edge."""
    return float(LETTER[1]) - TOP - (line - 1) * LEADING


# Rules across the form or part of it: (top of line, from column, to column). Box 8 spans
# lines 13-16 in the middle, so line 15's rule stops at it.
_FULL_RULES = (7, 9, 11, 13, 17, 19, 21, 23, 25, 27, 31, 33, 35, 37, 41, 43, 45, 47, 49, 51, 53)
_RULES: tuple[tuple[float, float, float], ...] = (
    *((b, EDGE_LEFT, EDGE_RIGHT) for b in (*_FULL_RULES, 55, 57)),
    (15, EDGE_LEFT, MIDDLE),
    (15, RIGHT, EDGE_RIGHT),
    (39, RIGHT, EDGE_RIGHT),
    (34, MIDDLE, RIGHT),
    (61, 21.6, EDGE_RIGHT),
)

# Dividers down the form: (column, from the top of line, to the top of line).
_DIVIDERS: tuple[tuple[float, float, float], ...] = (
    (RIGHT, 7, 62),
    (MIDDLE, 9, 27),
    (MIDDLE, 31, 35),
    (24.6, 13, 15),
    (72.6, 13, 15),
    (13.6, 15, 17),
    (63.6, 15, 17),
    (61.5, 35, 39),
    (21.6, 55, 62),
    (37.5, 55, 57),
    (60.6, 55, 57),
    (70.6, 55, 57),
    (35.3, 61, 62),
    (62.3, 61, 62),
)
# Box 24's columns, drawn through the heading and each line's unshaded half.
_LINE_COLUMNS = (9.5, 18.5, 21.5, 24.5, 32.5, 44.5, 58.5, 62.5, 65.0, 67.5)
_LINE_DOTTED = (35.5, 38.5, 41.5, 55.5)  # between modifiers, and dollars from cents

# Captions: (line, column, text). Each sits in the top of its grid line, in red.
_CAPTIONS: tuple[tuple[float, float, str], ...] = (
    (7, 1, "1. MEDICARE"),
    (7, 8, "MEDICAID"),
    (7, 15, "TRICARE"),
    (7, 24, "CHAMPVA"),
    (7, 31, "GROUP HEALTH PLAN"),
    (7, 39, "FECA BLK LUNG"),
    (7, 45, "OTHER"),
    (7, 50, "1a. INSURED'S I.D. NUMBER                    (For Program in Item 1)"),
    (9, 1, "2. PATIENT'S NAME (Last Name, First Name, Middle Initial)"),
    (9, 31, "3. PATIENT'S BIRTH DATE"),
    (9, 44, "SEX"),
    (9, 50, "4. INSURED'S NAME (Last Name, First Name, Middle Initial)"),
    (11, 1, "5. PATIENT'S ADDRESS (No., Street)"),
    (11, 31, "6. PATIENT RELATIONSHIP TO INSURED"),
    (11, 50, "7. INSURED'S ADDRESS (No., Street)"),
    (13, 1, "CITY"),
    (13, 25, "STATE"),
    (13, 31, "8. RESERVED FOR NUCC USE"),
    (13, 50, "CITY"),
    (13, 73, "STATE"),
    (15, 1, "ZIP CODE"),
    (15, 14, "TELEPHONE (Include Area Code)"),
    (15, 50, "ZIP CODE"),
    (15, 64, "TELEPHONE (Include Area Code)"),
    (17, 1, "9. OTHER INSURED'S NAME (Last Name, First Name, Middle Initial)"),
    (17, 31, "10. IS PATIENT'S CONDITION RELATED TO:"),
    (17, 50, "11. INSURED'S POLICY GROUP OR FECA NUMBER"),
    (19, 1, "a. OTHER INSURED'S POLICY OR GROUP NUMBER"),
    (19, 31, "a. EMPLOYMENT? (Current or Previous)"),
    (19, 50, "a. INSURED'S DATE OF BIRTH"),
    (19, 71, "SEX"),
    (21, 1, "b. RESERVED FOR NUCC USE"),
    (21, 31, "b. AUTO ACCIDENT?"),
    (21, 44, "PLACE (State)"),
    (21, 50, "b. OTHER CLAIM ID (Designated by NUCC)"),
    (23, 1, "c. RESERVED FOR NUCC USE"),
    (23, 31, "c. OTHER ACCIDENT?"),
    (23, 50, "c. INSURANCE PLAN NAME OR PROGRAM NAME"),
    (25, 1, "d. INSURANCE PLAN NAME OR PROGRAM NAME"),
    (25, 31, "10d. CLAIM CODES (Designated by NUCC)"),
    (25, 50, "d. IS THERE ANOTHER HEALTH BENEFIT PLAN?"),
    (31, 1, "14. DATE OF CURRENT ILLNESS, INJURY, or PREGNANCY (LMP)"),
    (31, 31, "15. OTHER DATE"),
    (31, 50, "16. DATES PATIENT UNABLE TO WORK IN CURRENT OCCUPATION"),
    (33, 1, "17. NAME OF REFERRING PROVIDER OR OTHER SOURCE"),
    (33, 50, "18. HOSPITALIZATION DATES RELATED TO CURRENT SERVICES"),
    (35, 1, "19. ADDITIONAL CLAIM INFORMATION (Designated by NUCC)"),
    (35, 50, "20. OUTSIDE LAB?"),
    (35, 62, "$ CHARGES"),
    (37, 1, "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY  Relate A-L to service line below (24E)"),
    (37, 36.9, "ICD Ind."),
    (37, 50, "22. RESUBMISSION CODE"),
    (37, 62, "ORIGINAL REF. NO."),
    (39, 50, "23. PRIOR AUTHORIZATION NUMBER"),
    (55, 1, "25. FEDERAL TAX I.D. NUMBER"),
    (55, 16.6, "SSN"),
    (55, 18.7, "EIN"),
    (55, 22, "26. PATIENT'S ACCOUNT NO."),
    (55, 38, "27. ACCEPT ASSIGNMENT?"),
    (55, 50, "28. TOTAL CHARGE"),
    (55, 61, "29. AMOUNT PAID"),
    (55, 71, "30. Rsvd for NUCC Use"),
    (57, 22, "32. SERVICE FACILITY LOCATION INFORMATION"),
    (57, 50, "33. BILLING PROVIDER INFO & PH #"),
)
# Where each date's MM, DD and YY columns start: (caption line, first columns of each date).
_DATE_COLUMNS: tuple[tuple[float, tuple[int, ...]], ...] = (
    (9, (31, 34, 37)),
    (19, (53, 56, 59)),
    (31, (2, 5, 8, 37, 40, 43, 54, 57, 60, 68, 71, 74)),
    (33, (54, 57, 60, 68, 71, 74)),
    (42, (1, 4, 7, 10, 13, 16)),
)
# The smaller words in the lower half of a caption's line: (line, column, text).
_SUBCAPTIONS: tuple[tuple[float, float, str], ...] = (
    (31, 12.5, "QUAL."),
    (31, 31, "QUAL."),
    (31, 51, "FROM"),
    (31, 65, "TO"),
    (33, 51, "FROM"),
    (33, 65, "TO"),
    (41.5, 1, "From"),
    (41.5, 10, "To"),
    (42, 25, "CPT/HCPCS"),
    (42, 33, "MODIFIER"),
    (55, 51, "$"),
    (55, 61.2, "$"),
    (25, 60, "If yes, complete items 9, 9a, and 9d."),
)
# Box 24's headings, each wrapped in its column: (from column, to column, text).
_LINE_HEADINGS: tuple[tuple[float, float, str], ...] = (
    (EDGE_LEFT, 18.5, "24. A.     DATE(S) OF SERVICE"),
    (18.5, 21.5, "B. PLACE OF SERVICE"),
    (21.5, 24.5, "C. EMG"),
    (24.5, 44.5, "D. PROCEDURES, SERVICES, OR SUPPLIES (Explain Unusual Circumstances)"),
    (44.5, RIGHT, "E. DIAGNOSIS POINTER"),
    (RIGHT, 58.5, "F. $ CHARGES"),
    (58.5, 62.5, "G. DAYS OR UNITS"),
    (62.5, 65.0, "H. EPSDT Family Plan"),
    (65.0, 67.5, "I. ID. QUAL."),
    (67.5, EDGE_RIGHT, "J. RENDERING PROVIDER ID. #"),
)
_PROGRAM_LABELS = (
    (1, "(Medicare#)"),
    (8, "(Medicaid#)"),
    (15, "(ID#/DoD#)"),
    (24, "(Member ID#)"),
    (31, "(ID#)"),
    (39, "(ID#)"),
    (45, "(ID#)"),
)
# Words beside a check box or a value, on the data line itself: (line, column, text).
_LABELS: tuple[tuple[float, float, str], ...] = (
    (10, 40.7, "M"),
    (10, 45.7, "F"),
    *((8, col + 1.3, words) for col, words in _PROGRAM_LABELS),
    (12, 31, "Self"),
    (12, 35, "Spouse"),
    (12, 39.7, "Child"),
    (12, 44.3, "Other"),
    (20, 36.2, "YES"),
    (20, 42.2, "NO"),
    (22, 36.2, "YES"),
    (22, 42.2, "NO"),
    (24, 36.2, "YES"),
    (24, 42.2, "NO"),
    (20, 66.7, "M"),
    (20, 73.7, "F"),
    (26, 53.2, "YES"),
    (26, 58.2, "NO"),
    (36, 53.2, "YES"),
    (36, 58.2, "NO"),
    (56, 39.2, "YES"),
    (56, 44.2, "NO"),
    (29, 1, "SIGNED"),
    (29, 30, "DATE"),
    (29, 50, "SIGNED"),
    (61, 1, "SIGNED"),
    (61, 10.5, "DATE"),
    (61, 22, "a."),
    (61, 35.6, "b."),
    (61, 50.1, "a."),
    (61, 62.6, "b."),
    (38, 1.4, "A."),
    (38, 14.4, "B."),
    (38, 27.4, "C."),
    (38, 40.4, "D."),
    (39, 1.4, "E."),
    (39, 14.4, "F."),
    (39, 27.4, "G."),
    (39, 40.4, "H."),
    (40, 1.4, "I."),
    (40, 14.4, "J."),
    (40, 27.4, "K."),
    (40, 40.4, "L."),
    (34, 30, "17b."),
    (34, 32.3, "NPI"),
    (33.0, 30, "17a."),
)
# Check boxes: (line, column) of the character an X is typed in.
_CHECK_BOXES: tuple[tuple[int, int], ...] = (
    *((8, col) for col in (1, 8, 15, 24, 31, 39, 45)),
    (10, 42),
    (10, 47),
    *((12, col) for col in (33, 38, 42, 47)),
    *((line, col) for line in (20, 22, 24) for col in (35, 41)),
    (20, 68),
    (20, 75),
    (26, 52),
    (26, 57),
    (36, 52),
    (36, 57),
    (56, 17),
    (56, 19),
    (56, 38),
    (56, 43),
)
_SIGNATURE_TEXT = (
    (
        27,
        1,
        RIGHT - 1.3,
        "12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE I authorize the release of any medical "
        "or other information necessary to process this claim. I also request payment of "
        "government benefits either to myself or to the party who accepts assignment below.",
    ),
    (
        27,
        50,
        EDGE_RIGHT - 0.4,
        "13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE I authorize payment of medical "
        "benefits to the undersigned physician or supplier for services described below.",
    ),
    (
        57,
        1,
        21.3,
        "31. SIGNATURE OF PHYSICIAN OR SUPPLIER INCLUDING DEGREES OR CREDENTIALS (I certify "
        "that the statements on the reverse apply to this bill and are made a part thereof.)",
    ),
)


def draw_form(canvas: Canvas) -> None:
    """Draw the form on the current page (recorded once per PDF, then reused)."""
    if not canvas.hasForm(FORM_NAME):
        canvas.beginForm(FORM_NAME)
        _draw(canvas)
        canvas.endForm()
    canvas.doForm(FORM_NAME)


def _draw(canvas: Canvas) -> None:
    register_fonts()
    canvas.saveState()
    _shading(canvas)
    canvas.setStrokeColor(RED)
    canvas.setFillColor(RED)
    _lines(canvas)
    _boxes(canvas)
    _heading(canvas)
    _captions(canvas)
    canvas.restoreState()


def _shading(canvas: Canvas) -> None:
    canvas.setFillColor(PINK)
    for row in range(6):
        top = grid_y(43 + 2 * row)
        canvas.rect(
            grid_x(EDGE_LEFT), top - LEADING, (EDGE_RIGHT - EDGE_LEFT) * PITCH, LEADING, 0, 1
        )
    for col_from, col_to, line in ((MIDDLE, RIGHT, 33), (35.3, RIGHT, 61), (62.3, EDGE_RIGHT, 61)):
        canvas.rect(
            grid_x(col_from), grid_y(line) - LEADING, (col_to - col_from) * PITCH, LEADING, 0, 1
        )


def _rule(canvas: Canvas, line: float, col_from: float, col_to: float) -> None:
    canvas.line(grid_x(col_from), grid_y(line), grid_x(col_to), grid_y(line))


def _divider(canvas: Canvas, col: float, line_from: float, line_to: float) -> None:
    canvas.line(grid_x(col), grid_y(line_from), grid_x(col), grid_y(line_to))


def _lines(canvas: Canvas) -> None:
    canvas.setLineWidth(0.5)
    for line, col_from, col_to in _RULES:
        _rule(canvas, line, col_from, col_to)
    for col, line_from, line_to in _DIVIDERS:
        _divider(canvas, col, line_from, line_to)
    for row in range(7):  # box 24: the heading, then each line's unshaded half
        top = 41 if row == 0 else 42 + 2 * row
        for col in _LINE_COLUMNS:
            _divider(canvas, col, top, top + (2 if row == 0 else 1))
        if row:
            _divider(canvas, 65.0, top - 1, top + 1)
            _divider(canvas, 67.5, top - 1, top + 1)
            _number(canvas, row, top)
    canvas.setDash(1, 1.5)
    for row in range(1, 7):
        for col in _LINE_DOTTED:
            _divider(canvas, col, 42 + 2 * row, 43 + 2 * row)
    canvas.setDash()
    canvas.setLineWidth(1.1)
    canvas.rect(grid_x(EDGE_LEFT), grid_y(62), (EDGE_RIGHT - EDGE_LEFT) * PITCH, 55 * LEADING)
    for line in (27, 31, 41, 55):
        _rule(canvas, line, EDGE_LEFT, EDGE_RIGHT)


def _number(canvas: Canvas, row: int, top: float) -> None:
    canvas.setFont(BOLD, 8)
    canvas.drawString(grid_x(EDGE_RIGHT) + 2.5, grid_y(top) - LEADING + 2.5, str(row))


def _boxes(canvas: Canvas) -> None:
    canvas.setLineWidth(0.5)
    for line, col in _CHECK_BOXES:  # around a 12-point Courier X: 6 wide, 7 high
        canvas.rect(grid_x(col) - 0.4, grid_y(line) - LEADING + 1.3, PITCH + 0.8, 9.2)
    canvas.rect(grid_x(42) - 0.8, grid_y(37) - LEADING + 1.3, PITCH + 1.6, 9.2)  # ICD Ind.


def _heading(canvas: Canvas) -> None:
    canvas.setFont(BOLD, 13)
    canvas.drawString(grid_x(1), grid_y(5) + 1, "HEALTH INSURANCE CLAIM FORM")
    canvas.setFont(REGULAR, SMALL + 0.7)
    canvas.drawString(
        grid_x(1), grid_y(6) + 2.5, "APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12"
    )
    canvas.setFont(BOLD, 6)
    for col in (1.0, 74.0):
        canvas.rect(grid_x(col), grid_y(7) + 1.5, 5.5, 5.5)
        canvas.drawString(grid_x(col) + 7.5, grid_y(7) + 2.4, "PICA")
    canvas.setFont(REGULAR, SMALL + 0.7)
    footer = grid_y(62) - 7
    canvas.drawString(grid_x(1), footer, "NUCC Instruction Manual available at: www.nucc.org")
    canvas.setFont(BOLD, 6.5)
    canvas.drawCentredString(grid_x(40), footer, "PLEASE PRINT OR TYPE")
    canvas.setFont(REGULAR, SMALL + 0.7)
    canvas.drawRightString(grid_x(EDGE_RIGHT), footer, "APPROVED OMB-0938-1197 FORM 1500 (02-12)")
    _side(canvas, "CARRIER", 2, 6)
    _side(canvas, "PATIENT AND INSURED INFORMATION", 7, 31)
    _side(canvas, "PHYSICIAN OR SUPPLIER INFORMATION", 31, 62)


def _side(canvas: Canvas, label: str, line_from: float, line_to: float) -> None:
    """A label up the right margin, between two arrows' worth of rule."""
    x = grid_x(EDGE_RIGHT) + 11
    top, bottom = grid_y(line_from) - 2, grid_y(line_to) + 2
    canvas.saveState()
    canvas.setLineWidth(0.5)
    canvas.line(x - 2, top, x - 2, bottom)
    canvas.translate(x + 4.6, (top + bottom) / 2)
    canvas.rotate(90)
    canvas.setFillColor(colors.white)
    width = len(label) * 3.9 + 6
    canvas.rect(-width / 2, -1.5, width, 9, 0, 1)
    canvas.setFillColor(RED)
    canvas.setFont(BOLD, 6)
    canvas.drawCentredString(0, 0, label)
    canvas.restoreState()


def _captions(canvas: Canvas) -> None:
    _texts(canvas, _CAPTIONS, CAPTION, 5.4)
    _texts(canvas, _SUBCAPTIONS, SMALL, 10.6)
    dates = [
        (line, col + 0.15, ("MM", "DD", "YY")[n % 3])
        for line, columns in _DATE_COLUMNS
        for n, col in enumerate(columns)
    ]
    _texts(canvas, dates, SMALL, 10.6)
    for col_from, col_to, words in _LINE_HEADINGS:
        _paragraph(canvas, 41, col_from + 0.1, col_to, words, first=5.0)
    _texts(canvas, _LABELS, SMALL + 0.4, LEADING - 2.8)
    canvas.setFont(BOLD, CAPTION)
    canvas.drawCentredString(
        grid_x(25), grid_y(27) - 5.4, "READ BACK OF FORM BEFORE COMPLETING & SIGNING THIS FORM."
    )
    for line, col_from, col_to, words in _SIGNATURE_TEXT:
        _paragraph(canvas, line, col_from, col_to, words, first=10.4 if line == 27 else 5.4)
    canvas.setFont(REGULAR, 7)
    for line, col in ((16, 14.1), (16, 64.1), (57, 65.1)):  # the telephone's parentheses
        canvas.drawString(grid_x(col), grid_y(line) - LEADING + 2.6, "(")
        canvas.drawString(grid_x(col + 4), grid_y(line) - LEADING + 2.6, ")")


def _texts(
    canvas: Canvas, items: Sequence[tuple[float, float, str]], size: float, drop: float
) -> None:
    canvas.setFont(REGULAR, size)
    for line, col, words in items:
        canvas.drawString(grid_x(col) + 0.6, grid_y(line) - drop, words)


def _paragraph(
    canvas: Canvas, line: float, col_from: float, col_to: float, words: str, first: float
) -> None:
    width = (col_to - col_from) * PITCH - 1.2
    rows = simpleSplit(words, REGULAR, SMALL, width)
    canvas.setFont(REGULAR, SMALL)
    for n, row in enumerate(rows):
        canvas.drawString(grid_x(col_from) + 0.6, grid_y(line) - first - n * (SMALL + 0.8), row)
