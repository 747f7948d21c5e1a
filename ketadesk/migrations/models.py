"""Every table, imported in one place so ``Base.metadata`` is complete.

Alembic's environment and the tests import this module; application code imports
the models it needs from their own packages.
"""

from ketadesk.access.models import AuditEntry, User
from ketadesk.billing.claims.models import (
    Claim,
    ClaimBatch,
    ClaimEvent,
    ClaimLine,
    Remit,
    RemitAdjustment,
    RemitClaim,
    RemitLine,
)
from ketadesk.billing.models import (
    Allocation,
    BillingPolicy,
    Charge,
    Estimate,
    EstimateLine,
    FeeItem,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    PackagePurchase,
    PackageTemplate,
    PackageUse,
)
from ketadesk.clinic.consent.models import ConsentText, ConsentWithdrawal, SignedConsent
from ketadesk.clinic.history.models import PriorTreatment
from ketadesk.clinic.intake.models import (
    FindingOverride,
    IntakeAnswer,
    IntakeAssessment,
    IntakeMedication,
    IntakeSetting,
    ScreeningRule,
)
from ketadesk.clinic.models import (
    Chair,
    Closure,
    Diagnosis,
    HolidayWorked,
    InsurancePolicy,
    Location,
    OpeningHours,
    Patient,
    PatientSearchWord,
    Payer,
    Provider,
)
from ketadesk.db import Base, Counter
from ketadesk.scheduling.models import (
    Observation,
    Protocol,
    Series,
    SessionStep,
    TreatmentSession,
    VitalSign,
    WaitlistEntry,
)
from ketadesk.scheduling.outcomes.models import CustomMeasure, OutcomeScore, SafetyAlert
from ketadesk.scheduling.side_effects.models import ReviewClearance, SideEffect

__all__ = [
    "Allocation",
    "AuditEntry",
    "Base",
    "BillingPolicy",
    "Chair",
    "Charge",
    "Claim",
    "ClaimBatch",
    "ClaimEvent",
    "ClaimLine",
    "Closure",
    "ConsentText",
    "ConsentWithdrawal",
    "Counter",
    "CustomMeasure",
    "Diagnosis",
    "Estimate",
    "EstimateLine",
    "FeeItem",
    "FindingOverride",
    "HolidayWorked",
    "InsurancePolicy",
    "IntakeAnswer",
    "IntakeAssessment",
    "IntakeMedication",
    "IntakeSetting",
    "Invoice",
    "InvoiceLine",
    "LedgerEntry",
    "Location",
    "Observation",
    "OpeningHours",
    "OutcomeScore",
    "PackagePurchase",
    "PackageTemplate",
    "PackageUse",
    "Patient",
    "PatientSearchWord",
    "Payer",
    "PriorTreatment",
    "Protocol",
    "Provider",
    "Remit",
    "RemitAdjustment",
    "RemitClaim",
    "RemitLine",
    "ReviewClearance",
    "SafetyAlert",
    "ScreeningRule",
    "Series",
    "SessionStep",
    "SideEffect",
    "SignedConsent",
    "TreatmentSession",
    "User",
    "VitalSign",
    "WaitlistEntry",
]
