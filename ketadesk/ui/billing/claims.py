"""Billing → Claims: insurance claims from the charges billed to insurers to the payer's answer.

Flow: the filters on top narrow the list by status and payer; each choice carries its count
and the amount billed (:func:`ketadesk.billing.claims.views.status_counts`). The list
(:func:`~ketadesk.billing.claims.views.list_claims`, newest date of service first) shows
number, patient, payer, date of service, status, billed, still open, the timely-filing
deadline and how many problems the scrubber found. Selecting a claim reads its detail
(:func:`~ketadesk.billing.claims.views.claim_detail`) into the
:class:`~ketadesk.ui.billing.claims_detail.ClaimPane` below, where the actions on one claim
live.

The tab's own actions:

* "Build claims" runs :func:`~ketadesk.billing.claims.building.build_claims` in a worker
  with a progress dialog and says its result sentence;
* "Check again" runs the scrubber (:func:`~ketadesk.billing.claims.scrubber.scrub`)
  on the selected claims, or on every draft and ready claim when none is selected;
* "Send batch…" opens :class:`~ketadesk.ui.billing.claims_remit.SendBatchDialog` (a payer,
  then where to save the 837P file);
* "Import 835…" asks for a file and opens
  :class:`~ketadesk.ui.billing.claims_remit.RemitPreviewDialog`, which posts only on "Post";
* "Follow-up" opens the worklist; double-clicking an item opens its claim here.

After any change the counts, the list and the open claim are read again, and
:attr:`ClaimsTab.changed` tells the other tabs. Refusals are said in words under the list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.billing.claims.building import BuildResult, build_claims
from ketadesk.billing.claims.models import ClaimStatus
from ketadesk.billing.claims.scrubber import scrub
from ketadesk.billing.claims.views import (
    ClaimDetail,
    ClaimRow,
    StatusCount,
    claim_detail,
    list_claims,
    status_counts,
)
from ketadesk.billing.edi.model import Remittance
from ketadesk.clinic.payers import list_payers
from ketadesk.errors import KetaDeskError
from ketadesk.money import ZERO
from ketadesk.ui.billing import (
    Clock,
    Notice,
    fill_table,
    guard,
    make_table,
    select_key,
    selected_keys,
)
from ketadesk.ui.billing.claims_detail import ClaimPane
from ketadesk.ui.billing.claims_followup import FollowUpDialog
from ketadesk.ui.billing.claims_remit import (
    ChoosePath,
    RemitPreviewDialog,
    SendBatchDialog,
    read_835_file,
    sent_sentence,
)
from ketadesk.ui.billing.pdf import Opener
from ketadesk.ui.context import AppContext
from ketadesk.ui.format import count_text, dollars, us_date
from ketadesk.ui.forms import attempt
from ketadesk.ui.style import ACCENT, LINE, set_role
from ketadesk.ui.workers import Progress, Worker, run_with_progress

LIST_LIMIT = 500  # the newest claims; narrow by status or payer to reach older ones
LIST_COLUMNS = (
    "Claim",
    "Patient",
    "Payer",
    "Service",
    "Status",
    "Billed",
    "Open",
    "File by",
    "Problems",
)


def ask_835_path(parent: QWidget | None, _suggested: str) -> str:
    """The platform's "Open" dialog for an 835 file; "" when cancelled."""
    path, _filter = QFileDialog.getOpenFileName(
        parent, "Import an 835 remittance", str(Path.home()), "X12 835 (*.835 *.txt *.x12 *)"
    )
    return path


PAYER_CHARACTERS = 24  # a longer payer name is shortened in the list; the detail has it whole


