"""The shipped table of minimum adequate antidepressant doses and the weeks a trial needs.

``ketadesk/resources/adequate_trials.toml`` holds them with their source in words (payers'
prior-authorisation policies, the MGH ATRQ and the APA guideline); :func:`adequacy_table`
reads it once. :meth:`AdequacyTable.drug` finds a drug by its generic or brand name as
typed ("Zoloft", "sertraline ER"), so the rule never depends on how a name was spelled.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from ketadesk.config import RESOURCES

TABLE_FILE = RESOURCES / "adequate_trials.toml"
_RELEASE_WORDS = ("xr", "er", "sr", "xl", "cr", "la", "hcl")  # "venlafaxine XR" is venlafaxine


@dataclass(frozen=True)
class AdequateDose:
    drug: str  # the generic name, lower case
    minimum_mg: Decimal


@dataclass(frozen=True)
class AdequacyTable:
    source: str
    minimum_weeks: int
    doses: dict[str, AdequateDose]  # by every name it is known by, lower case

    def drug(self, name: str) -> AdequateDose | None:
        """The drug ``name`` means (generic or brand; release words ignored), if listed."""
        words = name.lower().replace("-", " ").split()
        while words and words[-1] in _RELEASE_WORDS:
            words.pop()
        return self.doses.get(" ".join(words))


@cache
def adequacy_table() -> AdequacyTable:
    with TABLE_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    doses: dict[str, AdequateDose] = {}
    for generic, values in raw["drugs"].items():
        dose = AdequateDose(generic, Decimal(str(values["minimum_mg"])))
        for name in (generic, *values.get("names", ())):
            doses[name.lower()] = dose
    return AdequacyTable(
        source=" ".join(raw["source"]["text"].split()),
        minimum_weeks=int(raw["duration"]["minimum_weeks"]),
        doses=doses,
    )
