"""Payers: the insurers a clinic bills, as claims and policies refer to them.

A payer has a name people pick from a list (unique, ignoring case), the EDI payer id a
clearinghouse routes an 837P by, a mailing address for paper claims and appeals, the
timely-filing and appeal limits that claims follow-up counts down from, whether it is
Medicare and whether the clinic is in its network, the services it covers (a charge for
any other code stays with the patient) and its own coding choices for esketamine.

Input arrives as raw values keyed by :data:`PAYER_FIELDS`; :func:`clean_payer` validates
them all at once, and the create and update services add the unique-name check. Writes
need :data:`Permission.CLINIC_SETUP` and are audited in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic import validation as v
from ketadesk.clinic.codes import procedure_code
from ketadesk.clinic.models import Payer
from ketadesk.errors import InvalidValue, NotFound

MAX_TIMELY_FILING_DAYS = 730  # two years: longer than any US payer's limit
MAX_APPEAL_DAYS = 730
_EDI_FORM = re.compile(r"[A-Z0-9]{2,20}")
# What insurers mostly pay for in a ketamine clinic: esketamine, its visit and its drug.
ESKETAMINE_SERVICES = "G2082,G2083,J0013,S0013,99212,99213,99214,99215,99415,99416"
ESKETAMINE_BILLING = {
    "visit": "Visit, prolonged staff time and the drug (99212-99215, 99415/99416, J0013)",
    "g_code": "Medicare's bundle (G2082 up to 56 mg, G2083 over 56 mg)",
}


def edi_payer_id(value: Any) -> str:
    """A clearinghouse payer id: 2 to 20 letters or digits, upper-cased (``"60054"``)."""
    text = str(value).strip().upper()
    if not _EDI_FORM.fullmatch(text):
        raise InvalidValue(
            f"{text!r} is not an EDI payer id; expected 2 to 20 letters or digits, e.g. 60054"
        )
    return text


def timely_filing_days(value: Any) -> int:
    """Days after the service date a claim may still be filed: 1 to 730."""
    return v.positive_int(value, maximum=MAX_TIMELY_FILING_DAYS)


def covered_codes(value: Any) -> str:
    """Service codes separated by commas or spaces -> ``"G2082,G2083,99213"`` (each checked)."""
    words = [w for w in re.split(r"[,\s]+", str(value).strip().upper()) if w]
    return ",".join(dict.fromkeys(procedure_code(w) for w in words))


def code_swaps(value: Any) -> str:
    """A payer's own code choices as ``OLD>NEW`` pairs: ``"J0013>S0013"``."""
    pairs = []
    for word in (w for w in re.split(r"[,\s]+", str(value).strip().upper()) if w):
        old, arrow, new = word.partition(">")
        if not arrow:
            raise InvalidValue(
                f"{word!r} is not a code swap; write the code and what the payer wants "
                "instead with > between them, e.g. J0013>S0013"
            )
        pairs.append(f"{procedure_code(old)}>{procedure_code(new)}")
    return ",".join(pairs)


def esketamine_billing(value: Any) -> str:
    text = str(value).strip().lower().replace("-", "_")
    if text not in ESKETAMINE_BILLING:
        raise InvalidValue(f"{value!r} is not a way to bill esketamine; choose visit or g_code")
    return text


def appeal_days(value: Any) -> int:
    """Days after a denial an appeal may still be filed: 1 to 730."""
    return v.positive_int(value, maximum=MAX_APPEAL_DAYS)


def _name(value: Any) -> str:
    text = v.plain_text(120)(value)
    if not any(c.isalnum() for c in text):
        raise InvalidValue(f"{text!r} is not a payer name; expected letters or digits")
    return text


