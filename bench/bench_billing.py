"""The billing benchmark: demo money history, superbill and invoice PDFs, the batch, balances.

Run it from the project folder::

    .venv/bin/python bench/bench_billing.py [--patients 20000] [--years 5] [--out DIR]

On a SQLite file made by ``ketadesk demo-data --patients N --years Y`` (which now writes the
money history too) it measures:

a. ``demo-data``: the wall time of the real command line in a fresh process, and the rows
   of money it wrote; then the same generation inside this process, timing each of the
   generator's stages (``--no-stages`` skips this second run);
b. one superbill PDF: :func:`~ketadesk.billing.superbill.superbill_view` then
   :func:`~ketadesk.documents.superbill.render_superbill`, for :data:`PDF_PATIENTS`
   different self-pay patients' last full month, each timed from opening the read session
   to holding the PDF's bytes, warm (one untimed run first loads fonts and code);
c. one invoice PDF: :func:`~ketadesk.billing.invoices.invoice_view` then
   :func:`~ketadesk.documents.invoice.render_invoice`, for as many different issued
   invoices, timed the same way;
d. the batch: :func:`~ketadesk.documents.superbill_batch.write_superbills` with two
   workers over the most recent full months that hold at least :data:`BATCH_PATIENTS`
   self-pay patients (one month of the demo holds about 560), timed from the call to its
   return, process pool start included; the figure of record is scaled to 1,000;
e. a patient's balance: :func:`~ketadesk.billing.ledger.balance` for 1,000 random patients
   with a ledger, each in its own read session as the window reads it (and the query
   alone, in one session, for comparison).

It prints a table and writes everything, with the machine, to ``DIR/bench_billing.json``
beside the database and the batch's PDFs; the figures go to docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_foundation import (  # noqa: E402
    _spread,
    machine,
    print_machine,
    print_rows,
    timed_demo_data,
)
from floors import compared, load_average, paired, ratio_row, summary  # noqa: E402

PDF_PATIENTS = 50
BALANCE_PATIENTS = 1000
BATCH_PATIENTS = 1000
MONEY_TABLES = (
    "charge",
    "ledger_entry",
    "allocation",
    "invoice",
    "invoice_line",
    "package_purchase",
    "package_use",
    "estimate",
)

TARGETS = {
    "demo_data_s": 120.0,
    "superbill_pdf_ms": 40.0,  # median and p95
    "invoice_pdf_ms": 40.0,  # median and p95
    "batch_1000_s": 30.0,
    "balance_ms": 5.0,  # median and p95
}
INVOICE_RATIO_GOAL = 1.5  # an invoice PDF against bare reportlab in the same font


def _reader() -> Any:
    """Who the benchmark reads as: a billing user (the reads check and audit like any)."""
    from ketadesk.access.permissions import Actor, Role

    return Actor(username="bench", role=Role.BILLING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--runs",
        type=int,
        default=PDF_PATIENTS,
        help="different patients / invoices timed for one PDF",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the database of an earlier run instead of generating",
    )
    parser.add_argument(
        "--no-stages",
        action="store_true",
        help="skip timing the generator's stages in this process",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "bench")
    parser.add_argument("--db", type=Path, metavar="FILE",
                        help="measure this existing demo-data SQLite file (implies --reuse)")
    parser.add_argument("--no-batch", action="store_true",
                        help="skip the superbill batch (it loads both cores for a while)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.db or args.out / "billing.sqlite3"
    args.reuse = args.reuse or args.db is not None
    results: dict[str, Any] = {
        "benchmark": "billing",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "patients": args.patients,
            "years": args.years,
            "seed": args.seed,
            "runs": args.runs,
        },
        "targets": TARGETS,
    }
    if args.reuse and db.exists():
        results["demo_data_cli"] = {"measured": False, "reason": "--reuse"}
    else:
        print(f"demo data: {args.patients} patients, {args.years} years …", flush=True)
        results["demo_data_cli"] = demo_data(db, args.patients, args.years, args.seed)
    if not args.no_stages:
        print("demo data in this process, stage by stage …", flush=True)
        results["demo_data_stages"] = demo_data_stages(
            args.out / "billing-stages.sqlite3", args.patients, args.years, args.seed
        )
    from ketadesk.migrations import open_database

    database = open_database(f"sqlite:///{db}")
    today = demo_today(database)
    month = last_full_month(today)
    results["demo_today"] = today.isoformat()
    results["rows"] = row_counts(database)
    print("superbill PDFs …", flush=True)
    results["superbill_pdf"] = superbill_pdfs(database, month, today, args.runs, args.seed)
    print("invoice PDFs …", flush=True)
    results["invoice_pdf"] = invoice_pdfs(database, args.runs, args.seed)
    print("balances …", flush=True)
    results["balance"] = balances(database, args.seed)
    database.dispose()
    if args.no_batch:
        results["batch"] = {"measured": False, "reason": "--no-batch"}
    else:
        print("superbill batch, 2 workers …", flush=True)
        results["batch"] = batch(db, args.out / "superbills", month, today)
    results["verdict"] = verdict(results)
    (args.out / "bench_billing.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)
    return 0


# ---------------------------------------------------------------------------------------
# a. demo data
# ---------------------------------------------------------------------------------------


def demo_data(db: Path, patients: int, years: int, seed: int) -> dict[str, Any]:
    result = timed_demo_data(
        db, ["--patients", str(patients), "--years", str(years), "--seed", str(seed)]
    )
    if "command" in result and not result["measured"]:
        raise SystemExit(f"demo-data failed: {result['reason']}")
    if result["measured"]:
        result["file_mb"] = round(db.stat().st_size / 1e6, 1)
    return result


def demo_data_stages(db: Path, patients: int, years: int, seed: int) -> dict[str, Any]:
    """Migrations and :func:`~ketadesk.demo.generator.generate` here, with the seconds each
    stage took (from its first progress report to the next stage's); the file is removed."""
    from ketadesk.demo.generator import DemoSpec, generate
    from ketadesk.migrations import open_database

    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    database = open_database(f"sqlite:///{db}")
    migrated = time.perf_counter()
    first_seen: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        first_seen.setdefault(stage, time.perf_counter())

    generate(database, DemoSpec(patients=patients, years=years, seed=seed), progress)
    finished = time.perf_counter()
    database.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    marks = [*first_seen.items(), ("commit", finished)]
    stages = {stage: round(marks[i + 1][1] - at, 2) for i, (stage, at) in enumerate(marks[:-1])}
    return {
        "measured": True,
        "migrate_s": round(migrated - started, 2),
        "generate_s": round(finished - migrated, 2),
        "stage_s": stages,
    }


def row_counts(database: Any) -> dict[str, int]:
    from sqlalchemy import text

    counts = {}
    with database.reading() as session:
        for table in ("patient", "treatment_session", *MONEY_TABLES):
            counts[table] = session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    return counts


def demo_today(database: Any) -> date:
    """The day the demo's history ends (its audit row says), not the day the bench runs."""
    from sqlalchemy import select

    from ketadesk.access.models import AuditEntry

    with database.reading() as session:
        after = session.scalars(select(AuditEntry.after).where(AuditEntry.entity == "demo")).first()
    return date.fromisoformat(after["today"]) if after else datetime.now(UTC).date()


def last_full_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _months_back(month: tuple[date, date], count: int) -> tuple[date, date]:
    first = month[0]
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
    return first, month[1]


# ---------------------------------------------------------------------------------------
# b, c. one PDF
# ---------------------------------------------------------------------------------------


def superbill_pdfs(
    database: Any, month: tuple[date, date], today: date, runs: int, seed: int
) -> dict[str, Any]:
    from ketadesk.billing.superbill import superbill_patients, superbill_view
    from ketadesk.documents.superbill import render_superbill
    from ketadesk.errors import KetaDeskError

    with database.reading() as session:
        patients = superbill_patients(session, _reader(), *month)
    if not patients:
        return {"measured": False, "reason": f"no self-pay visits in {month[0]:%Y-%m}"}
    chosen = random.Random(seed).sample(patients, min(runs, len(patients)))
    total, view_ms, visits, sizes, refused = [], [], [], [], []
    for n, patient_id in enumerate([chosen[0], *chosen]):  # the first run warms up
        started = time.perf_counter()
        try:
            with database.reading() as session:
                view = superbill_view(session, _reader(), patient_id, *month, issued_on=today)
            viewed = time.perf_counter()
            pdf = render_superbill(view)
        except KetaDeskError as error:
            refused.append(str(error))
            continue
        done = time.perf_counter()
        if n:
            total.append((done - started) * 1000)
            view_ms.append((viewed - started) * 1000)
            visits.append(len(view.visits))
            sizes.append(len(pdf))
    if not total:
        return {"measured": False, "reason": f"every superbill was refused: {refused[:3]}"}
    return {
        "measured": True,
        "runs": len(total),
        "month": f"{month[0]:%Y-%m}",
        "self_pay_patients_in_month": len(patients),
        "refused": refused,
        "view_median_ms": round(statistics.median(view_ms), 2),
        "visits_per_superbill": _range(visits),
        "pdf_kb_median": round(statistics.median(sizes) / 1000, 1),
        **_spread(total),
    }


def invoice_pdfs(database: Any, runs: int, seed: int) -> dict[str, Any]:
    """Invoice PDFs, each rendered beside its floor: the same words in bare reportlab.

    The floor (:func:`bare_invoice`) lays out the view's text — letterhead, bill-to, the
    charge and payment tables, the totals — with reportlab platypus alone, in the same
    embedded DejaVu Sans, with none of KetaDesk's document code. ``render`` compares the
    rendering alone with it; ``view_and_render`` adds reading the view, as the window
    does, against the floor plus the same view (the view has its own floor in SQL).
    """
    from sqlalchemy import select

    from ketadesk.billing.invoices import invoice_view
    from ketadesk.billing.models import Invoice, InvoiceStatus
    from ketadesk.documents.fonts import register_fonts
    from ketadesk.documents.invoice import render_invoice

    with database.reading() as session:
        ids = session.scalars(
            select(Invoice.id).where(Invoice.status == InvoiceStatus.ISSUED).order_by(Invoice.id)
        ).all()
    if not ids:
        return {"measured": False, "reason": "no issued invoices"}
    chosen = random.Random(seed + 1).sample(list(ids), min(runs, len(ids)))
    register_fonts()
    total, view_ms, view_cpu, lines = [], [], [], []
    views = {}
    for n, invoice_id in enumerate([chosen[0], *chosen]):
        started, cpu = time.perf_counter(), time.thread_time()
        with database.reading() as session:
            view = invoice_view(session, _reader(), invoice_id)
        viewed, cpu_viewed = time.perf_counter(), time.thread_time()
        render_invoice(view)
        done = time.perf_counter()
        bare_invoice(view)  # warm the floor too
        views[invoice_id] = view
        if n:
            total.append((done - started) * 1000)
            view_ms.append((viewed - started) * 1000)
            view_cpu.append((cpu_viewed - cpu) * 1000)
            lines.append(len(view.lines))
    load = load_average()
    times = paired(chosen, lambda i: render_invoice(views[i]), lambda i: bare_invoice(views[i]))
    rendered, floors = times["wall"]
    cpu_rendered, cpu_floors = times["cpu"]
    view_median, view_cpu_median = statistics.median(view_ms), statistics.median(view_cpu)
    return {
        "measured": True,
        "runs": len(total),
        "issued_invoices": len(ids),
        "lines_per_invoice": _range(lines),
        "view_median_ms": round(view_median, 2),
        "view_cpu_median_ms": round(view_cpu_median, 2),
        **_spread(total),
        "load_average": load,
        "render": compared(times),
        "view_and_render": {
            "cpu": summary([view_cpu_median + ms for ms in cpu_rendered],
                           [view_cpu_median + ms for ms in cpu_floors]),
            "wall": summary([view_median + ms for ms in rendered],
                            [view_median + ms for ms in floors]),
        },
    }


def bare_invoice(view: Any) -> bytes:
    """The invoice's words laid out with nothing but reportlab platypus and the same font."""
    from io import BytesIO

    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table

    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=9.5, leading=12)
    bold = ParagraphStyle("bold", parent=body, fontName="DejaVuSans-Bold", fontSize=11)
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5)
    practice, patient = view.practice, view.patient
    story: list[Any] = [
        Paragraph(practice.name, bold),
        *(Paragraph(line, body) for line in practice.address_lines),
        Paragraph(f"Phone {practice.phone} · NPI {practice.npi} · TIN {practice.tin}", body),
        Paragraph(f"Invoice {view.number} · issued {view.issued_on} · due {view.due_on}", bold),
        Spacer(1, 6),
        Paragraph(f"Bill to {patient.name} (MRN {patient.mrn})", bold),
        *(Paragraph(line, body) for line in patient.address_lines),
        Paragraph(f"Amount due ${view.balance_due:,.2f}", bold),
        Paragraph("Charges", bold),
        Table([[Paragraph(text, cell) for text in row] for row in [
            ["Date", "Code", "Description", "Units", "Amount", "Paid", "Balance"],
            *([f"{line.service_date:%m/%d/%Y}", f"{line.code} {line.modifiers}".strip(),
               line.description, str(line.units), f"${line.amount:,.2f}",
               f"${line.paid:,.2f}", f"${line.balance:,.2f}"] for line in view.lines)]],
            colWidths=[58, 62, 190, 36, 60, 60, 60], repeatRows=1),
        Paragraph("Payments", bold),
        Table([[Paragraph(text, cell) for text in row] for row in [
            ["Date", "Method", "Reference", "Amount"],
            *([f"{pay.on:%m/%d/%Y}", str(pay.method or ""), pay.reference,
               f"${pay.amount:,.2f}"] for pay in view.payments)]],
            colWidths=[70, 120, 200, 80], repeatRows=1),
        Paragraph(f"Total ${view.total:,.2f} · paid ${view.paid:,.2f} · adjusted "
                  f"${view.adjusted:,.2f} · balance due ${view.balance_due:,.2f}", bold),
    ]
    out = BytesIO()
    SimpleDocTemplate(out, pagesize=letter, title=f"Invoice {view.number}").build(story)
    return out.getvalue()


