"""Roles, permissions, and the table that joins them.

Services consult this table through :meth:`Actor.require`; hiding a button in the window is
a courtesy on top, never the check itself. The table is data, so a reader can see at a
glance what the front desk may do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ketadesk.errors import PermissionDenied


class Role(enum.StrEnum):
    FRONT_DESK = "front_desk"
    CLINICAL = "clinical"
    BILLING = "billing"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {"front_desk": "Front desk"}.get(self.value, self.value.capitalize())


class Permission(enum.StrEnum):
    PATIENT_VIEW = "patient.view"
    PATIENT_EDIT = "patient.edit"
    POLICY_EDIT = "policy.edit"
    CLINIC_VIEW = "clinic.view"
    CLINIC_SETUP = "clinic.setup"  # locations, hours, closures, chairs, providers, payers
    USER_ADMIN = "user.admin"
    AUDIT_VIEW = "audit.view"
    SCHEDULE_VIEW = "schedule.view"
    SCHEDULE_BOOK = "schedule.book"  # plan, book, move, cancel; series status; waitlist
    SESSION_ARRIVAL = "session.arrival"  # confirm, check in, record a no-show
    FLOOR_CLINICAL = "floor.clinical"  # checklist, dose, vitals, monitoring, discharge, REMS
    PROTOCOL_EDIT = "protocol.edit"
    BILLING_VIEW = "billing.view"  # ledgers, invoices, estimates, packages, superbills
    PAYMENT_TAKE = "payment.take"  # take a payment, sell a package
    CHARGE_REVIEW = "charge.review"  # review and post charges; invoices; estimates
    MONEY_CORRECT = "money.correct"  # adjustments, refunds, reversals, voiding invoices
    FEE_SCHEDULE_EDIT = "fee_schedule.edit"  # fee schedule, package templates, fee policy
    CLAIM_WORK = "claim.work"  # build, check, send and follow claims; post remittances
    REPORT_VIEW = "report.view"  # the manager's figures: revenue, AR, operations, outcomes
    CONSENT_TAKE = "consent.take"  # print a consent form and record it signed
    CLINICAL_RECORD = "clinical.record"  # intake, treatment history, scores, side effects
    CLINICAL_DECIDE = "clinical.decide"  # override a finding, acknowledge an alert, clear a review
    CLINICAL_SETUP = "clinical.setup"  # consent texts and screening rules

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Permission.PATIENT_VIEW: "view patient records",
    Permission.PATIENT_EDIT: "register and edit patients",
    Permission.POLICY_EDIT: "edit insurance policies",
    Permission.CLINIC_VIEW: "view clinic setup",
    Permission.CLINIC_SETUP: "change clinic setup (locations, chairs, providers, payers)",
    Permission.USER_ADMIN: "manage users",
    Permission.AUDIT_VIEW: "read the audit log",
    Permission.SCHEDULE_VIEW: "view the schedule",
    Permission.SCHEDULE_BOOK: "book, move or cancel sessions",
    Permission.SESSION_ARRIVAL: "confirm or check in sessions",
    Permission.FLOOR_CLINICAL: "record dosing, vital signs and discharge",
    Permission.PROTOCOL_EDIT: "edit treatment protocols",
    Permission.BILLING_VIEW: "view patient accounts and billing",
    Permission.PAYMENT_TAKE: "take payments or sell packages",
    Permission.CHARGE_REVIEW: "review charges, invoices and estimates",
    Permission.MONEY_CORRECT: "adjust, refund, reverse or void",
    Permission.FEE_SCHEDULE_EDIT: "edit the fee schedule and packages",
    Permission.CLAIM_WORK: "build, send and follow insurance claims, and post remittances",
    Permission.REPORT_VIEW: "read the manager's reports (revenue, receivables, operations)",
    Permission.CONSENT_TAKE: "print consent forms and record them signed",
    Permission.CLINICAL_RECORD: (
        "record intakes, treatment histories, outcome scores and side effects"
    ),
    Permission.CLINICAL_DECIDE: (
        "override a screening finding, acknowledge a safety alert or clear a review"
    ),
    Permission.CLINICAL_SETUP: "edit consent texts and screening rules",
}

_EVERYONE = {Permission.PATIENT_VIEW, Permission.CLINIC_VIEW, Permission.SCHEDULE_VIEW}
_REGISTRATION = {Permission.PATIENT_EDIT, Permission.POLICY_EDIT}
_DESK = {Permission.SCHEDULE_BOOK, Permission.SESSION_ARRIVAL}
_CASHIER = {Permission.BILLING_VIEW, Permission.PAYMENT_TAKE}
_BILLING = _CASHIER | {
    Permission.CHARGE_REVIEW,
    Permission.MONEY_CORRECT,
    Permission.FEE_SCHEDULE_EDIT,
    Permission.CLAIM_WORK,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FRONT_DESK: frozenset(
        _EVERYONE | _REGISTRATION | _DESK | _CASHIER | {Permission.CONSENT_TAKE}
    ),
    Role.CLINICAL: frozenset(
        _EVERYONE
        | _DESK
        | {
            Permission.PATIENT_EDIT,
            Permission.FLOOR_CLINICAL,
            Permission.CONSENT_TAKE,
            Permission.CLINICAL_RECORD,
            Permission.CLINICAL_DECIDE,
        }
    ),
    Role.BILLING: frozenset(_EVERYONE | _REGISTRATION | _BILLING),
    Role.MANAGER: frozenset(
        _EVERYONE
        | _REGISTRATION
        | _DESK
        | _BILLING
        | {
            Permission.CLINIC_SETUP,
            Permission.AUDIT_VIEW,
            Permission.PROTOCOL_EDIT,
            Permission.REPORT_VIEW,
            Permission.CONSENT_TAKE,
            Permission.CLINICAL_SETUP,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Actor:
    """The person an action is done for: a logged-in user, or the KetaDesk user a command
    line acts as (``os_account`` then names the operating-system account that ran it)."""

    username: str
    role: Role
    user_id: int | None = None
    os_account: str | None = None

    @property
    def signature(self) -> str:
        """How the audit log names this actor: ``nina``, or ``nina (os:nina)`` for a command
        run by the operating-system account ``nina``."""
        if self.os_account is None:
            return self.username
        return f"{self.username} (os:{self.os_account})"

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Raise :class:`PermissionDenied` unless this actor's role grants ``permission``."""
        if not self.can(permission):
            raise PermissionDenied(
                f"{self.username} ({self.role.label}) may not {permission.label}"
            )


SEEDING = "system:seeding"
"""The audit name of :func:`seeding_actor`; the colon keeps it apart from every user name."""


def seeding_actor() -> Actor:
    """KetaDesk itself, writing what it ships (protocols, fee schedule, package templates,
    the first administrator of a new database, a demo clinic) where none exists yet.

    Not a person and never logged in: the window calls it only to seed defaults before the
    log-in dialog, ``ketadesk init`` and ``demo-data`` only on a database without users.
    Everything a person does acts as that person's own account.
    """
    return Actor(username=SEEDING, role=Role.ADMIN)
