"""A front desk taking payments without end: ``ketadesk payment add`` again and again.

Run as ``python payments_loop.py DB_URL``. Each payment goes through the real command
(:func:`ketadesk.cli.main.main`, in this one process so a payment costs its transaction,
not an interpreter's start): it posts the payment and allocates it to the patient's open
charges, oldest first, the rest kept as credit. After each one it prints ``paid N``, the
mark tests/reliability/test_kill9.py kills at. Amounts vary from a few dollars to more than
a visit, so some payments settle charges exactly, some part of one, some leave credit.
"""

from __future__ import annotations

import sys
from itertools import count

import sqlalchemy as sa

from ketadesk.cli.main import main
from ketadesk.db import Database

AMOUNTS = ("12.34", "450.00", "75.50", "1000.01", "0.99", "300.00", "89.95")
METHODS = ("card", "cash", "check", "hsa")


def patients_owing(url: str) -> list[str]:
    """MRNs of patients with charges on their own side, most entries first."""
    db = Database(url)
    try:
        with db.reading() as session:
            rows = session.execute(sa.text(
                "SELECT p.mrn FROM patient p JOIN ledger_entry e ON e.patient_id = p.id "
                "WHERE e.payer_id IS NULL AND e.amount > 0 "
                "GROUP BY p.mrn ORDER BY count(*) DESC, p.mrn LIMIT 12"))
            return [row[0] for row in rows]
    finally:
        db.dispose()


def run(url: str) -> None:
    mrns = patients_owing(url)
    if not mrns:
        raise SystemExit("no patient owes anything: nothing to pay")
    for n in count(1):
        status = main(["payment", "add", "--db", url, "--patient", mrns[n % len(mrns)],
                       "--amount", AMOUNTS[n % len(AMOUNTS)], "--method", METHODS[n % 4],
                       "--reference", f"loop {n}", "--json"])
        if status != 0:
            raise SystemExit(f"payment {n} refused (status {status})")
        print(f"paid {n}", flush=True)


if __name__ == "__main__":
    run(sys.argv[1])
