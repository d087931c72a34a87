"""Imports every model so that Alembic and create_all see the whole schema."""

from vigtrain.accounts.models import RecoveryCode, User, UserRole
from vigtrain.api_tokens.models import PersonalAccessToken
from vigtrain.audit import AuditEvent, AuditRewrite
from vigtrain.casework.models import Case, Cycle
from vigtrain.certificates.models import BulkIssue, BulkIssueItem, Certificate
from vigtrain.cohorts.models import Cohort
from vigtrain.dcs.models import Administration, CaseOutcome, LicensedWording, MeasureInvitation
from vigtrain.flow.models import CostRate, FlowSnapshot
from vigtrain.jobs.models import JobRun
from vigtrain.notifications.models import Notification, NotificationPreference, OutboxMessage
from vigtrain.organisations.models import Region, Service
from vigtrain.pathways.models import (
    Assessment,
    Enrolment,
    EnrolmentStatusChange,
    PathwayVersion,
    StageRecord,
    StageTransition,
)
from vigtrain.privacy.models import Erasure
from vigtrain.scheduler import SchedulerLease
from vigtrain.submissions import FormSubmission
from vigtrain.supervision.models import SupervisionSession

__all__ = [
    "Administration",
    "Assessment",
    "AuditEvent",
    "AuditRewrite",
    "BulkIssue",
    "BulkIssueItem",
    "Case",
    "CaseOutcome",
    "Certificate",
    "Cohort",
    "CostRate",
    "Cycle",
    "Enrolment",
    "EnrolmentStatusChange",
    "Erasure",
    "FlowSnapshot",
    "FormSubmission",
    "JobRun",
    "LicensedWording",
    "MeasureInvitation",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "PathwayVersion",
    "PersonalAccessToken",
    "RecoveryCode",
    "Region",
    "SchedulerLease",
    "Service",
    "StageRecord",
    "StageTransition",
    "SupervisionSession",
    "User",
    "UserRole",
]
