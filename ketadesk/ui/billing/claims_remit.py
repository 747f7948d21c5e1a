"""A payer's answer in, and a batch of claims out: the 835 preview and the 837P batch.

**Importing an 835.** :func:`read_835_file` reads the file a person chose (the X12 reader,
``ketadesk.billing.edi.x835.read_835``, is wired when it is in the build) and hands its
:class:`~ketadesk.billing.edi.model.Remittance` and SHA-256 to :class:`RemitPreviewDialog`.
The dialog plans the posting with :func:`ketadesk.billing.claims.remittance.plan` (which
writes nothing) and lists, claim by claim, what the payer pays, what is written down, the
patient's share and what is held as denied, with the reason codes in words; claims that
match nothing or disagree say why and wait for a person. Nothing posts until "Post": then
one transaction plans again and :func:`~ketadesk.billing.claims.remittance.post` writes it;
the result's sentence is shown. A file imported before, or one whose total does not add
up, cannot be posted, and the dialog says so.

**Sending a batch.** :class:`SendBatchDialog` lists the payers with ready claims; after a
payer is chosen it asks where to save the 837P file and calls the export service
(``ketadesk.billing.claims.export.export_batch``) in one transaction, writing the file
privately (it names patients) under a temporary name that is renamed when whole. Until the
export is in the build the dialog says so, and claims are sent one by one with "Mark sent…".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing.claims import remittance
from ketadesk.billing.claims.export import ExportResult, export_batch
from ketadesk.billing.claims.models import ClaimStatus
from ketadesk.billing.claims.remittance import ClaimPlan, PostResult, RemitFile, RemitPlan
from ketadesk.billing.claims.views import list_claims
from ketadesk.billing.edi.model import Remittance
from ketadesk.clinic.payers import list_payers
from ketadesk.money import ZERO
from ketadesk.ui.billing import Clock, Notice, fill_table, guard, make_table
from ketadesk.ui.context import AppContext
from ketadesk.ui.flow import wrap_words
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.style import set_role

PLAN_COLUMNS = (
    "Claim",
    "Patient",
    "Billed",
    "Payer pays",
    "Adjusted",
    "Patient's share",
    "Held",
    "Becomes",
    "What happens",
)
ChoosePath = Callable[[QWidget | None, str], str]  # parent, suggested name -> path or ""


# --- the 835 ---------------------------------------------------------------------------


def read_835_file(path: Path) -> RemitFile:
    """The payments in the 835 file at ``path`` (raises :class:`InvalidValue` in words)."""
    return remittance.read_file(path)


def what_happens(claim: ClaimPlan) -> str:
    """One claim payment's fate in words: why it waits, or the shares and denials."""
    return "; ".join(claim.what_happens) or "Paid; the rest written down by contract"


def plan_cells(claim: ClaimPlan) -> tuple[str, ...]:
    p = claim.payment
    return (
        claim.claim_number,
        claim.patient_name or p.patient_name,
        dollars(p.billed),
        dollars(p.paid),
        dollars(claim.total("adjusted")),
        dollars(claim.total("patient_share")),
        dollars(claim.total("held")),
        claim.outcome.label if claim.outcome is not None else "—",
        what_happens(claim),
    )


def plan_summary(plan: RemitPlan) -> str:
    """What posting does, in one sentence (or why it cannot)."""
    if plan.problems:
        return "This remittance cannot be posted: " + "; ".join(plan.problems) + "."
    if plan.already_imported:
        return "This remittance was imported before; posting it again would post nothing."
    posted = [c for c in plan.claims if c.postable]
    share = sum((c.total("patient_share") for c in posted), ZERO)
    text = (
        f"Post {count_text(len(posted), 'claim payment', 'claim payments')}: "
        f"{dollars(plan.posts)} from the payer, {dollars(share)} moved to patients."
    )
    if plan.waiting:
        text += f" {count_text(len(plan.waiting), 'payment waits', 'payments wait')} for a person."
    return text


