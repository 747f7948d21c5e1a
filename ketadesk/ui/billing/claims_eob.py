"""Posting a paper EOB by hand: a grid with one row per claim line, then the 835 preview.

Flow: the claim pane's "Post EOB…" opens :class:`EobDialog` for the shown claim. The dialog
reads the claim with :func:`ketadesk.billing.claims.eob.eob_sheet` and draws the EOB's
header (the day paid, the check or EFT number, the payer's claim number) above a grid: per
claim line its code and what it billed, then what the EOB says it paid, wrote down by
contract (CO-45 unless another code is typed), the patient's deductible, coinsurance and
copay, and what it denied with the reason code (CARC) and remark codes (RARC). Beside each
line a running "left to account for" (:func:`~ketadesk.billing.claims.eob.left_to_account`)
says what of the billed amount the typed figures do not yet explain.

"Post…" hands the typed text to :func:`~ketadesk.billing.claims.eob.eob_plan`: every
problem comes back at once and is shown beside its field (a line's own problems under its
row), and nothing posts. When the EOB is whole, the same
:class:`~ketadesk.ui.billing.claims_remit.RemitPreviewDialog` an 835 uses shows what will
post; its "Post" plans again inside one transaction and posts with
:func:`ketadesk.billing.claims.remittance.post`. The dialog then closes and emits
:attr:`EobDialog.posted` with the result, whose sentence the pane shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing.claims.eob import (
    EobForm,
    EobLine,
    eob_plan,
    eob_sheet,
    left_to_account,
    line_field,
)
from ketadesk.billing.claims.remittance import PostResult, RemitPlan
from ketadesk.errors import FieldProblem, KetaDeskError, ValidationError
from ketadesk.money import ZERO
from ketadesk.ui.billing import Clock, guard, sentence
from ketadesk.ui.billing.claims_remit import RemitPreviewDialog
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import dollars, us_date
from ketadesk.ui.forms import ERROR_STYLE, INVALID_STYLE, FieldForm
from ketadesk.ui.style import set_role


@dataclass(frozen=True)
class Column:
    """One typed column of the grid: the EobLine attribute, its header and its hint."""

    name: str  # EobLine attribute; with spaces, the part of the service's field names
    header: str
    placeholder: str
    width: int
    money: bool = True

    @property
    def part(self) -> str:
        return self.name.replace("_", " ")


COLUMNS = (
    Column("paid", "Paid", "0.00", 92),
    Column("contractual", "Contractual", "0.00", 92),
    Column("contractual_reason", "CO code", "45", 64, money=False),
    Column("deductible", "Deductible", "0.00", 92),
    Column("coinsurance", "Coinsurance", "0.00", 92),
    Column("copay", "Copay", "0.00", 80),
    Column("denied", "Denied", "0.00", 92),
    Column("denial_reason", "Denial code", "CARC", 82, money=False),
    Column("remarks", "Remarks", "RARC", 90, money=False),
)
HEADER_FIELDS = {  # the service's field -> the header form's field
    "paid on": "paid_on",
    "check number": "check_number",
    "payer claim number": "payer_claim_number",
}
HEADER_WIDTH = 280
FIRST_TYPED = 3  # grid columns: #, code, billed, then COLUMNS, then what is left


class EobDialog(QDialog):
    """The EOB of one claim typed in: header, a row per line, then the preview and Post."""

    posted = Signal(object)  # the PostResult

    def __init__(
        self,
        context: AppContext,
        claim_id: int,
        *,
        today: Clock,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.claim_id = claim_id
        self.today = today
        self.outcome: PostResult | None = None
        self.preview: EobPreviewDialog | None = None
        with context.db.reading() as session:
            self.sheet = eob_sheet(session, context.actor, claim_id)
        self.editors: dict[tuple[int, str], QLineEdit] = {}
        self.left: dict[int, QLabel] = {}
        self.line_problems: dict[int, QLabel] = {}
        self.setWindowTitle(f"Post a paper EOB — claim {self.sheet.number}")
        self.setMinimumWidth(960)
        column = QVBoxLayout(self)
        column.addWidget(self._heading())
        self.form = FieldForm()
        self._header(self.form)
        column.addWidget(self.form)
        self.total = QLabel()
        self.total.setObjectName("eobTotal")
        column.addWidget(self._grid(), 1)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.post_button.setText("Post…")
        set_role(self.post_button, "primary")
        guard(self.post_button, context.actor, Permission.CLAIM_WORK)
        self.buttons.accepted.connect(self.check_and_preview)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        for line in self.sheet.lines:
            self._update_left(line.position)

    @property
    def post_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    # --- building ----------------------------------------------------------------------

    def _heading(self) -> QLabel:
        s = self.sheet
        sent = f", sent {us_date(s.submitted_on)}" if s.submitted_on else ""
        heading = QLabel(
            f"<b>Paper EOB</b> for claim {s.number}: {s.patient_name}, {s.payer_name} "
            f"({dollars(s.billed)} billed{sent}).<br>Type what the EOB says for each line; a "
            "blank is $0.00. Every dollar billed is paid, written down by contract, the "
            "patient's share, or denied with its reason code."
        )
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        return heading

    def _header(self, form: FieldForm) -> None:
        paid_on = form.add_text("paid_on", "Paid on", placeholder="MM/DD/YYYY", required=True)
        paid_on.setText(us_date(self.today()))
        check = form.add_text(
            "check_number", "Check or EFT number", placeholder="e.g. 104577 or EFT 88123"
        )
        number = form.add_text(
            "payer_claim_number", "Payer's claim number", placeholder="as printed on the EOB"
        )
        number.setText(self.sheet.payer_claim_number)
        for editor in (paid_on, check, number):
            editor.setFixedWidth(HEADER_WIDTH)  # the words of a problem get the room left
            holder = editor.parentWidget()
            row = holder.layout() if isinstance(holder, QWidget) else None
            if isinstance(row, QHBoxLayout):  # the field at the left, its problem beside it
                row.setAlignment(editor, Qt.AlignmentFlag.AlignLeft)
                row.setStretch(0, 0)
                row.setStretch(1, 1)

    def _grid(self) -> QScrollArea:
        holder = QFrame()
        holder.setObjectName("eobGrid")
        grid = QGridLayout(holder)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        headers = ("#", "Code", "Billed", *(c.header for c in COLUMNS), "Left to account for")
        for col, text in enumerate(headers):
            label = QLabel(f"<b>{text}</b>")
            right = 2 <= col < FIRST_TYPED + len(COLUMNS) and (
                col == 2 or COLUMNS[col - FIRST_TYPED].money
            )
            if right or col == len(headers) - 1:
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(label, 0, col)
        for index, line in enumerate(self.sheet.lines):
            self._row(grid, 1 + 2 * index, line.position, line.code, line.billed)
        below = 1 + 2 * len(self.sheet.lines)
        self.total.setContentsMargins(0, 8, 0, 0)
        grid.addWidget(self.total, below, 0, 1, len(headers))
        grid.setColumnStretch(len(headers), 1)  # room left goes to the right of the grid
        grid.setRowStretch(below + 1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)
        return scroll

    def _row(self, grid: QGridLayout, row: int, position: int, code: str, billed: Decimal) -> None:
        grid.addWidget(QLabel(str(position)), row, 0)
        grid.addWidget(QLabel(code), row, 1)
        amount = QLabel(dollars(billed))
        amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(amount, row, 2)
        for offset, col in enumerate(COLUMNS):
            editor = QLineEdit()
            editor.setObjectName(f"eob_{position}_{col.name}")
            editor.setPlaceholderText(col.placeholder)
            editor.setFixedWidth(col.width)
            if col.money:
                editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                editor.textChanged.connect(lambda _text, p=position: self._update_left(p))
            grid.addWidget(editor, row, FIRST_TYPED + offset)
            self.editors[(position, col.name)] = editor
        left = QLabel()
        left.setObjectName(f"eobLeft_{position}")
        left.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        left.setMinimumWidth(130)
        grid.addWidget(left, row, FIRST_TYPED + len(COLUMNS))
        self.left[position] = left
        problems = QLabel()
        problems.setObjectName(f"eobProblems_{position}")
        problems.setStyleSheet(ERROR_STYLE)
        problems.setWordWrap(True)
        problems.hide()
        grid.addWidget(problems, row + 1, 1, 1, FIRST_TYPED + len(COLUMNS))
        self.line_problems[position] = problems

    # --- reading what was typed ----------------------------------------------------------

    def typed_line(self, position: int) -> EobLine:
        texts = {c.name: self.editors[(position, c.name)].text() for c in COLUMNS}
        return EobLine(position, **texts)

    def typed(self) -> EobForm:
        values = self.form.values()
        return EobForm(
            paid_on=str(values.get("paid_on") or ""),
            check_number=str(values.get("check_number") or ""),
            payer_claim_number=str(values.get("payer_claim_number") or ""),
            lines=tuple(self.typed_line(line.position) for line in self.sheet.lines),
        )

    def _update_left(self, position: int) -> None:
        line = next(x for x in self.sheet.lines if x.position == position)
        left = left_to_account(line.billed, self.typed_line(position))
        label = self.left[position]
        if left is None:
            label.setText("not an amount yet")
            set_role(label, "error")
        elif left == ZERO:
            label.setText("✓ all accounted for")
            set_role(label, "muted")
        elif left > ZERO:
            label.setText(f"{dollars(left)} left")
            set_role(label, "")
        else:
            label.setText(f"{dollars(-left)} too much")
            set_role(label, "error")
        self._update_total()

    def _update_total(self) -> None:
        lefts = [left_to_account(x.billed, self.typed_line(x.position)) for x in self.sheet.lines]
        if any(left is None for left in lefts):
            self.total.setText("Some amounts are not money yet; they are marked in the grid.")
            return
        left = sum((x for x in lefts if x is not None), ZERO)
        words = (
            "Every line is accounted for."
            if left == ZERO
            else (f"Still to account for on the claim: {dollars(left)}.")
        )
        self.total.setText(words)

    # --- posting -------------------------------------------------------------------------

    def check_and_preview(self) -> EobPreviewDialog | None:
        """Check the EOB; show its problems beside their fields, or the preview to post."""
        form, actor, today = self.typed(), self.context.actor, self.today()
        self.clear_problems()
        try:
            with self.context.db.reading() as session:
                plan = eob_plan(session, actor, self.claim_id, form, today=today)
        except ValidationError as error:
            self.show_problems(error.problems)
            return None
        except KetaDeskError as error:  # the claim is gone, or the actor may not post
            self.show_problems([FieldProblem("claim", str(error))])
            return None
        preview = EobPreviewDialog(
            self.context, plan, self.claim_id, form, today=self.today, parent=self
        )
        preview.posted.connect(self._posted)
        if self.preview is not None:
            self.preview.deleteLater()
        self.preview = preview
        preview.open()
        return preview

    def _posted(self, result: PostResult) -> None:
        self.outcome = result
        self.posted.emit(result)
        self.accept()

    def clear_problems(self) -> None:
        self.form.clear_problems()
        for (_position, _name), editor in self.editors.items():
            editor.setStyleSheet("")
            editor.setToolTip("")
        for label in self.line_problems.values():
            label.clear()
            label.hide()

    def show_problems(self, problems: list[FieldProblem] | tuple[FieldProblem, ...]) -> None:
        """Each problem beside its field: the header's in the form, a line's under its row,
        the rest (the claim's) in the form's banner."""
        header: list[FieldProblem] = []
        loose: list[str] = []
        by_line: dict[int, list[str]] = {}
        for problem in problems:
            if self._place(problem, by_line):
                continue
            if problem.field in HEADER_FIELDS:
                header.append(FieldProblem(HEADER_FIELDS[problem.field], problem.message))
            else:
                loose.append(sentence(problem.message))
        self.form.show_problems(header)
        if loose:
            self.form.banner.setText("\n".join(loose))
            self.form.banner.show()
        for position, messages in by_line.items():
            label = self.line_problems[position]
            label.setText("\n".join(messages))
            label.show()

    def _place(self, problem: FieldProblem, by_line: dict[int, list[str]]) -> bool:
        """Put a line's problem under its row (and mark its field); False if not a line's."""
        for line in self.sheet.lines:
            n = line.position
            if problem.field == line_field(n):
                by_line.setdefault(n, []).append(problem.message)
                return True
            for col in COLUMNS:
                if problem.field == line_field(n, col.part):
                    editor = self.editors[(n, col.name)]
                    editor.setStyleSheet(INVALID_STYLE)
                    editor.setToolTip(problem.message)
                    by_line.setdefault(n, []).append(f"{col.header}: {problem.message}")
                    return True
        return False


class EobPreviewDialog(RemitPreviewDialog):
    """The 835 preview for a typed EOB: planned again from the form inside the posting
    transaction, so what posts is what was checked."""

    def __init__(
        self,
        context: AppContext,
        plan: RemitPlan,
        claim_id: int,
        form: EobForm,
        *,
        today: Clock,
        parent: QWidget | None = None,
    ) -> None:
        self.claim_id = claim_id
        self.form = form
        self.today = today
        super().__init__(context, plan.remittance, sha256=None, parent=parent)
        self.setWindowTitle(f"Paper EOB — {plan.remittance.trace_number or 'no payment'}")

    def _plan(self, session: Session) -> RemitPlan:
        return eob_plan(session, self.context.actor, self.claim_id, self.form, today=self.today())


__all__ = ["COLUMNS", "EobDialog", "EobPreviewDialog"]
