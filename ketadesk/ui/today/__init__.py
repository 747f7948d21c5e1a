"""The Today area of the window: the chair board of one location.

* ``view`` — :class:`TodayView`: the location picker, the chair cards, the REMS list, the
  30-second refresh and the actions;
* ``card`` — one chair's card; ``steps`` — which buttons a card offers to which role;
* ``dialogs`` — checklist, dose, blood pressure, observation, score, cancel, REMS filed;
* ``reschedule`` — pick another time after a failed pre-dose checklist;
* ``rems_panel`` — the REMS monitoring forms due.

Nothing here holds a rule: the board's data comes from :mod:`ketadesk.scheduling.board` and
every step calls :mod:`ketadesk.scheduling.floor` (or :mod:`~ketadesk.scheduling.changes`,
:mod:`~ketadesk.scheduling.rems`), which the command line calls too.
"""

from ketadesk.ui.today.view import TodayView

__all__ = ["TodayView"]
