"""The superbill PDF read back with pypdf: every item an insurer requires, field by field,
on views built by hand; and one superbill built from a real database."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

from billing.billing_helpers import (
    billing_actor,
    billing_clinic,
    completed_iv_session,
    posted_charges,
)
from builders import add_location, add_provider, insure, patient_raw
from documents.view_builders import (
    CJK,
    LONG_NAME,
    ZOE,
    assert_in_order,
    assert_inside_margins,
    pages,
    runs,
    superbill,
    superbill_line,
    words,
)
from pypdf import PdfReader
from sqlalchemy.orm import Session

from ketadesk.access.permissions import Actor
from ketadesk.billing import ledger
from ketadesk.billing.models import Charge, ChargeSource, ChargeStatus, EntryKind
from ketadesk.billing.superbill import superbill_view
from ketadesk.billing.views import DrugInfo, SubscriberInfo, SuperbillView, SuperbillVisit
from ketadesk.clinic.models import Relationship
from ketadesk.clinic.patients import create_patient
from ketadesk.documents.letterhead import document_filename
from ketadesk.documents.superbill import render_superbill
from ketadesk.money import money


def render(view: SuperbillView) -> bytes:
    return render_superbill(view, deterministic=True)


def test_the_header_names_the_practice_with_npi_tin_address_and_phone() -> None:
    (text,) = pages(render(superbill()))
    assert_in_order(
        text,
        [
            "Brightwater Ketamine Clinic",
            "1 Main St, Suite 400",
            "New York, NY 10001",
            "Phone (212) 555-0100",
            "NPI 1245319599 · TIN 12-3456789",
            "Superbill",
            "SB-NYC000123-20261207-20261209",
            "Issued 12/31/2026",
            "Dates of service 12/07/2026 – 12/09/2026",
        ],
    )


def test_patient_and_providers_print_every_identifier() -> None:
    (text,) = pages(render(superbill()))
    at = assert_in_order(
        text,
        [
            "PATIENT",
            ZOE,
            "22 Orchard St, Apt 5B",
            "New York, NY 10002",
            "Date of birth 03/09/1984 · MRN NYC000123",
            "Member ID W123456789 (Aetna)",
        ],
    )
    assert_in_order(
        text,
        [
            "BILLING PROVIDER",
            "Brightwater Ketamine Clinic",
            "NPI 1245319599 · TIN 12-3456789",
            "Place of service 11",
            "RENDERING PROVIDER",
            "Ama Osei, MD · NPI 1234567893",
        ],
        at,
    )


def test_a_patient_without_a_member_id_prints_no_member_line() -> None:
    view = superbill()
    (text,) = pages(render(replace(view, patient=replace(view.patient, member_id=""))))
    assert "Member ID" not in text


def test_diagnoses_are_lettered_with_codes_and_descriptions() -> None:
    (text,) = pages(render(superbill()))
    assert_in_order(
        text,
        [
            "Diagnoses (ICD-10-CM)",
            "Pointer",
            "ICD-10-CM",
            "Description",
            "A\nF33.2\nMajor depressive disorder, recurrent severe without psychotic features",
            "B\nF43.10\nPost-traumatic stress disorder, unspecified",
        ],
    )


def test_each_service_line_prints_date_pos_code_modifier_pointer_units_charge_paid() -> None:
    (text,) = pages(render(superbill()))
    headings = ["Date", "POS", "CPT/HCPCS", "Modifier", "Description", "Dx", "pointer"]
    at = assert_in_order(text, ["Services", *headings, "Units", "Charge", "Paid"])
    at = assert_in_order(text, ["Visit 12/07/2026 · Ama Osei, MD · NPI 1234567893"], at)
    first = "12/07/2026\n11\n96365\nIV infusion, first hour\nA,B\n1\n$450.00\n$450.00"
    drug = "12/07/2026\n11\nJ3490\nJZ\nKetamine HCl, unclassified drug\nA\n1\n$35.00\n$35.00"
    at = assert_in_order(text, [first, "96366", drug], at)
    at = assert_in_order(text, ["Visit 12/09/2026", "12/09/2026\n11\n96365", "$450.00\n$0.00"], at)


def test_totals_and_amounts_print_as_dollars_with_thousands() -> None:
    visit = SuperbillVisit(
        date(2026, 12, 7),
        "11",
        superbill().visits[0].provider,
        (superbill_line("96365", units=2, charge="1234.56", paid="1000.00"),),
    )
    view = replace(
        superbill(),
        visits=(visit,),
        total_charges=money("1234.56"),
        total_paid=money("1000.00"),
        balance=money("134.56"),
    )
    (text,) = pages(render(view))
    assert_in_order(text, ["96365", "A,B\n2\n$1,234.56\n$1,000.00"])
    assert_in_order(
        text,
        [
            "Total charges",
            "$1,234.56",
            "Amount paid by the patient",
            "$1,000.00",
            "Discounts and adjustments",
            "-$100.00",
            "Balance due",
            "$134.56",
        ],
    )


def test_without_adjustments_no_adjustment_line_is_printed() -> None:
    (text,) = pages(render(superbill()))
    assert "Discounts and adjustments" not in text
    assert_in_order(text, ["Total charges", "$1,270.00", "$635.00", "Balance due", "$635.00"])


def test_a_signature_and_date_line_closes_the_superbill() -> None:
    (text,) = pages(render(superbill()))
    assert_in_order(
        text,
        [
            "Please send any reimbursement to the",
            "I certify that the services listed above",
            "Provider signature",
            "Date",
        ],
    )


def test_a_visit_elsewhere_names_its_facility() -> None:
    view = superbill()
    away = replace(view.visits[1], pos_code="22", facility="KetaDesk Boston, 2 Side St")
    (text,) = pages(render(replace(view, visits=(view.visits[0], away))))
    assert_in_order(text, ["Visit 12/09/2026 · Ama Osei, MD · NPI 1234567893 · KetaDesk Boston"])
    assert_in_order(text, ["12/09/2026\n22\n96365"])


def test_seventy_visits_flow_onto_numbered_pages_with_headings_repeated() -> None:
    view = superbill(70)  # 280 rows: 70 visit lines and 210 service lines
    texts = pages(render(view))
    total = len(texts)
    assert total > 1
    for number, text in enumerate(texts, start=1):
        assert text.rstrip().endswith(f"Page {number} of {total}")
        if number > 1 and "$" in text:
            assert text.lstrip().startswith("Date\nPOS\nCPT/HCPCS")
    everything = "\n".join(texts)
    assert everything.count("\n96365\n") == 70
    assert everything.count("J3490\nJZ") == 70
    assert everything.count("Provider signature") == 1
    assert_in_order(texts[-1], ["Total charges", "$44,450.00", "Balance due", "$635.00"])


def test_unicode_names_print_whole_in_fonts_that_have_them() -> None:
    for name in (ZOE, CJK, "Nguyễn Thị Minh Khai", f"Trần {CJK}"):
        pdf = render(superbill(name=name))
        text = pages(pdf)[0]
        assert text.count(name) == 2  # the patient block and the footer
    drawn = {(r.text, r.font) for r in runs(render(superbill(name=CJK)))}
    assert (CJK, "DroidSansFallback") in drawn


def test_a_150_character_name_wraps_inside_its_column_and_the_footer_is_shortened() -> None:
    pdf = render(superbill(name=LONG_NAME))
    (text,) = pages(pdf)
    assert LONG_NAME in words(text)  # all of it, over several lines
    assert LONG_NAME not in text  # it did not fit one line
    name_lines = [r for r in runs(pdf) if r.font == "DejaVuSans-Bold" and r.text in LONG_NAME]
    assert len(name_lines) >= 3
    assert all(r.x1 <= 306 for r in name_lines)  # left of the billing provider's column
    footer = text.rstrip().splitlines()[-1]
    assert footer.startswith("Superbill SB-NYC000123-20261207-20261209 · Alexandra")
    assert footer.endswith("… Page 1 of 1")
    assert_inside_margins(pdf)


def test_long_descriptions_and_many_modifiers_wrap_inside_the_margins() -> None:
    view = superbill()
    wordy = superbill_line(
        "99417",
        "GT,59,XU",
        "Prolonged outpatient evaluation and management service, each additional 15 minutes "
        "of total time with or without direct patient contact",
    )
    visit = replace(view.visits[0], lines=(wordy,))
    pdf = render(replace(view, visits=(visit,)))
    assert "each additional 15 minutes of total time with or without direct patient contact" in (
        words(pages(pdf)[0])
    )
    assert_inside_margins(pdf)


def test_deterministic_mode_gives_identical_bytes() -> None:
    assert render(superbill(5)) == render(superbill(5))
    assert render(superbill(5)) != render(superbill(5, name="Someone Else"))


def test_the_pdf_names_itself_and_its_file() -> None:
    view = superbill()
    reader = PdfReader(io.BytesIO(render(view)))
    assert reader.metadata is not None
    assert reader.metadata.title == "Superbill SB-NYC000123-20261207-20261209"
    assert reader.metadata.author == "Brightwater Ketamine Clinic"
    assert document_filename("superbill", view) == "superbill-SB-NYC000123-20261207-20261209.pdf"


def test_a_superbill_read_from_the_database_prints(session: Session, admin: Actor) -> None:
    location = add_location(session, "NYC", phone="2125550100")
    provider = add_provider(session)
    patient = create_patient(session, admin, patient_raw())
    for day, code, amount in (("2026-12-07", "96365", "450.00"), ("2026-12-07", "96366", "150.00")):
        entry = ledger.post(
            session,
            admin,
            patient_id=patient.id,
            location_id=location.id,
            kind=EntryKind.CHARGE,
            amount=money(amount),
            posted_on=date.fromisoformat(day),
            description=code,
        )
        session.add(
            Charge(
                patient_id=patient.id,
                location_id=location.id,
                provider_id=provider.id,
                source=ChargeSource.SESSION,
                service_date=entry.posted_on,
                code=code,
                description=f"Service {code}",
                unit_price=money(amount),
                amount=money(amount),
                diagnosis_pointers="1",
                status=ChargeStatus.POSTED,
                entry_id=entry.id,
            )
        )
    session.flush()
    view = superbill_view(
        session,
        admin,
        patient.id,
        date(2026, 12, 1),
        date(2026, 12, 31),
        issued_on=date(2027, 1, 4),
    )
    (text,) = pages(render(view))
    assert_in_order(
        text, ["KetaDesk NYC", "Phone (212) 555-0100", "NPI 1245319599 · TIN 12-3456789"]
    )
    assert_in_order(text, [ZOE, "Date of birth 03/09/1984", f"MRN {patient.mrn}"])
    assert_in_order(text, ["A\nF33.2\nMajor depressive disorder", "B\nF43.10"])
    assert_in_order(text, ["12/07/2026\n11\n96365\nService 96365\nA\n1\n$450.00\n$0.00"])
    assert_in_order(text, ["Total charges", "$600.00", "Balance due", "$600.00"])


# --- a dependant's policy and a drug's NDC ----------------------------------------------------

PIOTR = SubscriberInfo(
    name="Piotr Łukasiewicz",
    date_of_birth=date(1958, 5, 5),
    relationship="child",
    payer_name="Aetna",
    member_id="W123456789",
    group_number="G-4410",
)
KETAMINE = DrugInfo("42023011410", "Ketamine HCl 50 mg/mL", Decimal("35.0"), "ME", "35.0 mg IV")


def with_drug(view: SuperbillView) -> SuperbillView:
    """``view`` with the product and dose on every J3490 line."""
    visits = tuple(
        replace(
            visit,
            lines=tuple(
                replace(line, drug=KETAMINE) if line.code == "J3490" else line
                for line in visit.lines
            ),
        )
        for visit in view.visits
    )
    return replace(view, visits=visits)


def test_a_dependant_prints_the_subscriber_block_and_the_subscriber_is_reimbursed() -> None:
    (text,) = pages(render(superbill(subscriber=PIOTR)))
    at = assert_in_order(text, ["PATIENT", ZOE, "Member ID W123456789 (Aetna)"])
    assert_in_order(
        text,
        [
            "SUBSCRIBER (INSURED)",
            "Piotr Łukasiewicz",
            "The patient is the subscriber's child",
            "Date of birth 05/05/1958",
            "Member ID W123456789 (Aetna)",
            "Group number G-4410",
        ],
        at,
    )
    assert "reimbursement to the subscriber, Piotr Łukasiewicz." in words(text)
    assert "(the subscriber)" not in text


def test_the_patient_who_is_the_subscriber_prints_the_group_and_is_reimbursed() -> None:
    (text,) = pages(render(superbill(group_number="G-77")))
    assert_in_order(text, ["Member ID W123456789 (Aetna)", "Group number G-77"])
    assert "SUBSCRIBER" not in text
    assert "reimbursement to the patient (the subscriber)." in words(text)


def test_a_drug_line_prints_n4_ndc_unit_and_quantity_name_and_dose() -> None:
    (text,) = pages(render(with_drug(superbill())))
    drug = (
        "J3490\nJZ\nKetamine HCl, unclassified drug\nN442023011410 ME35\n"
        "Ketamine HCl 50 mg/mL\n35.0 mg IV\nNDC 42023-0114-10\nA\n1\n$35.00"
    )
    at = assert_in_order(text, ["Visit 12/07/2026", "96366", drug])
    assert_in_order(text, ["Visit 12/09/2026", "96366", drug], at)
    assert text.count("N4") == 2  # only the drug lines


def test_a_dependants_ketamine_superbill_from_the_database_names_subscriber_and_ndc(
    session: Session,
) -> None:
    clinic = billing_clinic(session)
    clinic.location.phone = "2125550100"
    ts = completed_iv_session(session, clinic, minutes=55)
    ts.ndc = "00409427701"  # recorded at the dose: not the fee schedule's product
    [ketamine] = [fee for fee in clinic.fees if fee.code == "J3490"]
    ketamine.ndc, ketamine.drug_name = "42023011410", "Ketamine HCl 50 mg/mL"
    insure(
        session,
        clinic.patient.id,
        subscriber_name="Piotr Łukasiewicz",
        relationship_to_subscriber=Relationship.SPOUSE,
    )
    posted_charges(session, billing_actor(), ts)

    view = superbill_view(
        session,
        billing_actor(),
        clinic.patient.id,
        date(2026, 12, 1),
        date(2026, 12, 31),
        issued_on=date(2027, 1, 4),
    )
    (text,) = pages(render(view))

    assert_in_order(
        text,
        [
            "SUBSCRIBER (INSURED)",
            "Piotr Łukasiewicz",
            "The patient is the subscriber's spouse",
            "Member ID W123456789 (Aetna)",
            "Group number G-4410",
        ],
    )
    assert_in_order(
        text,
        [
            "J3490",
            "N400409427701 ME35\nKetamine HCl 50 mg/mL\n35.0 mg IV\nNDC 00409-4277-01",
        ],
    )
    assert "reimbursement to the subscriber, Piotr Łukasiewicz." in words(text)
