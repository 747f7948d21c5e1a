"""The outcome measures: the four KetaDesk ships and the ones a clinic defines.

The shipped ones (PHQ-9, GAD-7, PCL-5, a 0–10 pain rating) are read once from
``ketadesk/resources/outcome_measures.toml``, where each names its source; they cannot be
changed. A clinic adds its own with :func:`define_measure` (a name, a range, which way is
better, an optional remission threshold); they live in the ``outcome_measure`` table.
Everything else reads a measure as a frozen :class:`Measure`, wherever it came from.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.config import RESOURCES
from ketadesk.errors import FieldProblem, ValidationError
from ketadesk.scheduling.outcomes.models import CustomMeasure

DEFAULTS_FILE = RESOURCES / "outcome_measures.toml"
PHQ9, GAD7, PCL5, PAIN = "phq9", "gad7", "pcl5", "pain"
SELF_HARM_ITEM = (
    9  # PHQ-9 item 9: thoughts that you would be better off dead or of hurting yourself
)
KEY_PATTERN = re.compile(r"[a-z][a-z0-9-]{1,39}")
MAXIMUM_LIMIT = 1000  # scores are small integers; a range beyond this is a typing slip
NAME_LENGTH = 80


@dataclass(frozen=True)
class Measure:
    """One outcome measure; totals run from ``minimum`` to ``maximum``.

    ``items`` is how many questions it has (0 for a single rating), each scored 0 to
    ``item_maximum``. ``remission_threshold`` is the total past which the patient is in
    remission (under it when lower is better, over it otherwise), or ``None`` when the
    measure has no remission.
    """

    key: str
    name: str
    maximum: int
    minimum: int = 0
    lower_is_better: bool = True
    remission_threshold: int | None = None
    items: int = 0
    item_maximum: int = 0
    condition: str = ""
    source: str = ""
    shipped: bool = True

    @property
    def range_words(self) -> str:
        return f"{self.minimum}–{self.maximum}"


@cache
def shipped() -> tuple[Measure, ...]:
    """The measures KetaDesk ships, in the order of the resource file."""
    with DEFAULTS_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    return tuple(
        Measure(
            key=key,
            name=entry["name"],
            maximum=entry["maximum"],
            remission_threshold=entry.get("remission_below"),
            items=entry["items"],
            item_maximum=entry["item_maximum"],
            condition=entry["condition"],
            source=entry["source"],
        )
        for key, entry in raw.items()
    )


def _custom(row: CustomMeasure) -> Measure:
    return Measure(
        key=row.key,
        name=row.name,
        minimum=row.minimum,
        maximum=row.maximum,
        lower_is_better=row.lower_is_better,
        remission_threshold=row.remission_threshold,
        condition="Clinic-defined",
        source=f"defined by {row.created_by or 'the clinic'}",
        shipped=False,
    )


def all_measures(session: Session) -> tuple[Measure, ...]:
    """The shipped measures, then the clinic's own by name."""
    own = session.scalars(select(CustomMeasure).order_by(CustomMeasure.name)).all()
    return shipped() + tuple(_custom(row) for row in own)


def measure(session: Session, key: str) -> Measure:
    """The measure called ``key`` (``phq9``, or a custom measure's key, any case).

    Raises :class:`ValidationError` on ``measure`` naming the keys there are.
    """
    wanted = key.strip().lower()
    for known in shipped():
        if known.key == wanted:
            return known
    row = session.scalars(select(CustomMeasure).where(CustomMeasure.key == wanted)).first()
    if row is not None:
        return _custom(row)
    keys = ", ".join(m.key for m in all_measures(session))
    raise ValidationError.single("measure", f"there is no measure {key.strip()!r}; use {keys}")


def define_measure(
    session: Session,
    actor: Actor,
    key: str,
    name: str,
    maximum: int,
    *,
    minimum: int = 0,
    lower_is_better: bool = True,
    remission_threshold: int | None = None,
) -> Measure:
    """Add a clinic's own measure; needs ``CLINICAL_SETUP``.

    Raises :class:`ValidationError` for a key that is taken or not a short lower-case word,
    a blank name, or a range or threshold that does not fit.
    """
    actor.require(Permission.CLINICAL_SETUP)
    key = key.strip().lower()
    name = " ".join(name.split())
    problems = list(_definition_problems(session, key, name, minimum, maximum, remission_threshold))
    if problems:
        raise ValidationError(problems)
    row = CustomMeasure(
        key=key,
        name=name,
        minimum=minimum,
        maximum=maximum,
        lower_is_better=lower_is_better,
        remission_threshold=remission_threshold,
        created_by=actor.username,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "create", "outcome_measure", row.key, after=audit.snapshot(row))
    return _custom(row)


def _definition_problems(
    session: Session,
    key: str,
    name: str,
    minimum: int,
    maximum: int,
    threshold: int | None,
) -> Iterator[FieldProblem]:
    if not KEY_PATTERN.fullmatch(key):
        yield FieldProblem(
            "key", "a key is 2–40 lower-case letters, digits or dashes, starting with a letter"
        )
    else:
        try:
            measure(session, key)
        except ValidationError:
            pass
        else:
            yield FieldProblem("key", f"there is already a measure {key!r}")
    if not name:
        yield FieldProblem("name", "give the measure a name")
    elif len(name) > NAME_LENGTH:
        yield FieldProblem("name", f"a name has at most {NAME_LENGTH} characters")
    if not 0 <= minimum < maximum <= MAXIMUM_LIMIT:
        yield FieldProblem(
            "maximum",
            f"the range must run upwards within 0–{MAXIMUM_LIMIT}, not {minimum}–{maximum}",
        )
    elif threshold is not None and not minimum < threshold <= maximum:
        yield FieldProblem(
            "remission_threshold",
            f"a remission threshold lies inside the range {minimum}–{maximum}",
        )
