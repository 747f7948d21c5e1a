"""One claim in the Claims tab: what it is, what became of it, and what billing may do next.

Flow: :meth:`ClaimPane.show_claim` receives a frozen
:class:`~ketadesk.billing.claims.views.ClaimDetail` (read by the tab with
:func:`~ketadesk.billing.claims.views.claim_detail`) and draws it: a heading with the claim's
number and status, the facts a payer sees (patient, member id, dates, deadlines), the
money card (billed, paid, adjusted, the patient's share, still open) and four small tables
under tabs — the lines, the scrubber's problems (each with its field), the history (who,
when, from → to, why) and the payer's answers (each 835 line with its CARC and RARC codes
in words).

The buttons each open a :class:`~ketadesk.ui.billing.corrections.ReasonDialog` that runs one
service of :mod:`ketadesk.billing.claims.actions` in one transaction: mark sent (on paper
or a portal), record a rejection, reopen a rejected claim, appeal, bill the patient instead,
write off, correct or void. A refusal (a deadline past, a claim never sent) is shown in the
dialog in words and nothing changes. After a change the pane emits :attr:`ClaimPane.changed`
and the tab reads the list and the claim again. Which buttons are enabled follows the
claim's status; the services check again.

"Post EOB…" opens :class:`~ketadesk.ui.billing.claims_eob.EobDialog` for a claim waiting
for its payer: the paper EOB typed line by line, previewed and posted by the 835's rules.

"Appeal…" moves the claim to appealed and, when asked, writes the request for
reconsideration (:func:`ketadesk.billing.claims.forms.appeal_view` rendered by
:func:`ketadesk.documents.appeal.render_appeal_letter`) in the same transaction, then opens
the PDF. "CMS-1500" draws the paper claim (:func:`~ketadesk.billing.claims.forms.printed_claim`
rendered by :func:`ketadesk.documents.cms1500.render_cms1500`, the form drawn too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing.claims import actions
from ketadesk.billing.claims.eob import WAITING_FOR_EOB
from ketadesk.billing.claims.forms import appeal_view, printed_claim
from ketadesk.billing.claims.models import ClaimStatus
from ketadesk.billing.claims.views import ClaimDetail, RemitView
from ketadesk.errors import FieldProblem, NotFound
from ketadesk.money import ZERO
from ketadesk.ui.billing import Clock, Notice, allowed, fill_table, guard, make_table
from ketadesk.ui.billing.claims_eob import EobDialog
from ketadesk.ui.billing.claims_form import RedFormDialog
from ketadesk.ui.billing.corrections import ReasonDialog
from ketadesk.ui.billing.pdf import Opener, PdfButton, show_pdf
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import flow_holder, wrap_words
from ketadesk.ui.format import dollars, us_date
from ketadesk.ui.forms import FieldForm
from ketadesk.ui.style import set_role

LINE_COLUMNS = ("#", "Date", "Code", "Mod.", "Units", "Dx", "Service", "Billed")
PROBLEM_COLUMNS = ("Field", "What to fix")
HISTORY_COLUMNS = ("When", "Who", "From → to", "Why")
ANSWER_COLUMNS = ("Paid on", "From", "Code", "Billed", "Paid", "Reasons and remarks")
MONEY = (
    ("Billed", "billed"),
    ("Paid by payer", "paid"),
    ("Adjusted", "adjusted"),
    ("Patient's share", "to_patient"),
    ("To next payer", "to_other_payer"),
    ("Still open", "open"),
)
UNSENT = frozenset({ClaimStatus.DRAFT, ClaimStatus.READY})
WAITING = frozenset({ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED})
ANSWERED = frozenset({ClaimStatus.PAID, ClaimStatus.PARTLY_PAID, ClaimStatus.DENIED})


def problem_parts(sentence: str) -> tuple[str, str]:
    """A scrubber problem ``"field: what to do"`` as its field and its words."""
    field, sep, words = sentence.partition(": ")
    return (field, words) if sep else ("", sentence)


def answer_rows(remit: RemitView) -> list[tuple[object, tuple[str, ...]]]:
    """The table rows of one payer answer: a row per line, then claim-level reasons."""
    source = f"{remit.source} {remit.trace_number}".strip()
    rows: list[tuple[object, tuple[str, ...]]] = []
    for line in remit.lines:
        reasons = "\n".join((*line.adjustments, *line.remarks)) or "Paid as billed"
        rows.append(
            (
                remit.trace_number,
                (
                    us_date(remit.paid_on),
                    source,
                    line.code,
                    dollars(line.billed),
                    dollars(line.paid),
                    reasons,
                ),
            )
        )
    if remit.adjustments or not remit.lines:
        words = "\n".join(remit.adjustments) or f"Claim status {remit.status_code}"
        rows.append(
            (
                remit.trace_number,
                (us_date(remit.paid_on), source, "Claim", "", dollars(remit.paid), words),
            )
        )
    return rows


def _money_card(names: tuple[tuple[str, str], ...]) -> tuple[QFrame, dict[str, QLabel]]:
    frame = QFrame()
    frame.setObjectName("card")
    grid = QGridLayout(frame)
    grid.setContentsMargins(14, 8, 14, 8)
    grid.setColumnStretch(0, 1)
    values: dict[str, QLabel] = {}
    for row, (caption, key) in enumerate(names):
        label = QLabel(caption)
        set_role(label, "muted")
        value = QLabel()
        value.setObjectName(f"claimMoney_{key}")
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if key == "open":
            label.setStyleSheet("font-weight: 600;")
            value.setStyleSheet("font-weight: 600;")
        grid.addWidget(label, row, 0)
        grid.addWidget(value, row, 1)
        values[key] = value
    grid.setRowStretch(len(names), 1)
    return frame, values


class AppealDialog(ReasonDialog):
    """The appeal's reason for the history, and the letter to the payer (optional PDF)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.letter: tuple[bytes, str] | None = None
        self.make_letter: Callable[[Session, Mapping[str, object]], tuple[bytes, str]] | None = (
            None
        )
        super().__init__(*args, **kwargs)

    def build(self, form: FieldForm) -> None:
        super().build(form)
        form.add_multiline(
            "body", "Letter", placeholder="What the letter says (blank: the reason above)"
        )
        form.add_text("signer", "Signed by", required=True)
        form.add_text("title", "Title", placeholder="e.g. Billing manager")
        form.add_check("letter_pdf", "Write the letter (PDF)")
        checked = form.editors["letter_pdf"]
        if isinstance(checked, QCheckBox):
            checked.setChecked(True)

    def act(
        self, session: Session, values: Mapping[str, object], problems: list[FieldProblem]
    ) -> object:
        if values.get("letter_pdf") and not str(values.get("signer") or "").strip():
            problems.append(FieldProblem("signer", "say who signs the letter"))
        outcome = super().act(session, values, problems)
        if values.get("letter_pdf") and self.make_letter is not None:
            self.letter = self.make_letter(session, values)
        return outcome


