"""The numbers of the demo's scheduling history: how patients are treated, and how often.

Rates, windows and the reasons written on cancelled and discontinued sessions and series,
read by every part of :mod:`ketadesk.demo.history`. Changing one changes the demo's
history (the same seed then gives different data), never its shape.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ketadesk.clinic.models import ScreeningFlag

# The demo users who act on the floor (see generator.DEMO_USERS).
FRONT_DESK_USER = "frontdesk"
NURSE_USER = "nurse"

TICK = timedelta(minutes=15)  # the allocation grid
TICKS_PER_DAY = 96
STEP_WINDOW_DAYS = 60  # session steps are written from this many days before now on
BOOKING_HORIZON_DAYS = 35  # maintenance is booked this far ahead of today
ADMISSION_WAIT_DAYS = 42  # a new patient waits at most this long for a first session
SESSION_SEARCH_DAYS = 21  # a later session is looked for this long after its wanted day
FIRST_SESSION_AFTER = (3, 21)  # days from registration (or REMS enrolment) to session 1

# Who is treated at all.
NO_TREATMENT_RATE = 0.06  # consultation only, among those who could be treated
CONTRAINDICATIONS = frozenset(
    {
        ScreeningFlag.PSYCHOSIS_HISTORY,
        ScreeningFlag.ANEURYSMAL_VASCULAR_DISEASE,
        ScreeningFlag.INTRACEREBRAL_HEMORRHAGE,
        ScreeningFlag.PREGNANCY,
    }
)
# Which induction: most REMS-enrolled patients were enrolled for esketamine.
ESKETAMINE_RATE = 0.80
INDUCTION_MIX = (("iv-induction", 75.0), ("im-induction", 12.0), ("kap", 13.0))
# How patients respond (share, least and most relative fall of their score). With six doses
# a responder's score falls by about 0.9 of this: responders pass the 50% response line, and
# most of them fall under 5 (remission), as open-label ketamine series report.
RESPONSES = (
    ("responder", 0.62, 0.70, 1.00),
    ("partial", 0.23, 0.25, 0.50),
    ("none", 0.15, 0.0, 0.10),
)
# The chance to stop during an induction (after any session but the last), by response.
DISCONTINUE_RATE = {"responder": 0.06, "partial": 0.12, "none": 0.35}
MAINTENANCE_RATE = 0.60  # of completed inductions
MAINTENANCE_STOP_RATE = {"iv-booster": 0.12, "esketamine-maintenance": 0.05}  # per session
ESKETAMINE_WEEKLY_RATE = 0.40  # the rest every two weeks
RETURN_RATE = 0.15  # a new induction after the last series ended
RETURN_AFTER = (90, 365)  # days
# Session outcomes: the rest are attended.
CANCEL_RATE = 0.06
LATE_CANCEL_RATE = 0.02
NO_SHOW_RATE = 0.03
CONFIRM_RATE = 0.92  # sessions confirmed by phone two to five days ahead
CONFIRM_HOURS = (48, 120)
# Floor details.
INFUSION_MINUTES = (40, 55)
IV_DOSES = tuple(Decimal(n).scaleb(-2) for n in range(50, 101, 5))  # mg/kg: 0.50 … 1.00
ESKETAMINE_HIGH_DOSE_RATE = 0.60  # 84 mg from session 2 on; 56 mg otherwise
KAP_SUBLINGUAL_RATE = 0.80  # the rest of KAP is IM
REMS_LATE_FILING_RATE = 0.04
RECENT_UNFILED_RATE = 0.20  # of esketamine sessions in the last RECENT_UNFILED_DAYS days
RECENT_UNFILED_DAYS = 14
LOT_DAYS = 45  # a new lot of each drug about this often
TODAY_MIN_IN_CHAIRS = 2

CANCEL_REASONS = (
    "Patient ill",
    "Work conflict",
    "No ride home available",
    "Rescheduled by phone",
    "Family emergency",
    "Weather",
    "Prior authorisation pending",
)
LATE_CANCEL_REASONS = (
    "Patient ill",
    "No ride home available",
    "Car trouble",
    "Childcare fell through",
    "Work emergency",
)
NO_SHOW_REASONS = (
    "Did not arrive; no answer by phone",
    "Did not arrive",
    "Did not arrive; left a voicemail",
)
STOP_REASONS = (
    "Side effects not tolerated (nausea, dissociation)",
    "No improvement after several sessions; patient chose to stop",
    "Insurance did not approve the rest of the series",
    "Could not arrange a driver for each session",
    "Moved out of the area",
    "Admitted to hospital; treatment stopped",
)
MAINTENANCE_STOP_REASONS = (
    "In remission; maintenance stopped by the provider",
    "Patient chose to stop maintenance",
    "Insurance stopped covering maintenance",
    "Moved out of the area",
    "Switched to another treatment",
)
LEFT_REASON = "Patient left the practice"
NO_ROOM_REASON = "No chair time within three weeks; referred to another clinic"
SERIES_CANCEL_PREFIX = "series discontinued: "
