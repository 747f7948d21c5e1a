"""The claims benchmark: build and check, export, import an 835, print a CMS-1500.

Run it from the project folder on a copy of a chain-scale demo database::

    .venv/bin/ketadesk demo-data --db sqlite:////tmp/bench20k.sqlite3 --patients 20000
    .venv/bin/python bench/bench_claims.py --db /tmp/bench20k.sqlite3 [--claims 1000]

Set-up (not timed, on a private copy): ``--claims`` patients of the demo get a policy
with a bench payer covering their services and one posted visit each on the payer's side
(99213 with prolonged clinical-staff time 99415 + 99416), through the real posting service.
Then, each stage on its own fresh copy of the state before it, ``--runs`` times:

a. **build and check**: :func:`~ketadesk.billing.claims.building.build_claims` (one claim
   per visit, every claim scrubbed) in one write transaction;
b. **export**: :func:`~ketadesk.billing.claims.export.export_batch` of all of them as one
   837P, without the guide check, and the pyx12 check of that file apart;
c. **import**: an 835 answering every claim (paid, contractual CO-45, deductible or
   coinsurance PR-1/PR-2) read and posted with
   :func:`~ketadesk.billing.claims.remittance.import_835`;
d. **one CMS-1500** of a six-line claim (``bench/bench_cms1500.py`` measures it).

Each stage's floor is the very SQL it sent (captured with :func:`floors.recording`)
replayed through the standard ``sqlite3`` module on another fresh copy, in one transaction
committed at the end: the same reads, inserts and updates with nothing of KetaDesk's in the
way. Times are CPU seconds of this thread (the figure of record) and wall seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from floors import Statement, load_average, raw_connection, recording  # noqa: E402

from ketadesk.access.permissions import Actor, Role  # noqa: E402
from ketadesk.db import Database  # noqa: E402

ACTOR = Actor(username="bench", role=Role.ADMIN)
GOALS = {"build": 2.0, "export": 1.0, "import": 3.0}


# ---------------------------------------------------------------------------------------
# Set-up
# ---------------------------------------------------------------------------------------


def prepare(source: Path, work: Path, claims: int) -> date:
    """Copy ``source`` to ``work`` and give ``claims`` patients a covered, posted visit."""
    from sqlalchemy import func, select

    from ketadesk.billing.models import Charge, ChargeSource
    from ketadesk.billing.review import post_charges
    from ketadesk.clinic.models import Diagnosis, InsurancePolicy, Location, Patient, PolicyRank
    from ketadesk.clinic.payers import create_payer
    from ketadesk.scheduling.models import TreatmentSession

    shutil.copyfile(source, work)
    db = Database(f"sqlite:///{work}")
    with db.transaction() as s:
        day = s.scalar(select(func.max(TreatmentSession.starts_at))).date()
        location = s.scalars(select(Location).order_by(Location.id)).first()
        assert location is not None
        location.phone = location.phone or "2125550100"
        payer = create_payer(s, ACTOR, {
            "name": "Bench Mutual", "edi_payer_id": "BENCH1", "timely_filing_days": "365",
            "covered_codes": "99213,99415,99416",
        })
        provider_id = s.scalar(select(TreatmentSession.provider_id).limit(1))
        with_dx = select(Diagnosis.patient_id)
        patients = s.scalars(
            select(Patient).where(Patient.id.in_(with_dx), Patient.address_line1 != "")
            .order_by(Patient.id).limit(claims)
        ).all()
        charges = []
        for patient in patients:
            s.add(InsurancePolicy(
                patient_id=patient.id, payer_id=payer.id, rank=PolicyRank.PRIMARY,
                member_id=f"BM{patient.id:08d}", effective_from=day, active=True,
            ))
            for code, units, price in (("99213", 1, "180.00"), ("99415", 1, "120.00"),
                                       ("99416", 1, "60.00")):
                charges.append(Charge(
                    patient_id=patient.id, location_id=location.id, provider_id=provider_id,
                    source=ChargeSource.MANUAL, service_date=day, code=code,
                    description=f"Bench {code}", units=units, unit_price=Decimal(price),
                    amount=Decimal(price), billed_charge=Decimal(price),
                    diagnosis_pointers="1", created_by="bench",
                ))
        s.add_all(charges)
        s.flush()
        post_charges(s, ACTOR, [c.id for c in charges], on=day)
    db.dispose()
    return day


# ---------------------------------------------------------------------------------------
# Timing one stage against its floor
# ---------------------------------------------------------------------------------------


@contextmanager
def clock() -> Iterator[dict[str, float]]:
    taken: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.thread_time()
    yield taken
    taken["cpu"] = time.thread_time() - cpu
    taken["wall"] = time.perf_counter() - wall


def replay_writes(path: Path, statements: list[Statement]) -> dict[str, float]:
    """The captured statements through ``sqlite3`` in one transaction, committed."""
    connection = raw_connection(path)
    try:
        with clock() as taken:
            connection.execute("BEGIN IMMEDIATE")
            for sql, parameters in statements:
                if sql.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                    continue
                if isinstance(parameters, list):
                    connection.executemany(sql, parameters)
                else:
                    connection.execute(sql, parameters or ()).fetchall()
            connection.commit()
    finally:
        connection.close()
    return taken


def stage(before: Path, scratch: Path, work: Callable[[Database], Any]) -> dict[str, Any]:
    """``work`` on a fresh copy of ``before`` (recorded), then its SQL replayed on another."""
    shutil.copyfile(before, scratch)
    db = Database(f"sqlite:///{scratch}")
    with recording(db.engine) as sent, clock() as ours:
        result = work(db)
    db.dispose()
    statements = list(sent)
    shutil.copyfile(before, scratch)
    floor = replay_writes(scratch, statements)
    return {"ours": ours, "floor": floor, "statements": len(statements), "result": result}


# ---------------------------------------------------------------------------------------
# The stages
# ---------------------------------------------------------------------------------------


def build(day: date) -> Callable[[Database], Any]:
    from ketadesk.billing.claims.building import build_claims

    def work(db: Database) -> Any:
        with db.transaction() as s:
            result = build_claims(s, ACTOR, today=day)
            return {"claims": len(result.claim_ids), "ready": result.ready}

    return work


def export(day: date, payer_id: int) -> Callable[[Database], Any]:
    from ketadesk.billing.claims.export import export_batch

    def work(db: Database) -> Any:
        with db.transaction() as s:
            result = export_batch(s, ACTOR, payer_id, today=day,
                                  now=datetime.now(UTC).astimezone(), check_guide=False)
            return {"claims": len(result.claim_ids), "text": result.text}

    return work


def import_file(text: str) -> Callable[[Database], Any]:
    from ketadesk.billing.claims import remittance

    def work(db: Database) -> Any:
        with db.transaction() as s:
            outcome = remittance.import_835(s, ACTOR, remittance.read_text(text, name="b.835"))
            return {"posted": sum(r.posted_claims for r in outcome.results)}

    return work


def answer_835(db: Database, day: date) -> str:
    """An 835 paying every submitted claim: 70% paid, 20% CO-45, 10% PR-1 or PR-2."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from ketadesk.billing.claims.models import Claim, ClaimStatus
    from ketadesk.billing.edi.model import (
        Address,
        Adjustment,
        ClaimPayment,
        Remittance,
        ServicePayment,
    )
    from ketadesk.billing.edi.x835 import BankAccount, write_835
    from ketadesk.money import round_cents

    payments = []
    with db.reading() as s:
        claims = s.scalars(select(Claim).where(Claim.status == ClaimStatus.SUBMITTED)
                           .options(selectinload(Claim.lines)).order_by(Claim.id)).all()
        for n, claim in enumerate(claims):
            services = []
            for line in claim.lines:
                contractual = round_cents(line.billed * Decimal("0.2"))
                share = round_cents(line.billed * Decimal("0.1"))
                services.append(ServicePayment(
                    line.code, line.billed, line.billed - contractual - share, Decimal(1),
                    (Adjustment("CO", "45", contractual), Adjustment("PR", "12"[n % 2], share)),
                    line_id=str(line.id),
                ))
            paid = sum((x.paid for x in services), Decimal("0.00"))
            share = sum((x.adjustments[1].amount for x in services), Decimal("0.00"))
            payments.append(ClaimPayment(claim.number, "1", claim.billed, paid, share,
                                         payer_claim_number=f"ICN{claim.id}",
                                         services=tuple(services)))
    total = sum((p.paid for p in payments), Decimal("0.00"))
    remit = Remittance("BENCH MUTUAL", "BENCH1", "CLINIC", "1234567893", total, "ACH", day,
                       "EFT-BENCH-1", tuple(payments))
    address = Address("PO BOX 1", "HARTFORD", "CT", "06101")
    bank = BankAccount("021000021", "123456789")
    return write_835(remit, payer_address=address, payee_address=address,
                     payer_tin="1234567890", payer_phone="8005550100", payer_bank=bank,
                     payee_bank=bank)


