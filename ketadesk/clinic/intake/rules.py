"""The clinic's screening rules and intake settings: the shipped defaults, as changed.

:func:`screening_rules` answers every rule key with its effective rule (the clinic's row,
else the default) and its source; :func:`set_rule` and :func:`set_valid_months` change them
(``CLINICAL_SETUP``, audited). :func:`effective_rules` is the plain mapping the findings and
the candidacy checks read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ketadesk.access import audit
from ketadesk.access.permissions import Actor, Permission
from ketadesk.clinic.intake.conditions import rule_defaults
from ketadesk.clinic.intake.models import FindingRule, IntakeSetting, ScreeningRule
from ketadesk.errors import ValidationError

DEFAULT_VALID_MONTHS = 12
MAX_VALID_MONTHS = 60
SETTING_ID = 1


@dataclass(frozen=True)
class RuleRow:
    """One line of the rules table as the clinic sees it."""

    key: str
    label: str
    kind: str
    rule: FindingRule
    default: FindingRule
    source: str

    @property
    def changed(self) -> bool:
        return self.rule != self.default


def effective_rules(session: Session) -> dict[str, FindingRule]:
    """Every rule key with the rule in force: the clinic's choice, else the default."""
    rows = session.execute(select(ScreeningRule.key, ScreeningRule.rule)).all()
    chosen = {row.key: row.rule for row in rows}
    return {key: chosen.get(key, d.rule) for key, d in rule_defaults().items()}


def screening_rules(session: Session) -> list[RuleRow]:
    """The rules table, in the order the intake asks (conditions, interactions, states)."""
    rules = effective_rules(session)
    return [
        RuleRow(key, d.label, d.kind, rules[key], d.rule, d.source)
        for key, d in rule_defaults().items()
    ]


def parse_rule_key(text: str, field: str = "key") -> str:
    key = text.strip().casefold().replace("-", "_").replace(" ", "_")
    if key not in rule_defaults():
        raise ValidationError.single(
            field,
            f"{text.strip()!r} is not a screening rule; expected one of "
            f"{', '.join(rule_defaults())}",
        )
    return key


def parse_rule(text: str, field: str = "rule") -> FindingRule:
    try:
        return FindingRule(text.strip().casefold())
    except ValueError:
        raise ValidationError.single(
            field, f"{text.strip()!r} is not a rule; expected absolute, relative or ignore"
        ) from None


def set_rule(session: Session, actor: Actor, key: str, rule: FindingRule | str) -> RuleRow:
    """Make ``key`` absolute, relative or ignored for the clinic; returns the new row."""
    actor.require(Permission.CLINICAL_SETUP)
    key = parse_rule_key(key)
    chosen = rule if isinstance(rule, FindingRule) else parse_rule(rule)
    before = effective_rules(session)[key]
    row = session.get(ScreeningRule, key)
    if row is None:
        row = ScreeningRule(key=key, rule=chosen, changed_by=actor.username)
        session.add(row)
    else:
        row.rule, row.changed_by = chosen, actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "screening_rule",
        key,
        before={"rule": before.value},
        after={"rule": chosen.value},
    )
    return next(r for r in screening_rules(session) if r.key == key)


def valid_months(session: Session) -> int:
    """How many months an intake stays valid at this clinic (12 unless changed)."""
    setting = session.get(IntakeSetting, SETTING_ID)
    return setting.valid_months if setting is not None else DEFAULT_VALID_MONTHS


def set_valid_months(session: Session, actor: Actor, months: int | str) -> int:
    """Change how long an intake stays valid: 1 to 60 months."""
    actor.require(Permission.CLINICAL_SETUP)
    text = str(months).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_VALID_MONTHS:
        raise ValidationError.single(
            "valid_months", f"{text!r} is not a number of months from 1 to {MAX_VALID_MONTHS}"
        )
    before = valid_months(session)
    setting = session.get(IntakeSetting, SETTING_ID)
    if setting is None:
        setting = IntakeSetting(id=SETTING_ID, valid_months=int(text))
        session.add(setting)
    setting.valid_months, setting.changed_by = int(text), actor.username
    session.flush()
    audit.record(
        session,
        actor,
        "update",
        "intake_setting",
        SETTING_ID,
        before={"valid_months": before},
        after={"valid_months": int(text)},
    )
    return int(text)
