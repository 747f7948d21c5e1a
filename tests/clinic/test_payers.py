"""Payer services on SQLite and PostgreSQL: create, edit, list, look up, and their rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from builders import add_payer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access.models import AuditEntry
from ketadesk.access.permissions import Actor
from ketadesk.clinic import payers
from ketadesk.clinic.models import Payer
from ketadesk.errors import NotFound, PermissionDenied, ValidationError


def payer_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": " Blue  Cross NY ", "edi_payer_id": "sb803", "address_line1": "PO Box 1",
        "city": "Albany", "state": "ny", "zip_code": "12201", "phone": "800-555-0199",
    }
    raw.update(overrides)
    return raw


def audit_rows(session: Session) -> Sequence[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.entity == "payer").order_by(AuditEntry.id)
    return session.scalars(query).all()


def test_create_stores_clean_values_and_defaults(session: Session, admin: Actor) -> None:
    payer = payers.create_payer(session, admin, payer_raw())
    assert (payer.name, payer.edi_payer_id) == ("Blue Cross NY", "SB803")
    assert (payer.state, payer.phone) == ("NY", "8005550199")
    assert (payer.timely_filing_days, payer.active) == (90, True)
    minimal = payers.create_payer(session, admin, {"name": "Cigna", "edi_payer_id": "62308"})
    assert (minimal.city, minimal.state, minimal.phone) == ("", "", "")
    rows = audit_rows(session)
    assert [r.action for r in rows] == ["create", "create"]
    assert rows[0].after is not None and rows[0].after["edi_payer_id"] == "SB803"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "is required"),
    ("name", "--", "'--' is not a payer name"),
    ("name", "n" * 121, "is 121 characters long; at most 120 fit"),
    ("edi_payer_id", "X", "'X' is not an EDI payer id; expected 2 to 20 letters or digits"),
    ("edi_payer_id", "60-054", "is not an EDI payer id"),
    ("edi_payer_id", "A" * 21, "is not an EDI payer id"),
    ("state", "QC", "QC is not a US state or territory"),
    ("zip_code", "ABCDE", "is not a ZIP code"),
    ("phone", "911", "911 has 3 digits"),
    ("timely_filing_days", "0", "0 is not positive"),
    ("timely_filing_days", "731", "731 is more than the maximum; expected at most 730"),
    ("active", "ja", "is not yes or no"),
    ("payer_type", "hmo", "is not a payer field"),
])
def test_each_rule_has_its_message(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        payers.clean_payer(payer_raw(**{field: value}))
    [problem] = caught.value.problems
    assert problem.field == field
    assert message in problem.message


def test_timely_filing_bounds_are_accepted() -> None:
    assert payers.clean_payer(payer_raw(timely_filing_days="730"))["timely_filing_days"] == 730
    assert payers.clean_payer(payer_raw(timely_filing_days=1))["timely_filing_days"] == 1


def test_name_is_unique_ignoring_case(session: Session, admin: Actor) -> None:
    add_payer(session, "Blue Cross NY")
    with pytest.raises(ValidationError) as caught:
        payers.create_payer(session, admin, payer_raw(name="blue cross ny", zip_code="1"))
    assert caught.value.for_field("name") == [
        "Blue Cross NY is already a payer; choose another name "
        "(capital letters do not make a name different)"]
    assert caught.value.for_field("zip_code") != []  # reported together
    assert session.scalar(select(Payer).where(Payer.name == "blue cross ny")) is None


def test_update_is_audited_and_keeps_its_own_name(session: Session, admin: Actor) -> None:
    payer = payers.create_payer(session, admin, payer_raw())
    values = payers.payer_values(payer)
    payers.update_payer(session, admin, payer.id, values)  # unchanged: no row
    payers.update_payer(session, admin, payer.id,
                        {**values, "name": "BLUE CROSS NY", "timely_filing_days": "180"})
    rows = audit_rows(session)
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].before == {"name": "Blue Cross NY", "timely_filing_days": 90}
    assert rows[1].after == {"name": "BLUE CROSS NY", "timely_filing_days": 180}
    add_payer(session, "Aetna")
    with pytest.raises(ValidationError, match="name: Aetna is already a payer"):
        payers.update_payer(session, admin, payer.id, {**values, "name": "aetna"})
    with pytest.raises(NotFound, match=r"There is no payer with id 9999\."):
        payers.update_payer(session, admin, 9999, values)


def test_get_by_name_ignores_case_and_spacing(session: Session) -> None:
    payer = add_payer(session, "United Healthcare")
    assert payers.get_payer_by_name(session, "  united   HEALTHCARE ") is payer
    with pytest.raises(NotFound, match=r"^There is no payer named 'Humana'\.$"):
        payers.get_payer_by_name(session, "Humana")


def test_list_orders_by_name_and_hides_inactive(session: Session, front_desk: Actor) -> None:
    add_payer(session, "cigna")
    add_payer(session, "Aetna")
    add_payer(session, "Medicare", active=False)
    assert [p.name for p in payers.list_payers(session, front_desk)] == ["Aetna", "cigna"]
    everyone = payers.list_payers(session, front_desk, include_inactive=True)
    assert [p.name for p in everyone] == ["Aetna", "cigna", "Medicare"]


def test_front_desk_may_not_change_payers(session: Session, front_desk: Actor,
                                          admin: Actor) -> None:
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        payers.create_payer(session, front_desk, payer_raw())
    payer = payers.create_payer(session, admin, payer_raw())
    with pytest.raises(PermissionDenied, match="may not change clinic setup"):
        payers.update_payer(session, front_desk, payer.id, payer_raw(name="Other"))
    assert payer.name == "Blue Cross NY"
    assert [r.actor for r in audit_rows(session)] == ["test-admin"]
