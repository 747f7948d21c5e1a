"""Printing a claim on the red pre-printed CMS-1500: this workstation's printer offsets, the
alignment test page, and the claim's data alone on the grid.

Printers feed forms a millimetre or two apart, so each workstation remembers its own
offsets (in ``layout.ini`` beside the database, keyed by the printer's name): print the
alignment page on a red form, see where the marks land, adjust, and print claims with the
same offsets. The offsets are read as people type them (``1,5`` too) by
:func:`ketadesk.documents.cms1500.millimetres`.
"""

from __future__ import annotations

from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ketadesk.billing.claims.forms import printed_claim
from ketadesk.documents.cms1500 import alignment_page, millimetres, render_cms1500
from ketadesk.errors import FieldProblem, InvalidValue
from ketadesk.ui.billing import Notice, layout_settings
from ketadesk.ui.billing.pdf import Opener, PdfButton
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import FieldForm


def printer_key() -> str:
    """The settings group of this workstation's default printer (its name, or "default")."""
    name = QPrinterInfo.defaultPrinterName() or "default"
    return "cms1500-" + "".join(c if c.isalnum() else "-" for c in name)


class RedFormDialog(QDialog):
    """Offsets for this printer, the alignment page, and the claim on the red form."""

    def __init__(
        self,
        context: AppContext,
        claim_id: int,
        number: str,
        *,
        opener: Opener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context, self.claim_id, self.number = context, claim_id, number
        self.setWindowTitle(f"Claim {number} on the red CMS-1500")
        self.setMinimumWidth(480)
        column = QVBoxLayout(self)
        explain = QLabel(
            "Print the alignment page on a red form first. If the marks sit off their boxes, "
            "move the data by a few millimetres (right and down are positive) and try again. "
            "This workstation remembers the offsets for its printer."
        )
        explain.setWordWrap(True)
        column.addWidget(explain)
        self.form = FieldForm()
        self.form.add_text("offset_x", "Right (mm)", placeholder="e.g. 1.5 or -2")
        self.form.add_text("offset_y", "Down (mm)", placeholder="e.g. 1.5 or -2")
        column.addWidget(self.form)
        self.notice = Notice()
        column.addWidget(self.notice)
        row = QHBoxLayout()
        self.alignment_button = PdfButton(self._alignment, text="Alignment page", opener=opener)
        self.claim_button = PdfButton(self._claim, text="Claim on the red form", opener=opener)
        row.addWidget(self.alignment_button)
        row.addWidget(self.claim_button)
        row.addStretch(1)
        column.addLayout(row)
        self._load()

    def _load(self) -> None:
        settings = layout_settings()
        settings.beginGroup(printer_key())
        self.form.set_values(
            {
                "offset_x": str(settings.value("offset_x_mm", "0")),
                "offset_y": str(settings.value("offset_y_mm", "0")),
            }
        )
        settings.endGroup()

    def offsets(self) -> tuple[float, float]:
        """The offsets typed, remembered for this printer; problems shown beside the fields."""
        values = self.form.values()
        found: dict[str, float] = {}
        problems: list[FieldProblem] = []
        for field in ("offset_x", "offset_y"):
            try:
                found[field] = millimetres(str(values.get(field) or "0"))
            except InvalidValue as error:
                problems.append(FieldProblem(field, str(error)))
        self.form.show_problems(problems)
        if problems:
            raise InvalidValue("fix the offsets first: " + "; ".join(p.message for p in problems))
        settings = layout_settings()
        settings.beginGroup(printer_key())
        settings.setValue("offset_x_mm", f"{found['offset_x']:g}")
        settings.setValue("offset_y_mm", f"{found['offset_y']:g}")
        settings.endGroup()
        return found["offset_x"], found["offset_y"]

    def _alignment(self) -> tuple[bytes, str]:
        x, y = self.offsets()
        return alignment_page(x, y), "CMS-1500 alignment page.pdf"

    def _claim(self) -> tuple[bytes, str]:
        x, y = self.offsets()
        with self.context.db.transaction() as session:  # the read is audited
            form = printed_claim(session, self.context.actor, self.claim_id)
        pdf = render_cms1500([form], mode="print", offset_x_mm=x, offset_y_mm=y)
        return pdf, f"CMS-1500 {self.number} (red form).pdf"