# ---------------------------------------------------------------------------------------
# d. the batch
# ---------------------------------------------------------------------------------------


def batch(db: Path, out: Path, month: tuple[date, date], today: date) -> dict[str, Any]:
    from ketadesk.billing.superbill import superbill_patients
    from ketadesk.db import Database
    from ketadesk.documents.superbill_batch import write_superbills

    url = f"sqlite:///{db}"
    database = Database(url)
    span, patients = month, 0
    for months in range(12):
        span = _months_back(month, months)
        with database.reading() as session:
            patients = len(superbill_patients(session, _reader(), *span))
        if patients >= BATCH_PATIENTS:
            break
    database.dispose()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    result = write_superbills(
        url, span[0], span[1], out, actor=_reader(), issued_on=today, workers=2
    )
    seconds = time.perf_counter() - started
    written = len(result.written)
    if not written:
        return {
            "measured": False,
            "reason": f"no superbill written ({len(result.refused)} refused)",
        }
    return {
        "measured": True,
        "from": span[0].isoformat(),
        "to": span[1].isoformat(),
        "patients": patients,
        "written": written,
        "refused": len(result.refused),
        "processes": result.processes,
        "seconds": round(seconds, 2),
        "per_superbill_ms": round(seconds / written * 1000, 2),
        "seconds_per_1000": round(seconds / written * 1000, 2),
        "pdf_mb": round(sum(p.stat().st_size for p in result.written) / 1e6, 1),
    }


