"""A second process posting payments through the real services while a backup is taken.

Run as ``python tests/backups/writer.py URL PATIENT LOCATION COUNT LOG``: payment ``i`` (from
1) is ``i`` dollars and ``i`` cents, each in its own transaction; after each commit its
number is appended to LOG, so the test knows what had certainly been committed when.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from ketadesk.access.permissions import Actor, Role
from ketadesk.billing.payments import take_payment
from ketadesk.db import Database


def amount(number: int) -> Decimal:
    return Decimal(number) + Decimal(number) / 100


def main(url: str, patient: int, location: int, count: int, log: Path) -> None:
    db = Database(url)
    actor = Actor(username="writer", role=Role.ADMIN)
    with log.open("a", encoding="utf-8") as out:
        for number in range(1, count + 1):
            with db.transaction() as session:
                take_payment(
                    session,
                    actor,
                    patient_id=patient,
                    amount=amount(number),
                    method="cash",
                    on=date(2026, 12, 7),
                    location_id=location,
                    reference=f"writer-{number}",
                )
            out.write(f"{number}\n")
            out.flush()
    db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
