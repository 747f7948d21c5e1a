"""The Today area: the chair board of one location, refreshed every 30 seconds.

Flow: :meth:`TodayView.refresh` reads :func:`~ketadesk.scheduling.board.chair_board` for the
chosen location at ``clock()`` in a read-only session and hands each
:class:`~ketadesk.scheduling.board.ChairCard` to its :class:`ChairCardWidget` (one per chair,
kept across refreshes and laid out in as many columns as fit) and the REMS list to the
:class:`RemsPanel`. A card's button emits a step key; :meth:`TodayView.run_step` either
calls the floor service at once in one ``db.transaction()`` (confirm, check in, stop
infusion, start monitoring, discharge) or opens the step's dialog, which does the same when
its OK is pressed. A card's "Take payment…" (the patient just discharged from that chair)
opens the Billing area's payment dialog. Every refusal — a step out of order, discharge too
early, a role without the permission — is shown in words; after every action the board is
read again.

The 30-second timer runs while the view is shown; showing it again reads the board at once.
The clock is injectable (``clock``), so tests and screenshots can move time forward.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Permission
from ketadesk.clinic.locations import list_locations
from ketadesk.errors import KetaDeskError, NotFound
from ketadesk.scheduling import floor
from ketadesk.scheduling.board import Board, BoardSession, chair_board
from ketadesk.scheduling.calendar import calendar_window
from ketadesk.scheduling.changes import CancelResult
from ketadesk.scheduling.rems import RemsFormDue
from ketadesk.scheduling.series import REASON_LENGTH
from ketadesk.ui.billing.pdf import PdfButton
from ketadesk.ui.context import AppContext
from ketadesk.ui.forms import attempt
from ketadesk.ui.style import set_role
from ketadesk.ui.today import outcomes_badge
from ketadesk.ui.today.card import CARD_MIN_WIDTH, CARD_WIDTH, ChairCardWidget
from ketadesk.ui.today.dialogs import (
    CancelDialog,
    ChecklistDialog,
    DoseDialog,
    FiledDialog,
    FloorDialog,
    ObservationDialog,
    ScoreDialog,
    VitalsDialog,
)
from ketadesk.ui.today.rems_panel import RemsPanel
from ketadesk.ui.today.reschedule import RescheduleDialog
from ketadesk.ui.today.side_effect_dialog import SideEffectDialog
from ketadesk.ui.today.steps import TAKE_PAYMENT

REFRESH_MS = 30_000
CARD_SPACING = 14

# Steps done at once, without a dialog: key -> the floor service.
DIRECT_STEPS: dict[str, Callable[..., object]] = {
    "confirm": floor.confirm,
    "check_in": floor.check_in,
    "stop_infusion": floor.stop_infusion,
    "start_monitoring": floor.start_monitoring,
    "discharge": floor.discharge,
}
# Steps with a dialog: key -> (dialog class, its title).
DIALOG_STEPS: dict[str, tuple[type[FloorDialog], str]] = {
    "checklist": (ChecklistDialog, "Pre-dose checklist"),
    "dose": (DoseDialog, "Start dose"),
    "vitals": (VitalsDialog, "Record blood pressure"),
    "observation": (ObservationDialog, "Sedation / dissociation"),
    "score": (ScoreDialog, "Outcome score"),
    "side_effect": (SideEffectDialog, "Side effect"),
    outcomes_badge.ACK_STEP: (outcomes_badge.AcknowledgeAlertDialog, "Acknowledge alert"),
}


def day_heading(now: datetime) -> str:
    """``"Monday, December 7, 2026 · 10:32"``."""
    return f"{now:%A}, {now:%B} {now.day}, {now.year} · {now:%H:%M}"


class TodayView(QWidget):
    """The chair board with a location picker and the REMS forms list."""

    def __init__(
        self,
        context: AppContext,
        clock: Callable[[], datetime] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.context = context
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.board: Board | None = None
        self.cards: dict[int, ChairCardWidget] = {}
        self.dialog: QDialog | None = None  # the one open, if any
        self._columns = 0
        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 14)
        outer.setSpacing(10)
        outer.addLayout(self._header())
        self.banner = QLabel()
        self.banner.setObjectName("todayBanner")
        self.banner.setWordWrap(True)
        set_role(self.banner, "warning")
        self.banner.hide()
        outer.addWidget(self.banner)
        body = QHBoxLayout()
        body.setSpacing(14)
        body.addWidget(self._board_area(), 1)
        self.rems = RemsPanel(context.actor)
        self.rems.file_requested.connect(self.file_rems_form)
        body.addWidget(self.rems)
        outer.addLayout(body, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._load_locations()
        self.refresh()

    # --- building --------------------------------------------------------------------

    def _header(self) -> QVBoxLayout:
        """The title and the controls on one line, the day and the location beneath across
        the whole width (a chain's location names are long)."""
        lines = QVBoxLayout()
        lines.setSpacing(2)
        row = QHBoxLayout()
        title = QLabel("Today")
        title.setObjectName("pageTitle")
        self.when = QLabel()
        self.when.setObjectName("todayWhen")
        self.when.setWordWrap(True)
        set_role(self.when, "muted")
        row.addWidget(title)
        row.addStretch(1)
        lines.addLayout(row)
        lines.addWidget(self.when)
        row.addWidget(QLabel("Location"))
        self.location = QComboBox()
        self.location.setObjectName("todayLocation")
        self.location.setMinimumWidth(220)
        self.location.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.location.currentIndexChanged.connect(lambda _index: self.refresh())
        row.addWidget(self.location)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("todayRefresh")
        self.refresh_button.clicked.connect(self.refresh)
        row.addWidget(self.refresh_button)
        self.day_sheet_button = PdfButton(self._day_sheet, text="Day sheet")
        self.day_sheet_button.setObjectName("todayDaySheet")
        self.day_sheet_button.setToolTip("Today's sessions at this location, chair by chair")
        self.day_sheet_button.setEnabled(self.context.actor.can(Permission.SCHEDULE_VIEW))
        self.day_sheet_print = self.day_sheet_button.print_button()
        row.addWidget(self.day_sheet_button)
        row.addWidget(self.day_sheet_print)
        return lines

    def _day_sheet(self) -> tuple[bytes, str]:
        """The printed day sheet of the chosen location's local today."""
        from ketadesk.documents.day_sheet import render_day_sheet

        location_id = self.location_id()
        if location_id is None:
            raise NotFound("There is no active location yet. Add one in Settings.")
        with self.context.db.reading() as session:
            board = chair_board(session, self.context.actor, location_id, self.now())
            window = calendar_window(
                session, self.context.actor, location_id, board.now.date(), 1
            )
        data = render_day_sheet(window, clinic_name=window.location_name, printed_at=board.now)
        return data, f"day-sheet-{window.location_code}-{board.now.date().isoformat()}.pdf"

    def _board_area(self) -> QScrollArea:
        self.board_scroll = QScrollArea()
        self.board_scroll.setWidgetResizable(True)
        holder = QWidget()
        self.grid = QGridLayout(holder)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(CARD_SPACING)
        self.empty = QLabel("This location has no active chairs. Add chairs in Settings.")
        set_role(self.empty, "muted")
        self.empty.hide()
        self.grid.addWidget(self.empty, 0, 0)
        self.board_scroll.setWidget(holder)
        self.board_scroll.viewport().installEventFilter(self)
        return self.board_scroll

    def _load_locations(self) -> None:
        with self.context.db.reading() as session:
            locations = list_locations(session, self.context.actor)
            choices = [(loc.id, f"{loc.name} ({loc.code})") for loc in locations]
        self.location.blockSignals(True)
        for location_id, text in choices:
            self.location.addItem(text, location_id)
        self.location.blockSignals(False)

    # --- reading the board -----------------------------------------------------------

    def now(self) -> datetime:
        return self.clock()

    def location_id(self) -> int | None:
        data = self.location.currentData()
        return int(data) if data is not None else None

    def choose_location(self, location_id: int) -> None:
        """Show the board of ``location_id`` (as picking it in the drop-down does)."""
        self.location.setCurrentIndex(self.location.findData(location_id))

    def refresh(self) -> None:
        """Read the board again and redraw every card and the REMS list."""
        location_id = self.location_id()
        if location_id is None:
            self._say("There is no active location yet. Add one in Settings.")
            return
        try:
            with self.context.db.reading() as session:
                board = chair_board(session, self.context.actor, location_id, self.now())
        except KetaDeskError as error:
            self._say(str(error))
            return
        self.banner.hide()
        self.board = board
        self.when.setText(f"{day_heading(board.now)} · {board.location_name}")
        self._show_cards(board)
        self.rems.show_forms(board.rems_due)

    def _say(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _show_cards(self, board: Board) -> None:
        wanted = {card.chair_id for card in board.cards}
        for chair_id in [c for c in self.cards if c not in wanted]:
            self.cards.pop(chair_id).deleteLater()
        for card in board.cards:
            widget = self.cards.get(card.chair_id)
            if widget is None:
                widget = ChairCardWidget(self.context.actor)
                widget.step_requested.connect(self.run_step)
                self.cards[card.chair_id] = widget
            widget.show_card(card, board.now)
        self.empty.setVisible(not board.cards)
        self._columns = 0  # lay out again
        self._lay_out()

    def _lay_out(self) -> None:
        """As many columns of cards as the board's width holds (each at least
        :data:`CARD_MIN_WIDTH`), the row shared out among them up to :data:`CARD_WIDTH` each."""
        room = self.board_scroll.viewport().width()
        columns = max(1, (room + CARD_SPACING) // (CARD_MIN_WIDTH + CARD_SPACING))
        if self.board is not None and self.board.cards:
            columns = min(columns, len(self.board.cards))
        share = (room - (columns - 1) * CARD_SPACING) // columns
        width = max(CARD_MIN_WIDTH, min(CARD_WIDTH, share))
        for widget in self.cards.values():
            widget.set_card_width(width)
        if columns == self._columns or self.board is None:
            return
        self._columns = columns
        for widget in self.cards.values():
            self.grid.removeWidget(widget)
        for index, card in enumerate(self.board.cards):
            self.grid.addWidget(
                self.cards[card.chair_id],
                index // columns,
                index % columns,
                Qt.AlignmentFlag.AlignTop,
            )
        self.grid.setColumnStretch(columns, 1)
        self.grid.setRowStretch(len(self.board.cards) // columns + 1, 1)

    def showEvent(self, event: QShowEvent) -> None:
        """Coming back to Today: read the board at once, then every 30 seconds."""
        super().showEvent(event)
        if not self.timer.isActive():
            self.refresh()
            self.timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        """Another area is shown: stop reading the board meanwhile."""
        super().hideEvent(event)
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Lay the cards out again when the board's viewport changes width."""
        if watched is self.board_scroll.viewport() and event.type() == QEvent.Type.Resize:
            self._lay_out()
        return super().eventFilter(watched, event)

    def card_widget(self, chair_name: str) -> ChairCardWidget:
        """The card of the chair called ``chair_name`` (KeyError when there is none)."""
        if self.board is None:
            raise KeyError(chair_name)
        return self.cards[self.board.card(chair_name).chair_id]

    # --- acting ----------------------------------------------------------------------

    def run_step(self, key: str, shown: BoardSession) -> None:
        """Do step ``key`` for ``shown``: at once, or through its dialog."""
        if key in DIRECT_STEPS:
            service = DIRECT_STEPS[key]
            self.act(
                lambda session: service(
                    session, self.context.actor, shown.session_id, now=self.now()
                )
            )
        elif key == TAKE_PAYMENT.key:
            self.take_payment(shown)
        elif key in DIALOG_STEPS:
            dialog_type, title = DIALOG_STEPS[key]
            dialog = dialog_type(self.context, shown, self.now, title, parent=self)
            if isinstance(dialog, ChecklistDialog):
                dialog.reschedule_requested.connect(lambda: self.reschedule(shown))
                dialog.cancel_requested.connect(
                    lambda: self.cancel(
                        shown,
                        ("pre-dose checklist failed: " + dialog.failure_summary())[:REASON_LENGTH],
                    )
                )
            self._open(dialog)

    def take_payment(self, shown: BoardSession) -> None:
        """Check-out: the Billing area's payment dialog for the patient who just left."""
        from ketadesk.ui.billing.payment_dialog import TakePaymentDialog

        self._open(TakePaymentDialog(self.context, shown.patient_id, parent=self))

    def act(self, action: Callable[[Session], object]) -> object | None:
        """Run ``action`` in one write transaction, show a refusal in words, then refresh."""

        def run() -> object:
            with self.context.db.transaction() as session:
                return action(session)

        outcome = attempt(self, run)
        self.refresh()
        return outcome

    def _open(self, dialog: QDialog) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self.refresh())
        dialog.open()

    def reschedule(self, shown: BoardSession) -> None:
        """Offer other times for ``shown`` (after a failed checklist)."""
        self._close_dialog()
        self._open(RescheduleDialog(self.context, self._fresh(shown), self.now, parent=self))

    def cancel(self, shown: BoardSession, reason: str = "") -> None:
        """Ask for a reason and cancel ``shown``; say who on the waitlist could take the slot."""
        self._close_dialog()
        dialog = CancelDialog(
            self.context, self._fresh(shown), self.now, "Cancel session", parent=self
        )
        dialog.form.set_values({"reason": reason})
        dialog.accepted.connect(lambda: self._offers(dialog.outcome))
        self._open(dialog)

    def _fresh(self, shown: BoardSession) -> BoardSession:
        """``shown`` as the board has it now (the checklist just changed its version)."""
        self.refresh()
        for card in self.board.cards if self.board else ():
            for candidate in (card.current, card.next_up):
                if candidate is not None and candidate.session_id == shown.session_id:
                    return candidate
        return shown

    def _close_dialog(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.done(QDialog.DialogCode.Rejected)

    def _offers(self, outcome: object) -> None:
        if isinstance(outcome, CancelResult) and outcome.offers:
            names = "\n".join(f"• {o.patient_name} (MRN {o.mrn})" for o in outcome.offers)
            QMessageBox.information(
                self, "Waitlist", f"The slot is free. Waiting for an earlier slot:\n{names}"
            )

    def file_rems_form(self, form: RemsFormDue) -> None:
        if self.board is None:
            return
        self._open(FiledDialog(self.context, form, self.board.now.date(), parent=self))