# ---------------------------------------------------------------------------------------
# e. balances
# ---------------------------------------------------------------------------------------


def balances(database: Any, seed: int) -> dict[str, Any]:
    from sqlalchemy import select

    from ketadesk.billing import ledger
    from ketadesk.billing.models import LedgerEntry

    with database.reading() as session:
        ids = session.scalars(select(LedgerEntry.patient_id).distinct()).all()
    chosen = random.Random(seed + 2).sample(list(ids), min(BALANCE_PATIENTS, len(ids)))
    with database.reading() as session:  # warm
        ledger.balance(session, chosen[0])
    opened = []
    for patient_id in chosen:
        started = time.perf_counter()
        with database.reading() as session:
            ledger.balance(session, patient_id)
        opened.append((time.perf_counter() - started) * 1000)
    alone = []
    with database.reading() as session:
        for patient_id in chosen:
            started = time.perf_counter()
            ledger.balance(session, patient_id)
            alone.append((time.perf_counter() - started) * 1000)
    query = _spread(alone)
    return {
        "measured": True,
        "runs": len(opened),
        "patients_with_a_ledger": len(ids),
        "query_alone_median_ms": query["median_ms"],
        "query_alone_p95_ms": query["p95_ms"],
        **_spread(opened),
    }


# ---------------------------------------------------------------------------------------
# The verdict and the table
# ---------------------------------------------------------------------------------------


