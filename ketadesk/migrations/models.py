"""Every table, imported in one place so ``Base.metadata`` is complete.

Alembic's environment and the tests import this module; application code imports
the models it needs from their own packages.
"""

from ketadesk.access.models import AuditEntry, User
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

__all__ = [
    "AuditEntry",
    "Base",
    "Chair",
    "Closure",
    "Counter",
    "Diagnosis",
    "HolidayWorked",
    "InsurancePolicy",
    "Location",
    "Observation",
    "OpeningHours",
    "Patient",
    "PatientSearchWord",
    "Payer",
    "Protocol",
    "Provider",
    "Series",
    "SessionStep",
    "TreatmentSession",
    "User",
    "VitalSign",
    "WaitlistEntry",
]