def shortened(text: str, limit: int) -> str:
    """``text`` cut at a word to ``limit`` characters with an ellipsis, when longer."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" (,")
    return f"{cut}…"


def list_cells(row: ClaimRow) -> tuple[str, ...]:
    return (
        row.number,
        row.patient_name,
        shortened(row.payer_name, PAYER_CHARACTERS),
        us_date(row.service_from),
        row.status.label,
        dollars(row.billed),
        dollars(row.open),
        us_date(row.filing_deadline),
        count_text(row.problem_count, "problem", "problems") if row.problem_count else "",
    )


def choice_text(name: str, count: int, billed: str) -> str:
    return f"{name} ({count:,} · {billed})"


class ClaimsTab(QWidget):
    """Filters and actions on top, the list, and the selected claim below it."""

    changed = Signal()

    def __init__(
        self,
        context: AppContext,
        *,
        today: Clock | None = None,
        opener: Opener | None = None,
        choose_835: ChoosePath | None = None,
        choose_837: ChoosePath | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.today: Clock = today or date.today
        self.choose_835 = choose_835 or ask_835_path
        self.choose_837 = choose_837
        self.rows: list[ClaimRow] = []
        self.worker: Worker[BuildResult] | None = None
        self.dialog: QWidget | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(8)
        column.addLayout(self._filters())
        column.addLayout(self._actions())
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("claimSplit")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(9)
        self.splitter.setStyleSheet(
            f"QSplitter::handle:vertical {{ background: {LINE}; margin: 4px 0; }}"
            f" QSplitter::handle:vertical:hover {{ background: {ACCENT}; }}"
        )
        self.table = make_table(
            LIST_COLUMNS, money_columns=(5, 6), multi=True, object_name="claimList",
        )  # "Problems", the last column, takes the room left: no gap between the names
        self.table.setMinimumHeight(140)
        self.table.itemSelectionChanged.connect(self._selected)
        self.splitter.addWidget(self.table)
        self.pane = ClaimPane(context, today=self.today, opener=opener)
        self.pane.setMinimumHeight(300)
        self.pane.changed.connect(self._pane_changed)
        self.splitter.addWidget(self.pane)
        self.splitter.setStretchFactor(0, 1)  # the list and the claim share the height
        self.splitter.setStretchFactor(1, 1)
        column.addWidget(self.splitter, 1)
        self.refresh()

    # --- building ----------------------------------------------------------------------

    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status = QComboBox()
        self.status.setObjectName("claimStatus")
        self.status.setMinimumContentsLength(32)
        self.payer = QComboBox()
        self.payer.setObjectName("claimPayer")
        self.payer.setMinimumContentsLength(22)
        for combo in (self.status, self.payer):
            # as wide as 22 characters, not as the longest payer's name with its counts: the
            # list that drops down shows every choice whole
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.view().setTextElideMode(Qt.TextElideMode.ElideNone)
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        row.addWidget(QLabel("Status"))
        row.addWidget(self.status)
        row.addSpacing(8)
        row.addWidget(QLabel("Payer"))
        row.addWidget(self.payer)
        row.addStretch(1)
        self.count = QLabel()
        self.count.setObjectName("claimCount")
        self.count.setWordWrap(True)  # a chain's totals are long; they wrap rather than widen
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        set_role(self.count, "muted")
        row.addWidget(self.count, 2)
        return row

    def _actions(self) -> QHBoxLayout:
        row = QHBoxLayout()
        actor = self.context.actor

        def button(text: str, name: str, tip: str, slot: Callable[[], object]) -> QPushButton:
            made = QPushButton(text)
            made.setObjectName(name)
            made.clicked.connect(lambda: slot())
            guard(made, actor, Permission.CLAIM_WORK, tip)
            row.addWidget(made)
            return made

        self.build_button = button(
            "Build claims", "buildClaims",
            "A claim for each patient, payer and day with charges billed to an insurer.",
            self.build,
        )
        set_role(self.build_button, "primary")
        self.check_button = button(
            "Check again", "checkClaims",
            "Run the payer checks again on the selected claims (or every unsent claim).",
            self.check_again,
        )
        self.send_button = button(
            "Send batch…", "sendBatch", "Save an 837P file of a payer's ready claims.",
            self.send_batch,
        )
        self.import_button = button(
            "Import 835…", "import835",
            "Read a payer's 835 remittance and see what it posts before posting it.",
            self.import_835,
        )
        self.follow_button = QPushButton("Follow-up")
        self.follow_button.setObjectName("followUp")
        self.follow_button.setToolTip("Claims to chase, most urgent deadline first.")
        self.follow_button.clicked.connect(self.follow_up)
        row.addWidget(self.follow_button)
        self.notice = Notice()
        self.notice.setObjectName("claimsNotice")
        row.addWidget(self.notice, 1)
        return row

    # --- reading -----------------------------------------------------------------------

    def status_filter(self) -> ClaimStatus | None:
        value = self.status.currentData()
        return ClaimStatus(str(value)) if value else None

    def payer_filter(self) -> int | None:
        value = self.payer.currentData()
        return int(value) if value is not None else None

    def refresh(self) -> None:
        """Read the counts, the list (keeping the selection) and the open claim again."""
        actor = self.context.actor
        with self.context.db.reading() as session:
            counts = status_counts(session, actor)
            payers = [(p.id, p.name) for p in list_payers(session, actor)]
            self.rows = list_claims(
                session,
                actor,
                status=self.status_filter(),
                payer_id=self.payer_filter(),
                limit=LIST_LIMIT,
            )
        self._fill_filters(counts, payers)
        self.table.blockSignals(True)
        fill_table(self.table, [(row.id, list_cells(row)) for row in self.rows])
        self.table.blockSignals(False)
        self._count()
        self._selected()

    def _fill_filters(
        self, counts: list[StatusCount], payers: list[tuple[int, str]]
    ) -> None:
        totals = [c for c in counts if not c.payer_name]
        per_payer: dict[str, tuple[int, Decimal]] = {}
        for c in counts:
            if c.payer_name:
                n, billed = per_payer.get(c.payer_name, (0, ZERO))
                per_payer[c.payer_name] = (n + c.count, billed + c.billed)
        all_count = sum(c.count for c in totals)
        all_billed = sum((c.billed for c in totals), ZERO)
        everything = choice_text("All statuses", all_count, dollars(all_billed))
        statuses: list[tuple[object, str]] = [(None, everything)]
        statuses += [
            (c.status.value, choice_text(c.status.label, c.count, dollars(c.billed)))
            for c in totals
        ]
        chosen = self.status_filter()
        if chosen is not None and chosen.value not in {value for value, _ in statuses}:
            statuses.append((chosen.value, choice_text(chosen.label, 0, dollars(ZERO))))
        _refill(self.status, statuses)
        payer_choices: list[tuple[object, str]] = [(None, "All payers")]
        for payer_id, name in payers:
            n, billed = per_payer.get(name, (0, ZERO))
            if n or payer_id == self.payer_filter():
                payer_choices.append((payer_id, choice_text(name, n, dollars(billed))))
        _refill(self.payer, payer_choices)

    def _count(self) -> None:
        billed = sum((r.billed for r in self.rows), ZERO)
        still = sum((r.open for r in self.rows), ZERO)
        text = (
            f"{count_text(len(self.rows), 'claim', 'claims')} · {dollars(billed)} billed · "
            f"{dollars(still)} open"
        )
        if len(self.rows) >= LIST_LIMIT:
            text += f" (the newest {LIST_LIMIT:,}; narrow by status or payer)"
        self.count.setText(text)

    def selected_ids(self) -> list[int]:
        return [int(str(key)) for key in selected_keys(self.table)]

    def _selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            self.pane.show_claim(None)
            return
        claim_id, actor = ids[0], self.context.actor

        def read() -> ClaimDetail:
            with self.context.db.reading() as session:
                return claim_detail(session, actor, claim_id)

        self.pane.show_claim(self.notice.attempt(read))

    def open_claim(self, claim_id: int) -> bool:
        """Select ``claim_id``, clearing the filters when they hide it."""
        if select_key(self.table, claim_id):
            return True
        for combo in (self.status, self.payer):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.refresh()
        return select_key(self.table, claim_id)

    def _pane_changed(self) -> None:
        self.refresh()
        self.changed.emit()

    def _done(self, text: str) -> None:
        self.refresh()
        self.notice.say(text)
        self.changed.emit()

    # --- acting ------------------------------------------------------------------------

    def build(self) -> Worker[BuildResult]:
        """Build claims from every unclaimed insurer charge, in a worker; say the result."""
        actor, today = self.context.actor, self.today()

        def job(session: Session, progress: Progress) -> BuildResult:
            progress.report(0, 0, "Building claims from the charges billed to insurers…")
            return build_claims(session, actor, today=today)

        self.build_button.setEnabled(False)
        self.worker = run_with_progress(
            self, self.context.db, "Building claims", job, write=True,
            on_done=lambda result: self._done(result.sentence),
            on_failed=self._failed,
        )
        self.worker.signals.finished.connect(self._built)
        return self.worker

    def _built(self) -> None:
        self.worker = None
        self.build_button.setEnabled(self.context.actor.can(Permission.CLAIM_WORK))

    def _failed(self, error: object) -> None:
        self.notice.refuse(
            error if isinstance(error, KetaDeskError)
            else KetaDeskError(f"building claims stopped: {error}")
        )

    def check_again(self) -> int | None:
        """Scrub the selected claims (or every draft and ready claim); say how many pass."""
        chosen, actor, today = self.selected_ids(), self.context.actor, self.today()

        def run() -> tuple[int, int]:
            with self.context.db.transaction() as session:
                claims, ready = scrub(session, actor, today=today, claim_ids=chosen or None)
                return len(claims), ready

        done = self.notice.attempt(run)
        if done is None:
            return None
        checked, ready = done
        if not checked:
            self.notice.say("Only unsent claims (draft or ready) are checked; none was chosen.")
            return 0
        self._done(
            f"Checked {count_text(checked, 'claim', 'claims')}: {ready} ready to send, "
            f"{checked - ready} with problems to fix."
        )
        return ready

    def send_batch(self) -> SendBatchDialog:
        dialog = SendBatchDialog(
            self.context, today=self.today, choose=self.choose_837, parent=self
        )
        dialog.sent.connect(lambda result: self._done(sent_sentence(result)))
        self._show(dialog)
        return dialog

    def import_835(self) -> RemitPreviewDialog | None:
        """Ask for an 835 file, read it and show what it would post."""
        chosen = self.choose_835(self, "")
        if not chosen:
            return None
        path = Path(chosen)
        read = attempt(self, lambda: read_835_file(path))
        if read is None:
            return None
        shown = None
        for remit, sha256 in read.payments:  # one preview per payment in the file
            shown = self.preview_remittance(remit, sha256=sha256, file_name=path.name)
        return shown

    def preview_remittance(
        self, remit: Remittance, *, sha256: str | None, file_name: str = ""
    ) -> RemitPreviewDialog:
        """The preview of ``remit`` (from a file or typed from a paper EOB); posts on "Post"."""
        dialog = RemitPreviewDialog(
            self.context, remit, sha256=sha256, file_name=file_name, parent=self
        )
        dialog.posted.connect(lambda result: self._done(result.sentence))
        self._show(dialog)
        return dialog

    def follow_up(self) -> FollowUpDialog:
        dialog = FollowUpDialog(self.context, today=self.today, parent=self)
        dialog.open_claim.connect(self.open_claim)
        self._show(dialog)
        return dialog

    def _show(self, dialog: QWidget) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        open_dialog = getattr(dialog, "open", None)
        if callable(open_dialog):
            open_dialog()


def _refill(combo: QComboBox, choices: list[tuple[object, str]]) -> None:
    """Replace ``combo``'s items, keeping the chosen value, without signalling."""
    chosen = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for value, text in choices:
        combo.addItem(text, value)
    index = combo.findData(chosen) if chosen is not None else 0
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)
