"""Imports every model so that Alembic and create_all see the whole schema."""

from vigtrain.accounts.models import RecoveryCode, User, UserRole
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, Cycle
from vigtrain.notifications.models import OutboxMessage
from vigtrain.organisations.models import Region, Service
from vigtrain.pathways.models import Assessment, Enrolment, PathwayVersion, StageRecord, StageTransition
from vigtrain.supervision.models import SupervisionSession

__all__ = [
    "Assessment",
    "AuditEvent",
    "Case",
    "Cycle",
    "Enrolment",
    "OutboxMessage",
    "PathwayVersion",
    "RecoveryCode",
    "Region",
    "Service",
    "StageRecord",
    "StageTransition",
    "SupervisionSession",
    "User",
    "UserRole",
]
