"""The code sets a bill is written in: ICD-10-CM diagnoses, CPT and HCPCS procedures,
modifiers, CMS places of service and the National Drug Codes of the medicines given.

Each validator keeps the contract of :mod:`ketadesk.clinic.validation`: it takes the raw
value and returns it normalised (``" f321 "`` -> ``"F32.1"``), or raises
:class:`~ketadesk.errors.InvalidValue` with a sentence about the value that says what is
expected. :func:`diagnosis_description` gives a code's words for views and documents.

ICD-10-CM comes from the ``simple_icd_10_cm`` package, and both its uses here read the
package's data files without importing it, because importing it parses a 10 MB XML file
(about 2.5 s and 190 MB):

* validation reads the flat code list (every code, about 0.1 s) the first time a diagnosis
  is checked;
* descriptions are read out of the tabular XML with one regular expression (0.06 s).

Only if a file cannot be found, or a code is built from a seventh character that the
tabular file does not write out ("S72.001A"), is the package imported and asked.
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from ketadesk.clinic.validation import shown
from ketadesk.errors import InvalidValue

__all__ = [
    "NDC_UNIT_MILLIGRAM",
    "PLACE_OF_SERVICE",
    "cpt",
    "diagnosis_description",
    "hcpcs",
    "icd10cm",
    "is_drug_code",
    "modifier",
    "ndc",
    "ndc_claim_text",
    "ndc_text",
    "pos_code",
    "procedure_code",
]

# ---------------------------------------------------------------------------------------
# ICD-10-CM diagnoses
# ---------------------------------------------------------------------------------------

_ICD_FORM = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?")


@dataclass(frozen=True)
class _IcdIndex:
    """Every ICD-10-CM code without its dot, and the sorted billable (leaf) codes."""

    codes: frozenset[str]
    billable: tuple[str, ...]
    billable_set: frozenset[str]

    @classmethod
    def build(cls, codes: Iterable[str]) -> _IcdIndex:
        ordered = sorted(set(codes))
        # A code's descendants are exactly the codes that extend it, and they sort straight
        # after it: a code is billable (a leaf) when the next code does not extend it.
        following = [*ordered[1:], ""]
        leaves = tuple(c for c, n in zip(ordered, following, strict=True) if not n.startswith(c))
        return cls(frozenset(ordered), leaves, frozenset(leaves))

    def billable_under(self, prefix: str, limit: int) -> list[str]:
        """The first ``limit`` billable codes more specific than ``prefix``."""
        found: list[str] = []
        for code in self.billable[bisect_left(self.billable, prefix) :]:
            if not code.startswith(prefix) or len(found) == limit:
                break
            found.append(code)
        return found


def _is_diagnosis_code(entry: str) -> bool:
    """False for chapters ("5") and blocks ("F30-F39"), which the code list also holds."""
    return bool(entry) and not entry.isdigit() and "-" not in entry


def _package_file(pattern: str) -> Path | None:
    """The one file of the code-set package's data folder matching ``pattern`` (a glob),
    found without importing the package; None when the layout is not the one we know."""
    spec = find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the simple-icd-10-cm package is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    found = sorted(folder.glob(pattern))
    return found[0] if len(found) == 1 else None


def _package() -> Any:
    """The code-set package itself (slow: importing it parses the full XML)."""
    with warnings.catch_warnings():
        # 1.5 reads its data with importlib.resources.read_text, deprecated since 3.11;
        # our tests turn warnings into errors.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd  # lazy on purpose: see the module docstring
    return icd


def _codes_from_package_data() -> list[str] | None:
    """The package's flat code list, read without importing the package (None if missing)."""
    code_list = _package_file("code-list-*.txt")
    if code_list is None:
        return None
    lines = code_list.read_text(encoding="utf-8").splitlines()
    codes = [e for e in (line.split(" ")[0].strip() for line in lines) if _is_diagnosis_code(e)]
    return codes if len(codes) > 50_000 else None  # a layout we do not understand


def _codes_from_package_api() -> list[str]:
    """Every code, through the package's own API."""
    codes = _package().get_all_codes(with_dots=False)
    return [str(e) for e in codes if _is_diagnosis_code(str(e))]


@cache
def _icd10cm_index() -> _IcdIndex:
    codes = _codes_from_package_data()
    if codes is None:
        codes = _codes_from_package_api()
    return _IcdIndex.build(codes)