def _with_db(path: Path, work: Callable[[Database], Any]) -> Any:
    db = Database(f"sqlite:///{path}")
    try:
        return work(db)
    finally:
        db.dispose()


def _advance(before: Path, after: Path, work: Callable[[Database], Any]) -> None:
    """``after`` is ``before`` with ``work`` done: the state the next stage starts from."""
    shutil.copyfile(before, after)
    _with_db(after, work)


def median_of(runs: list[dict[str, Any]], side: str, what: str) -> float:
    return statistics.median(r[side][what] for r in runs)


def summarise(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    ours, floor = median_of(runs, "ours", "cpu"), median_of(runs, "floor", "cpu")
    return {
        "stage": name,
        "cpu_s": round(ours, 3),
        "floor_cpu_s": round(floor, 3),
        "ratio": round(ours / floor, 2) if floor else None,
        "wall_s": round(median_of(runs, "ours", "wall"), 3),
        "floor_wall_s": round(median_of(runs, "floor", "wall"), 3),
        "statements": runs[0]["statements"],
        "runs": len(runs),
        "goal_s": GOALS.get(name),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True, metavar="FILE")
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, metavar="FILE")
    args = parser.parse_args(argv)

    from sqlalchemy import select

    from ketadesk.billing.edi import validate
    from ketadesk.clinic.models import Payer

    with tempfile.TemporaryDirectory(dir=args.db.parent) as folder:
        here = Path(folder)
        prepared, scratch = here / "prepared.sqlite3", here / "scratch.sqlite3"
        day = prepare(args.db, prepared, args.claims)
        db = Database(f"sqlite:///{prepared}")
        with db.reading() as s:
            payer_id = s.scalars(select(Payer.id).where(Payer.name == "Bench Mutual")).one()
        db.dispose()

        rows = []
        runs = [stage(prepared, scratch, build(day)) for _ in range(args.runs)]
        rows.append(summarise("build", runs))
        built = here / "built.sqlite3"
        _advance(prepared, built, build(day))

        runs = [stage(built, scratch, export(day, payer_id)) for _ in range(args.runs)]
        rows.append(summarise("export", runs))
        text = runs[0]["result"]["text"]
        with clock() as checked:
            problems = validate.problems(text)
        rows.append({"stage": "pyx12 check of the 837P", "cpu_s": round(checked["cpu"], 3),
                     "wall_s": round(checked["wall"], 3), "problems": len(problems)})

        sent = here / "sent.sqlite3"
        _advance(built, sent, export(day, payer_id))
        era = _with_db(sent, lambda db: answer_835(db, day))
        runs = [stage(sent, scratch, import_file(era)) for _ in range(args.runs)]
        rows.append(summarise("import", runs))
        rows[-1]["posted"] = runs[0]["result"]["posted"]

    results = {"claims": args.claims, "load_average": load_average(), "stages": rows}
    print_table(results)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


def print_table(results: dict[str, Any]) -> None:
    print(f"{results['claims']:,} claims; load average {results['load_average']}")
    for row in results["stages"]:
        if "floor_cpu_s" in row:
            print(f"  {row['stage']:<8} CPU {row['cpu_s']:.3f} s vs floor {row['floor_cpu_s']:.3f}"
                  f" s = {row['ratio']}x (wall {row['wall_s']:.3f} s; goal < {row['goal_s']} s;"
                  f" {row['statements']:,} statements)")
        else:
            print(f"  {row['stage']}: CPU {row['cpu_s']:.3f} s, wall {row['wall_s']:.3f} s,"
                  f" {row['problems']} problems")


if __name__ == "__main__":
    raise SystemExit(main())
