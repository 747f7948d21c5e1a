"""Side effects and adverse events of a treatment session, and the provider review a
serious one calls for.

* :mod:`.models` — the two append-only tables: :class:`~.models.SideEffect` (one row per
  event, a correction is a new row naming the one it replaces) and
  :class:`~.models.ReviewClearance` (a provider's note clearing a patient's review).
* :mod:`.recording` — recording and correcting a side effect, and the floor's rule that a
  blood pressure above the clinic's limit after the dose is one.
* :mod:`.review` — whether a patient's bookings need a provider's review, the booking
  warning, the pre-dose checklist's refusal and the clearing.
"""
