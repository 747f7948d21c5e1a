"""An assessment read against the clinic's rules: its findings, each with what it does.

A **finding** is a condition answered present, or a medication interaction class found in
the medication list. Its rule comes from the clinic's screening rules; an ignored one is
left out. An absolute finding with a provider's override is still listed, with the override,
and no longer stops dosing (:attr:`Finding.blocks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ketadesk.clinic.intake.conditions import interaction_classes, interactions_in, label_of
from ketadesk.clinic.intake.models import FindingOverride, FindingRule, IntakeAssessment


@dataclass(frozen=True)
class OverrideView:
    provider: str
    reason: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class Finding:
    """One finding: ``key`` is its rule key and, after ``intake:``, its warning code."""

    key: str
    label: str
    kind: str  # "condition" or "interaction"
    rule: FindingRule
    details: str
    override: OverrideView | None = None

    @property
    def code(self) -> str:
        return f"intake:{self.key}"

    @property
    def blocks(self) -> bool:
        """An absolute finding no provider has overridden: dosing is refused."""
        return self.rule is FindingRule.ABSOLUTE and self.override is None


def override_view(row: FindingOverride) -> OverrideView:
    return OverrideView(row.provider.display_name, row.reason, row.recorded_by, row.recorded_at)


def findings_of(
    assessment: IntakeAssessment, rules: Mapping[str, FindingRule]
) -> tuple[Finding, ...]:
    """Every finding of ``assessment`` that the rules do not ignore, conditions first."""
    overrides = {row.condition: override_view(row) for row in assessment.overrides}
    found: list[Finding] = []
    for answer in assessment.answers:
        rule = rules.get(answer.condition, FindingRule.RELATIVE)
        if answer.present and rule is not FindingRule.IGNORE:
            found.append(
                Finding(
                    answer.condition,
                    label_of(answer.condition),
                    "condition",
                    rule,
                    answer.details,
                    overrides.get(answer.condition),
                )
            )
    found.extend(_interaction_findings(assessment, rules, overrides))
    return tuple(found)


def _interaction_findings(
    assessment: IntakeAssessment,
    rules: Mapping[str, FindingRule],
    overrides: Mapping[str, OverrideView],
) -> list[Finding]:
    named = interactions_in(m.name for m in assessment.medications)
    found = []
    for cls in interaction_classes():
        rule = rules.get(cls.key, FindingRule.RELATIVE)
        if cls.key in named and rule is not FindingRule.IGNORE:
            details = f"{', '.join(named[cls.key])}: {cls.effect}"
            found.append(
                Finding(cls.key, cls.label, "interaction", rule, details, overrides.get(cls.key))
            )
    return found