class SentDialog(ReasonDialog):
    """Mark a ready claim sent outside an 837P batch: how it went (paper, the payer's portal)."""

    def build(self, form: FieldForm) -> None:
        editor = form.add_text("reason", "Sent as", placeholder=self.placeholder, required=True)
        editor.setText("printed CMS-1500, mailed")


class ClaimPane(QWidget):
    """The claim selected in the list: facts, actions, tables and money."""

    changed = Signal()  # the claim changed; the tab reads the list and the claim again

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock,
        opener: Opener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today
        self.opener = opener
        self.shown: ClaimDetail | None = None
        self.dialog: QDialog | None = None
        self.last_letter: Path | None = None  # where the last appeal letter was written
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 4, 0, 0)
        column.setSpacing(6)
        self.title = QLabel("Select a claim to see it here.")
        self.title.setObjectName("detailName")
        self.facts = QLabel()
        self.facts.setObjectName("claimFacts")
        self.facts.setWordWrap(True)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_role(self.facts, "muted")
        column.addWidget(self.title)
        column.addWidget(self.facts)
        column.addWidget(self._buttons())
        body = QHBoxLayout()
        body.addWidget(self._tables(), 1)
        card, self.money = _money_card(MONEY)
        card.setFixedWidth(250)
        body.addWidget(card)
        column.addLayout(body, 1)
        self.notice = Notice()
        self.notice.setObjectName("claimNotice")
        column.addWidget(self.notice)
        self._enable()

    # --- building ----------------------------------------------------------------------

    def _button(self, text: str, name: str, permission: Permission, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        guard(button, self.context.actor, permission, tip)
        return button

    def _buttons(self) -> QWidget:
        holder, row = flow_holder()
        self.sent_button = self._button(
            "Mark sent…", "claimSent", Permission.CLAIM_WORK,
            "The claim went on paper or through the payer's portal, not in an 837P batch.",
        )
        self.accept_button = self._button(
            "Accepted…", "claimAccepted", Permission.CLAIM_WORK,
            "The payer or clearinghouse took the claim in (a 277CA acceptance, or its portal).",
        )
        self.reject_button = self._button(
            "Record rejection…", "claimReject", Permission.CLAIM_WORK,
            "The payer or clearinghouse refused the claim before adjudicating it.",
        )
        self.reopen_button = self._button(
            "Reopen", "claimReopen", Permission.CLAIM_WORK,
            "Reopen the rejected claim as a draft, to fix and check again.",
        )
        self.eob_button = self._button(
            "Post EOB…", "claimEob", Permission.CLAIM_WORK,
            "Type the payer's paper EOB for this claim: paid, written down, the patient's share "
            "and denials, line by line; it posts like an 835.",
        )
        self.appeal_button = self._button(
            "Appeal…", "claimAppeal", Permission.CLAIM_WORK,
            "Ask the payer to reconsider before the appeal deadline.",
        )
        self.bill_button = self._button(
            "Bill patient…", "claimBillPatient", Permission.CLAIM_WORK,
            "Bill the patient instead: move what is still open to their account (never above "
            "self-pay prices).",
        )
        self.write_off_button = self._button(
            "Write off…", "claimWriteOff", Permission.MONEY_CORRECT,
            "Write off what the payer will not pay and the clinic will not bill.",
        )
        self.correct_button = self._button(
            "Correct…", "claimCorrect", Permission.CLAIM_WORK,
            "A corrected claim (frequency 7) naming the payer's claim number.",
        )
        self.void_button = self._button(
            "Void…", "claimVoid", Permission.CLAIM_WORK,
            "A void claim (frequency 8) naming the payer's claim number.",
        )
        self.sent_button.clicked.connect(self.mark_sent)
        self.accept_button.clicked.connect(self.record_acceptance)
        self.reject_button.clicked.connect(self.record_rejection)
        self.reopen_button.clicked.connect(self.reopen)
        self.eob_button.clicked.connect(self.post_eob)
        self.appeal_button.clicked.connect(self.appeal)
        self.bill_button.clicked.connect(self.bill_patient)
        self.write_off_button.clicked.connect(self.write_off)
        self.correct_button.clicked.connect(lambda: self.replace(void=False))
        self.void_button.clicked.connect(lambda: self.replace(void=True))
        self.form_button = PdfButton(self._cms1500, text="CMS-1500", opener=self.opener)
        self.form_button.setObjectName("claimCms1500")
        self.form_button.setToolTip("The paper claim (CMS-1500) as a PDF, the form drawn too.")
        self.red_form_button = QPushButton("Red form…")
        self.red_form_button.setObjectName("claimRedForm")
        self.red_form_button.setToolTip(
            "Print the claim's data on the red pre-printed CMS-1500, with this printer's "
            "offsets and an alignment page."
        )
        self.red_form_button.clicked.connect(self.red_form)
        for button in (
            self.sent_button, self.accept_button, self.reject_button, self.reopen_button,
            self.eob_button,
            self.appeal_button,
            self.bill_button, self.write_off_button, self.correct_button, self.void_button,
        ):
            row.addWidget(button)
        row.addWidget(self.form_button)
        row.addWidget(self.red_form_button)
        return holder

    def _tables(self) -> QTabWidget:
        self.tabs = QTabWidget()
        self.tabs.setObjectName("claimTabs")
        self.tabs.setDocumentMode(True)
        self.lines = make_table(
            LINE_COLUMNS, money_columns=(7,), stretch=6, object_name="claimLines"
        )
        self.problems = make_table(PROBLEM_COLUMNS, stretch=1, object_name="claimProblems")
        wrap_words(self.problems)
        self.history = make_table(HISTORY_COLUMNS, stretch=3, object_name="claimHistory")
        wrap_words(self.history)
        self.answers = make_table(
            ANSWER_COLUMNS, money_columns=(3, 4), stretch=5, object_name="claimAnswers"
        )
        wrap_words(self.answers)
        self.tabs.addTab(self.lines, "Lines")
        self.tabs.addTab(self.problems, "Problems")
        self.tabs.addTab(self.history, "History")
        self.tabs.addTab(self.answers, "Payer's answers")
        return self.tabs

    # --- showing -----------------------------------------------------------------------

    def show_claim(self, detail: ClaimDetail | None) -> None:
        """Draw ``detail`` (or empty the pane)."""
        self.shown = detail
        if detail is None:
            self.title.setText("Select a claim to see it here.")
            self.facts.clear()
            for table in (self.lines, self.problems, self.history, self.answers):
                fill_table(table, [], keep_selection=False)
            for label in self.money.values():
                label.clear()
            self._titles(None)
            self._enable()
            return
        kind = {"7": " · corrected", "8": " · void"}.get(detail.frequency, "")
        self.title.setText(f"Claim {detail.number} · {detail.status.label}{kind}")
        self.facts.setText(self._facts(detail))
        self._fill(detail)
        for key, label in self.money.items():
            label.setText(dollars(getattr(detail.money, key)))
        self._titles(detail)
        self._enable()

    @staticmethod
    def _facts(d: ClaimDetail) -> str:
        parts = [
            f"{d.patient_name} · MRN {d.mrn}",
            f"{d.payer_name} ({d.rank}) · member {d.member_id}",
            f"Service {us_date(d.service_from)}"
            + (f" – {us_date(d.service_to)}" if d.service_to != d.service_from else ""),
            f"File by {us_date(d.filing_deadline)}",
        ]
        if d.submitted_on:
            parts.append(f"Sent {us_date(d.submitted_on)}")
        if d.appeal_deadline:
            parts.append(f"Appeal by {us_date(d.appeal_deadline)}")
        if d.diagnoses:
            parts.append("Diagnoses " + ", ".join(d.diagnoses))
        if d.prior_auth_number:
            parts.append(f"Prior auth {d.prior_auth_number}")
        if d.payer_claim_number:
            parts.append(f"Payer's claim {d.payer_claim_number}")
        if d.replaces:
            parts.append(f"Replaces {d.replaces}")
        return "  ·  ".join(parts)

    def _fill(self, d: ClaimDetail) -> None:
        fill_table(
            self.lines,
            [
                (
                    line.position,
                    (
                        str(line.position), us_date(line.service_date), line.code,
                        line.modifiers, str(line.units), line.pointers,
                        line.description + (f" (NDC {line.ndc})" if line.ndc else ""),
                        dollars(line.billed),
                    ),
                )
                for line in d.lines
            ],
            keep_selection=False,
        )
        fill_table(
            self.problems,
            [(n, problem_parts(text)) for n, text in enumerate(d.problems)],
            keep_selection=False,
        )
        fill_table(
            self.history,
            [
                (
                    n,
                    (
                        e.at.astimezone().strftime("%m/%d/%Y %H:%M"),
                        e.actor,
                        f"{e.from_status.replace('_', ' ') or 'new'} → {e.to_status.label.lower()}",
                        e.reason,
                    ),
                )
                for n, e in enumerate(d.history)
            ],
            keep_selection=False,
        )
        fill_table(
            self.answers,
            [row for remit in d.remits for row in answer_rows(remit)],
            keep_selection=False,
        )

    def _titles(self, d: ClaimDetail | None) -> None:
        problems = len(d.problems) if d else 0
        answers = len(d.remits) if d else 0
        self.tabs.setTabText(1, f"Problems ({problems})" if problems else "Problems")
        self.tabs.setTabText(3, f"Payer's answers ({answers})" if answers else "Payer's answers")

    def _enable(self) -> None:
        d = self.shown
        status = d.status if d else None
        is_open = d is not None and d.money.open > ZERO and status is not ClaimStatus.CLOSED
        sent = status is not None and status not in UNSENT
        wants = {
            self.sent_button: status is ClaimStatus.READY,
            self.accept_button: status is ClaimStatus.SUBMITTED,
            self.reject_button: status in WAITING,
            self.reopen_button: status is ClaimStatus.REJECTED,
            self.eob_button: status in WAITING_FOR_EOB,
            self.appeal_button: status in ANSWERED,
            self.bill_button: is_open,
            self.write_off_button: is_open,
            self.correct_button: sent,
            self.void_button: sent,
        }
        for button, wanted in wants.items():
            button.setEnabled(allowed(button) and wanted)
        self.form_button.setEnabled(d is not None)
        self.red_form_button.setEnabled(d is not None)

    # --- acting ------------------------------------------------------------------------

    def _claim(self) -> ClaimDetail:
        if self.shown is None:
            raise NotFound("select a claim first")
        return self.shown

    def _ask(
        self,
        title: str,
        heading: str,
        run: Callable[[Session, str], object],
        done: str,
        *,
        ok_text: str,
        placeholder: str,
        permission: Permission = Permission.CLAIM_WORK,
        dialog_class: type[ReasonDialog] = ReasonDialog,
    ) -> ReasonDialog | None:
        """Open a reason dialog for the shown claim that runs ``run(session, reason)``."""
        if self.shown is None:
            return None
        d = self.shown
        dialog = dialog_class(
            self.context,
            f"{title} — claim {d.number}",
            f"<b>{title}</b>: claim {d.number} for {d.patient_name}, {d.payer_name} "
            f"({dollars(d.money.billed)} billed, {dollars(d.money.open)} open).<br>{heading}",
            run,
            ok_text=ok_text,
            permission=permission,
            placeholder=placeholder,
            parent=self,
        )
        dialog.saved.connect(lambda outcome: self._done(done.format(outcome=outcome)))
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()
        return dialog

    def _done(self, text: str) -> None:
        self.changed.emit()
        self.notice.say(text)

    def mark_sent(self) -> ReasonDialog | None:
        d, actor, on = self._claim(), self.context.actor, self.today()

        def run(session: Session, how: str) -> str:
            actions.mark_submitted(session, actor, [d.id], on=on, how=how)
            return how

        return self._ask(
            "Mark sent", "Say how it went; the filing clock stops today.", run,
            f"Claim {d.number} marked sent ({{outcome}}).",
            ok_text="Mark sent", placeholder="e.g. printed CMS-1500, mailed",
            dialog_class=SentDialog,
        )

    def red_form(self) -> RedFormDialog:
        """The claim on the red pre-printed form, with this printer's offsets."""
        d = self._claim()
        dialog = RedFormDialog(self.context, d.id, d.number, opener=self.opener, parent=self)
        self.dialog = dialog
        dialog.show()
        return dialog

    def record_acceptance(self) -> ReasonDialog | None:
        d, actor = self._claim(), self.context.actor

        def run(session: Session, note: str) -> str:
            return actions.record_acceptance(session, actor, d.id, note).number

        return self._ask(
            "Accepted", "The payer took the claim in; its answer comes with an 835 or EOB.", run,
            f"Claim {d.number} recorded as accepted.",
            ok_text="Record", placeholder="e.g. 277CA accepted, payer claim 2026ABC",
        )

    def record_rejection(self) -> ReasonDialog | None:
        d, actor = self._claim(), self.context.actor

        def run(session: Session, reason: str) -> str:
            return actions.record_rejection(session, actor, d.id, reason).number

        return self._ask(
            "Record rejection", "Correct it, then send it again.", run,
            f"Claim {d.number} recorded as rejected.",
            ok_text="Record rejection", placeholder="e.g. 277CA: subscriber id not found",
        )

    def reopen(self) -> bool:
        d, actor, today = self._claim(), self.context.actor, self.today()

        def run() -> str:
            with self.context.db.transaction() as session:
                claim = actions.reopen(session, actor, d.id, today=today)
                return claim.status.label.lower()

        status = self.notice.attempt(run)
        if status is not None:
            self._done(f"Claim {d.number} is back to {status}; fix it and check it again.")
        return status is not None

    def post_eob(self) -> EobDialog | None:
        """Open the paper EOB form for the shown claim; its posting refreshes the tab."""
        d = self._claim()
        dialog = self.notice.attempt(
            lambda: EobDialog(self.context, d.id, today=self.today, parent=self)
        )
        if dialog is None:
            return None
        dialog.posted.connect(lambda result: self._done(result.sentence))
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.open()
        return dialog

    def appeal(self) -> AppealDialog | None:
        d, actor, on = self._claim(), self.context.actor, self.today()
        deadline = f" The payer hears it until {us_date(d.appeal_deadline)}." if (
            d.appeal_deadline
        ) else ""

        def run(session: Session, reason: str) -> str:
            return actions.appeal(session, actor, d.id, reason, on=on).number

        def letter(session: Session, values: Mapping[str, object]) -> tuple[bytes, str]:
            from ketadesk.documents.appeal import render_appeal_letter

            body = str(values.get("body") or "").strip() or str(values.get("reason") or "")
            view = appeal_view(
                session, actor, d.id, body=body, signer_name=str(values.get("signer") or ""),
                signer_title=str(values.get("title") or ""), on=on,
            )
            return render_appeal_letter(view), f"Appeal {d.number}.pdf"

        dialog = self._ask(
            "Appeal", f"Say why the payer should reconsider.{deadline}", run,
            f"Claim {d.number} appealed.",
            ok_text="Appeal", placeholder="e.g. medically necessary: PHQ-9 24, two failed SSRIs",
            dialog_class=AppealDialog,
        )
        if isinstance(dialog, AppealDialog):
            dialog.make_letter = letter
            signer = dialog.form.editors["signer"]
            if isinstance(signer, QLineEdit):
                signer.setText(actor.username)
            dialog.saved.connect(lambda _outcome: self._letter(dialog))
            return dialog
        return None

    def _letter(self, dialog: AppealDialog) -> None:
        """Open the appeal letter the dialog wrote (if it was asked for)."""
        if dialog.letter is not None:
            data, name = dialog.letter
            self.last_letter = show_pdf(self, data, name, opener=self.opener)

    def bill_patient(self) -> ReasonDialog | None:
        d, actor, on = self._claim(), self.context.actor, self.today()

        def run(session: Session, reason: str) -> int:
            return len(actions.bill_patient(session, actor, d.id, reason, on=on))

        return self._ask(
            "Bill patient instead",
            "What is open moves to the patient's account, never above the self-pay price; "
            "the claim closes.",
            run,
            f"Claim {d.number} billed to the patient instead; it is closed.",
            ok_text="Bill patient", placeholder="e.g. patient asked not to use insurance",
        )

    def write_off(self) -> ReasonDialog | None:
        d, actor, on = self._claim(), self.context.actor, self.today()

        def run(session: Session, reason: str) -> int:
            return len(actions.write_off(session, actor, d.id, reason, on=on))

        return self._ask(
            "Write off", "What is open is adjusted away on the payer's side; the claim closes.",
            run, f"Claim {d.number} written off; it is closed.",
            ok_text="Write off", placeholder="e.g. timely filing missed",
            permission=Permission.MONEY_CORRECT,
        )

    def replace(self, *, void: bool) -> ReasonDialog | None:
        d, actor, today = self._claim(), self.context.actor, self.today()
        what = "Void" if void else "Correct"

        def run(session: Session, reason: str) -> str:
            return actions.replace(session, actor, d.id, reason, void=void, today=today).number

        return self._ask(
            what,
            f"A new {'void' if void else 'corrected'} claim names the payer's claim number; "
            f"claim {d.number} closes.",
            run,
            f"Claim {{outcome}} {'voids' if void else 'corrects'} claim {d.number}.",
            ok_text=f"{what} claim",
            placeholder="e.g. wrong units on J0013" if not void else "e.g. billed the wrong payer",
        )

    def _cms1500(self) -> tuple[bytes, str]:
        """The claim on the CMS-1500, the form drawn too (for a payer taking an image)."""
        from ketadesk.documents.cms1500 import render_cms1500

        d = self._claim()
        with self.context.db.transaction() as session:  # the read is audited
            form = printed_claim(session, self.context.actor, d.id)
        return render_cms1500([form], mode="full"), f"CMS-1500 {d.number}.pdf"
