"""One workstation of the booking race, run as its own process by test_booking_race.py.

Usage: ``race_booker.py URL PATIENT_ID CHAIR_ID STARTS_AT``. The process opens its own
:class:`~ketadesk.db.Database`, connects, prints ``ready`` and blocks reading a line from
standard input; the test writes ``go`` to every process at once. It then books one
``iv-booster`` session and prints one JSON line: ``{"won": id}``, or
``{"taken": message, "session_id": id}`` when refused with ``SlotTaken``, or
``{"error": text}`` for anything else.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text

from ketadesk.access.permissions import Actor, Role
from ketadesk.clinic.models import Chair, Patient
from ketadesk.db import Database
from ketadesk.errors import SlotTaken
from ketadesk.scheduling.booking import book_session
from ketadesk.scheduling.protocols import get_protocol


def book(db: Database, patient_id: int, chair_id: int, starts_at: datetime) -> dict[str, Any]:
    actor = Actor(username=f"desk-{patient_id}", role=Role.FRONT_DESK)
    try:
        with db.transaction() as session:
            patient = session.get(Patient, patient_id)
            chair = session.get(Chair, chair_id)
            if patient is None or chair is None:
                return {"error": "patient or chair missing"}
            protocol = get_protocol(session, "iv-booster")
            # The racers' clock is a week before the slot, so the race never ages into the past.
            now = starts_at - timedelta(days=7)
            ts = book_session(session, actor, patient, protocol, chair, starts_at, now=now)
            won = ts.id
    except SlotTaken as error:
        return {"taken": str(error), "session_id": error.session_id}
    except Exception as error:  # reported to the test, which fails with it
        return {"error": f"{type(error).__name__}: {error}"}
    return {"won": won}


def main() -> None:
    url, patient_id, chair_id, starts_at = sys.argv[1:5]
    db = Database(url)
    with db.reading() as session:
        session.execute(text("SELECT 1"))  # connected before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    result = book(db, int(patient_id), int(chair_id), datetime.fromisoformat(starts_at))
    print(json.dumps(result), flush=True)
    db.dispose()


if __name__ == "__main__":
    main()