def _dotted(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _or_list(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b or c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def icd10cm(value: str) -> str:
    """A billable ICD-10-CM diagnosis code in canonical form: ``" f321 "`` -> ``"F32.1"``."""
    text = value.strip().upper()
    if not _ICD_FORM.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not shaped like an ICD-10-CM code; expected a letter, a digit, "
            "a digit or letter, then optionally a dot and up to 4 more, e.g. F32.1 or F43.10"
        )
    compact = text.replace(".", "")
    code = _dotted(compact)
    index = _icd10cm_index()
    if compact not in index.codes:
        raise InvalidValue(f"{code} is not an ICD-10-CM code; check for a typo")
    if compact not in index.billable_set:
        kind = "category" if len(compact) == 3 else "subcategory"
        examples = [_dotted(c) for c in index.billable_under(compact, 3)]
        raise InvalidValue(
            f"{code} is a {kind}, not a billable code; use a more specific code "
            f"such as {_or_list(examples)}"
        )
    return code


@cache
def _descriptions_from_package_data() -> dict[str, str]:
    """Code -> description for every code written out in the code set's tabular XML.

    Read with one regular expression instead of importing ``simple_icd_10_cm``, which
    parses the same 10 MB file into a tree (about 1.5 s against 0.06 s). Codes that the
    XML builds from a seventh character ("S72.001A") are not written out; the package
    answers for those.
    """
    from html import unescape  # with the first description, not with every patient search

    tabular = _package_file("icd10c-tabular-*.xml")
    if tabular is None:
        return {}
    xml = tabular.read_text(encoding="utf-8")
    return {m[1]: unescape(m[2]) for m in _NAME_AND_DESCRIPTION.finditer(xml)}


_NAME_AND_DESCRIPTION = re.compile(r"<name>([^<]+)</name>\s*<desc>([^<]*)</desc>")


@lru_cache(maxsize=4096)
def diagnosis_description(code: str) -> str:
    """The ICD-10-CM description of ``code`` ("F33.2"), or "" if the code set lacks it."""
    found = _descriptions_from_package_data().get(code)
    if found is not None:
        return found
    try:
        return str(_package().get_description(code))
    except ValueError:
        return ""


# ---------------------------------------------------------------------------------------
# Procedures and modifiers
# ---------------------------------------------------------------------------------------

_CPT_FORM = re.compile(r"[0-9]{5}|[0-9]{4}[FT]")
_CPT_EXPECTED = "5 digits (e.g. 99214), or 4 digits then F or T (e.g. 1036F, 0591T)"
_HCPCS_LETTERS = "ABCEGHJKLMPQRSTUV"
_HCPCS_FORM = re.compile(f"[{_HCPCS_LETTERS}][0-9]{{4}}")
_HCPCS_EXPECTED = "a letter (A-C, E, G-H, J-M or P-V) then 4 digits (e.g. G2082, J3490)"


def cpt(value: str) -> str:
    """A CPT code: 5 digits (Category I) or 4 digits then F (Category II) or T (III)."""
    text = value.strip().upper()
    if not _CPT_FORM.fullmatch(text):
        raise InvalidValue(f"{shown(value)} is not a CPT code; expected {_CPT_EXPECTED}")
    return text


def hcpcs(value: str) -> str:
    """A HCPCS Level II code: one of A-C, E, G-H, J-M, P-V, then 4 digits."""
    text = value.strip().upper()
    if not _HCPCS_FORM.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not a HCPCS Level II code; expected {_HCPCS_EXPECTED}"
        )
    return text


def procedure_code(value: str) -> str:
    """A CPT code or a HCPCS Level II code, upper-cased."""
    text = value.strip().upper()
    if _CPT_FORM.fullmatch(text) or _HCPCS_FORM.fullmatch(text):
        return text
    raise InvalidValue(
        f"{shown(value)} is neither a CPT code ({_CPT_EXPECTED}) nor a HCPCS Level II code "
        f"({_HCPCS_EXPECTED})"
    )


_MODIFIER_FORM = re.compile(r"[A-Z0-9]{2}")


def modifier(value: str) -> str:
    """A procedure modifier: exactly 2 letters or digits (25, 59, GT, XU, 95)."""
    text = value.strip().upper()
    if not _MODIFIER_FORM.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not a modifier; expected exactly 2 letters or digits, "
            "e.g. 25, 59, GT or 95"
        )
    return text


# ---------------------------------------------------------------------------------------
# Places of service
# ---------------------------------------------------------------------------------------