class RemitPreviewDialog(QDialog):
    """What a remittance will post, claim by claim; "Post" writes it, "Cancel" nothing."""

    posted = Signal(object)  # the PostResult

    def __init__(
        self,
        context: AppContext,
        remit: Remittance,
        *,
        sha256: str | None,
        file_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.remit = remit
        self.sha256 = sha256
        self.file_name = file_name
        self.outcome: PostResult | None = None
        self.setWindowTitle(f"Import 835 — {file_name or remit.trace_number}")
        self.setMinimumSize(1000, 460)
        column = QVBoxLayout(self)
        heading = QLabel(
            f"<b>{remit.payer_name}</b> · {remit.method} {remit.trace_number} · paid "
            f"{us_date(remit.paid_on)} · {dollars(remit.total_paid)} for "
            f"{count_text(len(remit.claims), 'claim', 'claims')}"
        )
        heading.setObjectName("dialogHeading")
        heading.setWordWrap(True)
        column.addWidget(heading)
        self.summary = QLabel()
        self.summary.setObjectName("remitSummary")
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        self.table = make_table(
            PLAN_COLUMNS, money_columns=(2, 3, 4, 5, 6), stretch=8, object_name="remitPlan"
        )
        wrap_words(self.table)
        column.addWidget(self.table, 1)
        self.notice = Notice()
        self.notice.setObjectName("remitNotice")
        column.addWidget(self.notice)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.post_button.setText("Post")
        set_role(self.post_button, "primary")
        self.buttons.accepted.connect(self.post)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self.plan: RemitPlan | None = None
        self.notice.attempt(self._preview)

    @property
    def post_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _plan(self, session: Session) -> RemitPlan:
        return remittance.plan(session, self.context.actor, self.remit, sha256=self.sha256)

    def _preview(self) -> None:
        with self.context.db.reading() as session:
            self.plan = self._plan(session)
        plan = self.plan
        fill_table(self.table, [(c.claim_number, plan_cells(c)) for c in plan.claims])
        self.summary.setText(plan_summary(plan))
        set_role(self.summary, "error" if plan.problems or plan.already_imported else "")
        may = guard(self.post_button, self.context.actor, Permission.CLAIM_WORK)
        self.post_button.setEnabled(
            may and not plan.problems and not plan.already_imported and bool(plan.claims)
        )

    def post(self) -> PostResult | None:
        """Post the remittance in one transaction (planned again inside it); close."""

        def run() -> PostResult:
            with self.context.db.transaction() as session:
                return remittance.post(
                    session, self.context.actor, self._plan(session), file_name=self.file_name
                )

        result = self.notice.attempt(run)
        if result is None:
            return None
        self.outcome = result
        self.posted.emit(result)
        self.accept()
        return result


# --- the 837P batch --------------------------------------------------------------------


def ask_837_path(parent: QWidget | None, suggested_name: str) -> str:
    """The platform's "Save as" dialog for an 837P file; "" when cancelled."""
    start = str(Path.home() / suggested_name)
    path, _filter = QFileDialog.getSaveFileName(
        parent, "Save the 837P batch as", start, "X12 837P (*.837 *.txt *.x12)"
    )
    return path


class SendBatchDialog(QDialog):
    """Choose a payer with ready claims, then where to save their 837P file."""

    sent = Signal(object)  # the export service's result

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock,
        choose: ChoosePath | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today = today
        self.choose = choose or ask_837_path
        self.export: Callable[..., ExportResult] = export_batch
        self.setWindowTitle("Send a batch of claims")
        self.setMinimumWidth(520)
        column = QVBoxLayout(self)
        explain = QLabel(
            "Every ready claim for the payer goes into one 837P file, checked against the "
            "implementation guide before it is written; the claims are marked sent."
        )
        explain.setWordWrap(True)
        column.addWidget(explain)
        form = QFormLayout()
        self.payer = QComboBox()
        self.payer.setObjectName("batchPayer")
        form.addRow("Payer", self.payer)
        column.addLayout(form)
        self.notice = Notice()
        self.notice.setObjectName("batchNotice")
        column.addWidget(self.notice)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button.setText("Save 837P…")
        set_role(self.ok_button, "primary")
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)
        column.addWidget(self.buttons)
        self._fill()

    @property
    def ok_button(self) -> QPushButton:
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _fill(self) -> None:
        actor = self.context.actor
        with self.context.db.reading() as session:
            ready = list_claims(session, actor, status=ClaimStatus.READY)
            payers = [(p.id, p.name) for p in list_payers(session, actor)]
        for payer_id, name in payers:
            mine = [row for row in ready if row.payer_name == name]
            if mine:
                billed = sum((row.billed for row in mine), ZERO)
                self.payer.addItem(
                    f"{name} — {count_text(len(mine), 'ready claim', 'ready claims')}, "
                    f"{dollars(billed)}",
                    payer_id,
                )
        may = guard(self.ok_button, actor, Permission.CLAIM_WORK)
        self.ok_button.setEnabled(may and self.payer.count() > 0)
        if not self.payer.count():
            self.notice.say("No claim is ready to send. Check the drafts and fix their problems.")

    def send(self) -> object:
        """Ask where to save, export in one transaction, write the file; close."""
        payer_id = self.payer.currentData()
        if payer_id is None:
            return None
        export, actor, today = self.export, self.context.actor, self.today()
        name = self.payer.currentText().split(" — ")[0]
        chosen = self.choose(self, f"{name} {today:%Y-%m-%d}.837".replace("/", "-"))
        if not chosen:
            return None
        path = Path(chosen)

        def run() -> object:
            with self.context.db.transaction() as session:
                # the service writes the file last, inside the transaction: no file, no "sent"
                now = datetime.now(UTC).astimezone()
                return export(session, actor, int(payer_id), today=today, now=now, out=path)

        result = self.notice.attempt(run)
        if result is None:
            return None
        self.sent.emit(result)
        self.accept()
        return result


def sent_sentence(result: object, path_hint: str = "") -> str:
    """``"Sent 3 claims in batch 12."`` from the export service's result."""
    ids = getattr(result, "claim_ids", ())
    batch = getattr(result, "batch_id", "")
    text = f"Sent {count_text(len(ids), 'claim', 'claims')} in 837P batch {batch}"
    return text + (f", saved to {path_hint}." if path_hint else ".")


__all__ = [
    "RemitPreviewDialog",
    "SendBatchDialog",
    "plan_summary",
    "read_835_file",
    "what_happens",
]
