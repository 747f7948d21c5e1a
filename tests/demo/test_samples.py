"""The sample 835 files shipped in ketadesk/resources/samples: valid X12, and balanced.

Each file passes pyx12 against the 835 guide (which also knows the CARC and RARC code
lists), is marked as a test file, reads back with the importer's reader, and adds up: the
payment is the sum of its claims' payments, each line's payment and adjustments are what
was billed, and each claim's patient share is its PR adjustments. Together they show what
posting meets: payments, denials, a line denied beside paid ones, deductible, coinsurance
and copay. How the demo writes them is tested in test_claims.py, on a generated demo.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ketadesk.billing.edi.model import Remittance
from ketadesk.billing.edi.validate import problems
from ketadesk.billing.edi.x835 import read_835
from ketadesk.config import RESOURCES
from ketadesk.demo.samples import SAMPLES

FOLDER = Path(str(RESOURCES / "samples"))  # the source tree or the installed package
FILES = sorted(FOLDER.glob("*.835"))
ZERO = Decimal("0.00")


def test_a_sample_ships_for_each_kind_with_a_note_that_it_is_fictional() -> None:
    assert sorted(path.stem for path in FILES) == sorted(name for name, _wanted in SAMPLES)
    note = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert "invention" in note and "fictional" in note


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_sample_passes_pyx12_as_a_test_file(path: Path) -> None:
    text = path.read_text(encoding="ascii")
    assert problems(text) == []
    isa = text.split("~", 1)[0].split("*")
    assert isa[15] == "T"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_sample_adds_up(path: Path) -> None:
    remit = read_835(path.read_text(encoding="ascii"))
    assert remit.claims
    assert remit.total_paid == sum((c.paid for c in remit.claims), ZERO)
    for claim in remit.claims:
        assert claim.services
        assert claim.billed == sum((s.billed for s in claim.services), ZERO)
        assert claim.paid == sum((s.paid for s in claim.services), ZERO)
        shares = [a for s in claim.services for a in s.adjustments if a.group == "PR"]
        assert claim.patient_responsibility == sum((a.amount for a in shares), ZERO)
        for service in claim.services:
            adjusted = sum((a.amount for a in service.adjustments), ZERO)
            assert service.paid + adjusted == service.billed
            assert service.line_id and service.service_date is not None


def _adjustments(remits: list[Remittance]) -> set[str]:
    return {
        f"{a.group}-{a.reason}"
        for r in remits
        for c in r.claims
        for s in c.services
        for a in s.adjustments
    }


def test_the_samples_show_what_posting_meets() -> None:
    remits = [read_835(path.read_text(encoding="ascii")) for path in FILES]
    statuses = {c.status for r in remits for c in r.claims}
    assert {"1", "4"} <= statuses
    assert {"CO-45", "CO-97", "PR-1", "PR-2", "PR-3"} <= _adjustments(remits)
    remarks = {code for r in remits for c in r.claims for s in c.services for code in s.remarks}
    assert remarks  # denials say why in remark codes too
    medicare = read_835((FOLDER / "medicare-deductible-coinsurance.835").read_text("ascii"))
    codes = {s.code for c in medicare.claims for s in c.services}
    assert codes <= {"G2082", "G2083"}
    assert all("KX" in s.modifiers for c in medicare.claims for s in c.services)
