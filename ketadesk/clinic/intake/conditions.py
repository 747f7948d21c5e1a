"""What the intake asks and what the clinic can rule on, read from the shipped resources.

Three kinds of rule key share one namespace (each is also a booking warning code
``intake:<key>``):

* a **condition** asked on the intake (``liver_disease``), present or absent;
* a medication **interaction** class (``benzodiazepine``), found by name in the
  medication list (:func:`interactions_in`);
* the **intake state** itself: ``intake_missing`` and ``intake_expired``.

The defaults (rule and source in words) live in ``resources/screening_rules.toml`` and
``resources/medication_interactions.toml``; the clinic's changes are rows of
:class:`~ketadesk.clinic.intake.models.ScreeningRule`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from ketadesk.clinic.intake.models import FindingRule
from ketadesk.config import RESOURCES

RULES_FILE = RESOURCES / "screening_rules.toml"
INTERACTIONS_FILE = RESOURCES / "medication_interactions.toml"
STATE_KEYS = ("intake_missing", "intake_expired")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class RuleDefault:
    """One shipped rule: what it is about, what it does by default, and why."""

    key: str
    label: str
    kind: str  # "condition", "interaction" or "state"
    rule: FindingRule
    source: str


@dataclass(frozen=True)
class InteractionClass:
    key: str
    label: str
    effect: str
    names: frozenset[str]


@cache
def rule_defaults() -> Mapping[str, RuleDefault]:
    """Every rule key in order: the conditions as asked, the interactions, the states."""
    with RULES_FILE.open("rb") as handle:
        rules = tomllib.load(handle)
    with INTERACTIONS_FILE.open("rb") as handle:
        classes = tomllib.load(handle)
    found: dict[str, RuleDefault] = {}
    for key, values in rules.items():
        kind = "state" if key in STATE_KEYS else "condition"
        found[key] = _default(key, kind, values)
    for key, values in classes.items():
        found[key] = _default(key, "interaction", values)
    ordered = [k for k in found if found[k].kind != "state"] + list(STATE_KEYS)
    return MappingProxyType({key: found[key] for key in ordered})


def _default(key: str, kind: str, values: Mapping[str, object]) -> RuleDefault:
    return RuleDefault(
        key, str(values["label"]), kind, FindingRule(str(values["rule"])), str(values["source"])
    )


def conditions() -> tuple[RuleDefault, ...]:
    """The conditions the intake asks about, in the order asked."""
    return tuple(d for d in rule_defaults().values() if d.kind == "condition")


def condition_keys() -> tuple[str, ...]:
    return tuple(d.key for d in conditions())


@cache
def interaction_classes() -> tuple[InteractionClass, ...]:
    with INTERACTIONS_FILE.open("rb") as handle:
        classes = tomllib.load(handle)
    return tuple(
        InteractionClass(
            key,
            str(values["label"]),
            str(values["effect"]),
            frozenset(str(name).casefold() for name in values["names"]),
        )
        for key, values in classes.items()
    )


def interactions_of(medication: str) -> tuple[InteractionClass, ...]:
    """The interaction classes a medication's name belongs to (whole words, any case)."""
    words = set(_WORD.findall(medication.casefold()))
    return tuple(c for c in interaction_classes() if words & c.names)


def interactions_in(medications: Iterable[str]) -> dict[str, list[str]]:
    """``{class key: [medication names]}`` for every class found in the list."""
    found: dict[str, list[str]] = {}
    for name in medications:
        for cls in interactions_of(name):
            found.setdefault(cls.key, []).append(name)
    return found


def label_of(key: str) -> str:
    default = rule_defaults().get(key)
    return default.label if default else key.replace("_", " ").capitalize()