PLACE_OF_SERVICE: dict[str, str] = {
    "02": "Telehealth provided other than in patient's home",
    "10": "Telehealth provided in patient's home",
    "11": "Office",
    "12": "Home",
    "15": "Mobile unit",
    "19": "Off campus-outpatient hospital",
    "20": "Urgent care facility",
    "22": "On campus-outpatient hospital",
    "24": "Ambulatory surgical center",
    "49": "Independent clinic",
    "50": "Federally qualified health center",
    "52": "Psychiatric facility-partial hospitalization",
    "53": "Community mental health center",
    "57": "Non-residential substance abuse treatment facility",
    "58": "Non-residential opioid treatment facility",
    "71": "Public health clinic",
    "72": "Rural health clinic",
}
"""CMS place-of-service codes a ketamine clinic bills with -> their CMS names."""


def pos_code(value: str) -> str:
    """A CMS place-of-service code from :data:`PLACE_OF_SERVICE` (two digits: ``"11"``)."""
    text = value.strip()
    if not re.fullmatch(r"[0-9]{2}", text):
        raise InvalidValue(
            f"{shown(value)} is not a place-of-service code; expected 2 digits such as "
            "11 (office) or 10 (telehealth in the patient's home)"
        )
    if text not in PLACE_OF_SERVICE:
        raise InvalidValue(
            f"{text} is not a place of service KetaDesk bills; expected one of "
            f"{', '.join(PLACE_OF_SERVICE)}"
        )
    return text


# ---------------------------------------------------------------------------------------
# National Drug Codes
# ---------------------------------------------------------------------------------------

# The package label prints an NDC as 10 digits in three parts, in one of three layouts
# (labeler-product-package); a claim wants 11 digits, 5-4-2, made by a leading zero on the
# short part. Ten digits run together cannot say which part is short, so they are refused.
_NDC_LAYOUTS = {(4, 4, 2): 0, (5, 3, 2): 1, (5, 4, 1): 2, (5, 4, 2): None}
_NDC_PARTS = re.compile(r"([0-9]+)[-\s]([0-9]+)[-\s]([0-9]+)")
_NDC_EXAMPLE = "e.g. 1234-5678-90"  # short: a dose dialog shows it beside the field

NDC_UNIT_MILLIGRAM = "ME"
"""The NUCC unit qualifier for milligrams (the others: F2 international unit, GR gram,
ML millilitre, UN unit); KetaDesk records every dose in mg."""

_DRUG_CODES = frozenset({"S0013"})  # esketamine per mg, a drug outside the J range


def ndc(value: str) -> str:
    """A National Drug Code as the 11 digits a claim carries: ``"1234-5678-90"`` ->
    ``"01234567890"``, ``"12345-678-90"`` -> ``"12345067890"``, ``"12345-6789-1"`` ->
    ``"12345678901"``; 11 digits (with or without their 5-4-2 dashes) are kept."""
    text = value.strip()
    if re.fullmatch(r"[0-9]{11}", text):
        return text
    parts = _NDC_PARTS.fullmatch(text)
    if parts is None:
        if re.fullmatch(r"[0-9]{10}", text):
            raise InvalidValue(f"{text}: add the dashes, {_NDC_EXAMPLE}")
        raise InvalidValue(f"{shown(value)} is not an NDC, {_NDC_EXAMPLE}")
    groups = parts.groups()
    layout = tuple(len(g) for g in groups)
    if layout not in _NDC_LAYOUTS:
        shape = "-".join(map(str, layout))
        raise InvalidValue(f"{text}: no NDC has {shape} digits, {_NDC_EXAMPLE}")
    short = _NDC_LAYOUTS[layout]
    return "".join("0" + group if index == short else group for index, group in enumerate(groups))


def ndc_text(digits: str) -> str:
    """An 11-digit NDC as people read it, 5-4-2: ``"12345678901"`` -> ``"12345-6789-01"``."""
    return f"{digits[:5]}-{digits[5:9]}-{digits[9:]}"


def ndc_claim_text(digits: str, quantity: Decimal, unit: str = NDC_UNIT_MILLIGRAM) -> str:
    """The drug line's NDC as a claim form's shaded area holds it: the N4 qualifier and
    the 11 digits, a space, the unit qualifier and the quantity (``"N412345678901 ME35"``)."""
    amount = format(quantity.normalize(), "f")  # 35.0 -> "35", 37.50 -> "37.5"
    return f"N4{digits} {unit}{amount}"


def is_drug_code(code: str) -> bool:
    """True for a HCPCS code that bills a drug (J codes, and S0013 esketamine per mg): the
    lines an insurer wants an NDC on."""
    return code.startswith("J") or code in _DRUG_CODES