PAYER_FIELDS: tuple[v.FieldSpec, ...] = (
    v.FieldSpec("name", "Name", True, _name),
    v.FieldSpec("edi_payer_id", "EDI payer id", True, edi_payer_id),
    *v.address_fields(required=False, first_label="Claims address", second_line=False),
    v.FieldSpec("phone", "Phone", False, v.us_phone),
    v.FieldSpec("timely_filing_days", "Timely filing (days)", False, timely_filing_days),
    v.FieldSpec("appeal_days", "Appeal within (days)", False, appeal_days),
    v.FieldSpec("is_medicare", "Medicare", False, v.parse_flag),
    v.FieldSpec("in_network", "In network", False, v.parse_flag),
    v.FieldSpec("covered_codes", "Covered services", False, covered_codes),
    v.FieldSpec("esketamine_billing", "Esketamine billed as", False, esketamine_billing),
    v.FieldSpec("bills_drug", "Clinic bills the drug", False, v.parse_flag),
    v.FieldSpec("rems_kx", "KX modifier for REMS", False, v.parse_flag),
    v.FieldSpec("code_swaps", "Code swaps", False, code_swaps),
    v.FieldSpec("active", "Active", False, v.parse_flag),
)
_BLANKS: dict[str, Any] = {
    "address_line1": "",
    "city": "",
    "state": "",
    "zip_code": "",
    "phone": "",
    "timely_filing_days": 90,
    "appeal_days": 180,
    "is_medicare": False,
    "in_network": True,
    "covered_codes": ESKETAMINE_SERVICES,
    "esketamine_billing": "",  # blank: by is_medicare (see _clean)
    "bills_drug": True,
    "rems_kx": False,
    "code_swaps": "",
    "active": True,
}


def _same_name(session: Session, name: str, own_id: int | None) -> Payer | None:
    return session.scalar(
        select(Payer).where(func.lower(Payer.name) == name.lower(), Payer.id != (own_id or 0))
    )


def _clean(
    session: Session | None,
    raw: Mapping[str, object],
    own_id: int | None,
) -> dict[str, Any]:
    checker = v.Checker()
    clean = v.collect_fields(checker, raw, PAYER_FIELDS, _BLANKS, "payer")
    if not clean.get("esketamine_billing"):
        clean["esketamine_billing"] = "g_code" if clean.get("is_medicare") else "visit"
    if session is not None and clean["name"]:
        other = _same_name(session, clean["name"], own_id)
        if other is not None:
            checker.add(
                "name",
                f"{other.name} is already a payer; choose another name "
                "(capital letters do not make a name different)",
            )
    checker.raise_if_problems()
    return clean


def clean_payer(raw: Mapping[str, object]) -> dict[str, Any]:
    """Validate every field of ``raw``; return clean values or raise every problem at once.

    Whether the name is free needs the database, so :func:`create_payer` and
    :func:`update_payer` check that as well, together with these problems.
    """
    return _clean(None, raw, None)


def create_payer(session: Session, actor: Actor, raw: Mapping[str, object]) -> Payer:
    actor.require(Permission.CLINIC_SETUP)
    payer = Payer(**_clean(session, raw, None))
    session.add(payer)
    session.flush()
    audit.record(session, actor, "create", "payer", payer.id, after=audit.snapshot(payer))
    return payer


def update_payer(session: Session, actor: Actor, payer_id: int, raw: Mapping[str, object]) -> Payer:
    """Save an edit of the whole form (start from :func:`payer_values`)."""
    actor.require(Permission.CLINIC_SETUP)
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"There is no payer with id {payer_id}.")
    clean = _clean(session, raw, payer.id)
    before = audit.snapshot(payer)
    for key, value in clean.items():
        setattr(payer, key, value)
    session.flush()
    audit.record_update(session, actor, "payer", payer.id, before, audit.snapshot(payer))
    return payer


def list_payers(session: Session, actor: Actor, *, include_inactive: bool = False) -> list[Payer]:
    """Payers by name (ignoring case); inactive ones only when asked."""
    actor.require(Permission.CLINIC_VIEW)
    query = select(Payer).order_by(func.lower(Payer.name), Payer.id)
    if not include_inactive:
        query = query.where(Payer.active.is_(True))
    return list(session.scalars(query))


def get_payer_by_name(session: Session, name: str) -> Payer:
    """The payer called ``name``, ignoring case and extra spaces."""
    text = " ".join(name.split())
    payer = _same_name(session, text, None)
    if payer is None:
        raise NotFound(f"There is no payer named {text!r}.")
    return payer


def payer_values(payer: Payer) -> dict[str, Any]:
    """The editable fields of ``payer`` as :func:`clean_payer` returns them (for forms)."""
    return {spec.name: getattr(payer, spec.name) for spec in PAYER_FIELDS}
