"""The clinic's blood-pressure limit for a dose: one home for the floor and the side effects.

Dose only below these. Esketamine raises blood pressure for about two hours, and its label
asks to weigh the risk when the baseline is raised; KetaDesk's threshold is below 150/100 for
esketamine and below 160/100 for ketamine. The pre-dose checklist refuses a dose at or above
the limit (:mod:`~ketadesk.scheduling.floor`), and a reading at or above it after the dose is
recorded as a side effect (:mod:`~ketadesk.scheduling.side_effects.recording`).
"""

from __future__ import annotations

from ketadesk.clinic.models import Modality

ESKETAMINE_MAX_SYSTOLIC = 150
KETAMINE_MAX_SYSTOLIC = 160
MAX_DIASTOLIC = 100


def blood_pressure_limit(modality: Modality) -> tuple[int, int]:
    """``(systolic, diastolic)``: a reading must stay below both for ``modality``."""
    systolic = ESKETAMINE_MAX_SYSTOLIC if modality is Modality.ESKETAMINE else KETAMINE_MAX_SYSTOLIC
    return systolic, MAX_DIASTOLIC


def above_limit_words(modality: Modality, systolic: int, diastolic: int) -> str | None:
    """``"blood pressure 172/98 is not below 160/100"`` when the reading reaches the limit,
    else ``None``."""
    max_systolic, max_diastolic = blood_pressure_limit(modality)
    if systolic < max_systolic and diastolic < max_diastolic:
        return None
    return f"blood pressure {systolic}/{diastolic} is not below {max_systolic}/{max_diastolic}"
