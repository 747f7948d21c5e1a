"""Remittance codes in words: what each adjustment on an 835 means, and what billing does next.

A payer's 835 (or a paper EOB) explains every amount it did not pay with three kinds of code:

* a **group code** saying who carries the amount: ``CO`` the clinic under its contract, ``PR``
  the patient, ``OA`` other, ``PI`` the payer's own cut, ``CR`` a correction or reversal;
* a **Claim Adjustment Reason Code** (CARC, X12's list) saying why: ``45`` above the fee
  schedule, ``1`` deductible, ``197`` no prior authorisation, ...;
* zero or more **Remittance Advice Remark Codes** (RARC, CMS's list) adding detail: ``M51``
  the procedure code is invalid, ``N130`` see the plan's benefit documents, ...

The lists, with KetaDesk's own short descriptions, live in
``ketadesk/resources/remit_codes.toml`` and are read once, on first use. Each CARC there has a
:class:`RemitKind` (a contractual write-down, the patient's share, a denial, or information)
and, for denials, an action in words. How the rest of KetaDesk uses this module:

* 835 posting writes down what :func:`is_contractual` says the contract requires, moves ``PR``
  amounts to the patient's account, and sends what :func:`is_denial` flags to the follow-up
  worklist;
* the claim detail and the worklist show :func:`describe` (``"CO-45: ..."``) and
  :func:`next_step`.

Payers start sending new codes before any list reaches us, so no lookup here raises: a code
missing from the list comes back as a :class:`RemitCode` with ``known=False`` whose text says
so and where to look it up. An unknown CARC counts as a denial, so that an amount nobody can
explain lands on the worklist instead of being written off unseen.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from ketadesk.config import RESOURCES

__all__ = [
    "CARC_LOOKUP",
    "CODES_FILE",
    "RARC_LOOKUP",
    "RemitCode",
    "RemitKind",
    "carc",
    "carcs",
    "describe",
    "group_codes",
    "group_text",
    "is_contractual",
    "is_denial",
    "next_step",
    "rarc",
    "rarcs",
]

CODES_FILE = RESOURCES / "remit_codes.toml"
CARC_LOOKUP = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC_LOOKUP = "https://x12.org/codes/remittance-advice-remark-codes"

CONTRACTUAL_GROUP = "CO"
PATIENT_GROUP = "PR"
CORRECTION_GROUP = "CR"


class RemitKind(enum.StrEnum):
    """What an adjustment reason means for the clinic's books."""

    CONTRACTUAL = "contractual"  # the contract requires the write-down
    PATIENT = "patient"  # the patient's share: deductible, coinsurance, copay
    DENIAL = "denial"  # the payer refused; billing must act
    INFO = "info"  # explains an amount or a step; nothing to do on its own


@dataclass(frozen=True)
class RemitCode:
    """One CARC or RARC with its description; ``action`` is empty where there is nothing to do.

    ``known`` is False for a code missing from KetaDesk's list: its text says so.
    """

    code: str
    text: str
    kind: RemitKind
    action: str = ""
    known: bool = True


@dataclass(frozen=True)
class _Lists:
    groups: Mapping[str, str]
    carcs: Mapping[str, RemitCode]
    rarcs: Mapping[str, RemitCode]


@cache
def _lists() -> _Lists:
    with CODES_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return _Lists(
        groups=MappingProxyType(dict(raw["groups"])),
        carcs=MappingProxyType(_codes(raw["carc"], default_kind=None)),
        rarcs=MappingProxyType(_codes(raw["rarc"], default_kind=RemitKind.INFO)),
    )


def _codes(
    table: Mapping[str, Mapping[str, Any]], *, default_kind: RemitKind | None
) -> dict[str, RemitCode]:
    """The TOML table as RemitCodes; a CARC must name its kind, a RARC is information."""
    codes = {}
    for code, entry in table.items():
        kind = RemitKind(entry["kind"]) if default_kind is None else default_kind
        codes[code] = RemitCode(code, entry["text"], kind, entry.get("action", ""))
    return codes


def _normal(code: str) -> str:
    """A code as the lists key it: trimmed, upper case, no leading zeros on a number."""
    code = code.strip().upper()
    if code.isdigit():
        return code.lstrip("0") or "0"
    return code


def carc(code: str) -> RemitCode:
    """The Claim Adjustment Reason Code ``code`` (``"45"``, ``"A1"``); never raises."""
    key = _normal(code)
    known = _lists().carcs.get(key)
    if known is not None:
        return known
    return RemitCode(
        key,
        _unknown_text("Adjustment reason code", key, CARC_LOOKUP),
        RemitKind.DENIAL,
        "Look the code up, then correct and resubmit, appeal, or write off",
        known=False,
    )


def rarc(code: str) -> RemitCode:
    """The Remittance Advice Remark Code ``code`` (``"N130"``, ``"MA130"``); never raises."""
    key = _normal(code)
    known = _lists().rarcs.get(key)
    if known is not None:
        return known
    return RemitCode(
        key, _unknown_text("Remark code", key, RARC_LOOKUP), RemitKind.INFO, known=False
    )


def _unknown_text(what: str, code: str, where: str) -> str:
    if not code:
        return f"{what} missing: the payer sent none."
    return f"{what} {code} is not in KetaDesk's list; look it up at {where}."


def carcs() -> tuple[RemitCode, ...]:
    """Every CARC KetaDesk describes, in the order of the shipped list."""
    return tuple(_lists().carcs.values())


def rarcs() -> tuple[RemitCode, ...]:
    """Every RARC KetaDesk describes, in the order of the shipped list."""
    return tuple(_lists().rarcs.values())


def group_codes() -> tuple[str, ...]:
    """The five CAS group codes: CO, PR, OA, PI, CR."""
    return tuple(_lists().groups)


def group_text(group: str) -> str:
    """What the group code ``group`` means (who carries the amount); never raises."""
    key = _normal(group)
    text = _lists().groups.get(key)
    if text is not None:
        return text
    return _unknown_text("Group code", key, CARC_LOOKUP)


def describe(group: str, reason: str, remarks: Iterable[str] = ()) -> str:
    """One line for people: ``"CO-45: <reason>"``, then each remark as ``"M51: <remark>"``."""
    head = f"{_normal(group)}-{_normal(reason)}: {carc(reason).text}"
    tails = [f"{found.code}: {found.text}" for found in map(rarc, remarks)]
    return " ".join([head, *tails])


def is_contractual(group: str, reason: str) -> bool:
    """True when the contract makes the clinic write the amount down (CO with such a reason)."""
    return _normal(group) == CONTRACTUAL_GROUP and carc(reason).kind is RemitKind.CONTRACTUAL


def is_denial(group: str, reason: str) -> bool:
    """True when the payer refused the amount and billing must act on it.

    A ``PR`` amount is the patient's to pay whatever the reason, and a ``CR`` line corrects an
    earlier payment, so neither is a denial for the worklist.
    """
    if _normal(group) in (PATIENT_GROUP, CORRECTION_GROUP):
        return False
    return carc(reason).kind is RemitKind.DENIAL


def next_step(group: str, reason: str) -> str:
    """What billing does about this adjustment, in words; empty when nothing is to be done."""
    key = _normal(group)
    if key == PATIENT_GROUP:
        return "Bill the patient"
    if key == CORRECTION_GROUP:
        return ""
    found = carc(reason)
    if found.kind is RemitKind.PATIENT:
        # A patient-share reason under CO/OA/PI: the payer says the patient may not be billed.
        return "Write off: the payer did not assign this to the patient"
    return found.action