def _range(values: list[int]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    def against(part: dict[str, Any], key: str, target: str) -> dict[str, Any]:
        if not part.get("measured"):
            return {"measured": None, "met": None}
        value = part[key]
        return {"measured": value, "target": TARGETS[target], "met": value < TARGETS[target]}

    return {
        "demo_data_s": against(results["demo_data_cli"], "seconds", "demo_data_s"),
        "superbill_pdf_median_ms": against(
            results["superbill_pdf"], "median_ms", "superbill_pdf_ms"
        ),
        "superbill_pdf_p95_ms": against(results["superbill_pdf"], "p95_ms", "superbill_pdf_ms"),
        "invoice_pdf_median_ms": against(results["invoice_pdf"], "median_ms", "invoice_pdf_ms"),
        "invoice_pdf_p95_ms": against(results["invoice_pdf"], "p95_ms", "invoice_pdf_ms"),
        "batch_1000_s": against(results["batch"], "seconds_per_1000", "batch_1000_s"),
        "balance_median_ms": against(results["balance"], "median_ms", "balance_ms"),
        "balance_p95_ms": against(results["balance"], "p95_ms", "balance_ms"),
        "invoice_render_cpu_ratio": (
            {"measured": results["invoice_pdf"]["render"]["cpu"]["ratio"],
             "target": INVOICE_RATIO_GOAL,
             "met": results["invoice_pdf"]["render"]["cpu"]["ratio"] <= INVOICE_RATIO_GOAL}
            if results["invoice_pdf"].get("measured") else {"measured": None, "met": None}),
    }


def print_table(results: dict[str, Any]) -> None:
    print_machine(results["machine"])
    print(f"rows: {results['rows']}")
    demo = results["demo_data_cli"]
    rows = [
        (
            "demo-data, command line (wall)",
            f"{demo['seconds']:.1f} s" if demo["measured"] else demo["reason"],
            "< 120 s",
        )
    ]
    stages = results.get("demo_data_stages")
    if stages:
        rows.append(
            (
                "  in process: migrations + generate()",
                f"{stages['migrate_s'] + stages['generate_s']:.1f} s",
                "",
            )
        )
        rows.extend(
            (f"    stage {name}", f"{seconds:.1f} s", "")
            for name, seconds in stages["stage_s"].items()
        )
    for key, label in (
        ("superbill_pdf", "superbill PDF, one patient's month (view + render)"),
        ("invoice_pdf", "invoice PDF (view + render)"),
        ("balance", "patient balance, own read session"),
    ):
        part = results[key]
        target = f"< {TARGETS['balance_ms' if key == 'balance' else key + '_ms']:g} ms"
        if part.get("measured"):
            rows.append((f"{label}: median", f"{part['median_ms']:.2f} ms", target))
            rows.append(
                (
                    "  p95 / max",
                    f"{part['p95_ms']:.2f} / {part['max_ms']:.2f} ms",
                    target + " (p95)",
                )
            )
        else:
            rows.append((label, f"not measured: {part['reason']}", target))
        if key == "invoice_pdf" and part.get("measured"):
            rows.append(ratio_row("  render vs bare reportlab, same font", part["render"],
                                  INVOICE_RATIO_GOAL))
            rows.append(ratio_row("  view + render vs view + bare reportlab",
                                  part["view_and_render"], INVOICE_RATIO_GOAL))
    part = results["batch"]
    if part.get("measured"):
        rows.append(
            (f"superbill batch, 2 workers: {part['written']} PDFs", f"{part['seconds']:.1f} s", "")
        )
        rows.append(("  scaled to 1,000 superbills", f"{part['seconds_per_1000']:.1f} s", "< 30 s"))
    else:
        rows.append(("superbill batch", f"not measured: {part['reason']}", "< 30 s"))
    print_rows(rows)
    print(f"load average during the invoice PDFs: {results['invoice_pdf'].get('load_average')}")


if __name__ == "__main__":
    sys.exit(main())
