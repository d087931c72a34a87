"""Erasure under UK GDPR: a person's account and identifying details go; what AVIGuk must keep stays.

The account row stays as a tombstone under a random pseudonym, because cases, enrolments, sessions and
certificates point at it. What goes: sign-in, contact and second-factor details, roles and appointments,
tokens, preferences, their own notifications and mail, and free text by or about them. What stays,
pseudonymised: the dated structure of their training (it underpins certificates and national figures),
their anonymised DCS outcome data, the certificate register entry (its public answer says the name was
removed) and the audit trail, with the person replaced by the pseudonym everywhere.

One transaction does all of it: `erase_person` flushes and never commits, so a failure at any step
leaves the database as it was. Uploaded statement files are deleted only once that transaction commits.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Enum,
    Integer,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from vigtrain import audit, codes, uploads
from vigtrain.accounts.models import RecoveryCode, Role, User, UserRole, new_security_stamp
from vigtrain.api_tokens.models import PersonalAccessToken
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, Cycle
from vigtrain.certificates.models import Certificate, CredentialOffer, TrainingTranscript
from vigtrain.cohorts.models import Cohort
from vigtrain.dates import utcnow
from vigtrain.dcs.models import Administration
from vigtrain.encryption import EncryptedString
from vigtrain.errors import DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.imports.staging import forget_mentioning
from vigtrain.notifications.models import Notification, NotificationPreference, OutboxMessage
from vigtrain.pathways.models import (
    FINISHED_STATES,
    Assessment,
    Enrolment,
    EnrolmentStatus,
    StageRecord,
    StageTransition,
)
from vigtrain.privacy.models import Erasure
from vigtrain.security import is_administrator
from vigtrain.supervision.models import SupervisionSession

log = logging.getLogger("vigtrain.privacy.erasure")

MIN_REASON = 10
MAX_REASON = 2000
PSEUDONYM_PREFIX = "P-"
ERASED_DOMAIN = "erased.invalid"
# What replaces free text removed from the audit trail's before/after values.
REMOVED = "(removed on erasure)"
# Free text kept in before/after snapshots: written by the person, or about them. A case's end note is
# not here: it describes the client's case, which the DCS keeps.
FREE_TEXT_KEYS = frozenset(
    {
        "statement_text",
        "evidence",
        "comments",
        "meeting_comments",
        "note",
        "reflection",
        "next_steps",
        "supervisor_comments",
        "amendment_reason",
        "status_reason",
        "suspension_reason",
        "exemption_reason",
    }
)
# Keys whose value names the person in snapshots of their own account or certificates.
IDENTITY_KEYS = frozenset({"email", "display_name", "holder_name"})
# A name shorter than this is not searched for in other people's free text: it would match inside words.
MIN_NAME_SEARCH = 4
# Reference data: nothing there is about a person, and a service named after someone keeps its name.
NOT_SCANNED = frozenset(
    {
        "user",
        "audit_event",
        "audit_rewrite",
        "pathway_version",
        "region",
        "service",
        "scheduler_lease",
        "licensed_wording",
    }
)
# Columns that name someone else, or are set outright by the erasure.
NOT_SCANNED_COLUMNS = frozenset({("certificate", "holder_name"), ("outbox_message", "to_address")})
# Files to delete once the erasure's transaction commits (see `_delete_files_after_commit`).
PENDING_FILES = "erasure_files"
# Addresses whose staged bulk-import files (kept up to a day) go once the erasure commits.
PENDING_STAGED = "erasure_staged_imports"


def pseudonym_label(pseudonym: str) -> str:
    return f"Erased person {pseudonym}"


def pseudonym_email(pseudonym: str) -> str:
    return f"erased-{pseudonym.lower()}@{ERASED_DOMAIN}"


def new_pseudonym() -> str:
    """Random (it reveals nothing about the person or how many were erased), readable, and unused."""
    while True:
        body = "".join(secrets.choice(codes.ALPHABET) for _ in range(5))
        candidate = f"{PSEUDONYM_PREFIX}{body}{codes.check_symbol(body)}"
        if db.session.scalar(select(Erasure.id).where(Erasure.pseudonym == candidate)) is None:
            return candidate


# --- what may not be erased yet ------------------------------------------------------------------


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _supervising(person: User) -> int:
    return _count(
        select(Enrolment.id).where(
            Enrolment.supervisor_id == person.id,
            Enrolment.status.in_((EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED)),
        )
    )


def _accrediting(person: User) -> int:
    return _count(
        select(StageRecord.id)
        .join(Enrolment, StageRecord.enrolment_id == Enrolment.id)
        .where(
            StageRecord.accrediting_supervisor_id == person.id,
            StageRecord.state.not_in(FINISHED_STATES),
            Enrolment.status.in_((EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED)),
        )
    )


def _is_last_administrator(person: User) -> bool:
    if not (person.is_active_flag and person.has_role(Role.ADMINISTRATOR)):
        return False
    others = (
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            UserRole.role == Role.ADMINISTRATOR,
            User.is_active_flag.is_(True),
            User.erased_at.is_(None),
            User.id != person.id,
        )
    )
    return _count(others) == 0


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def blockers(actor: User | None, person: User) -> list[str]:
    """Why `person` cannot be erased now (empty if they can): what must change first."""
    problems = []
    if actor is not None and actor.id == person.id:
        problems.append("You cannot erase your own account. Ask another administrator.")
    if person.is_erased:
        problems.append("This person has already been erased.")
        return problems
    supervising = _supervising(person)
    if supervising:
        problems.append(
            f"They are still the personal supervisor of {_plural(supervising, 'trainee', 'trainees')} in training. "
            "Change their supervisor first."
        )
    accrediting = _accrediting(person)
    if accrediting:
        problems.append(
            f"They have been asked to accredit {_plural(accrediting, 'stage', 'stages')} not yet decided. "
            "Change their supervisor first (ask another accrediting supervisor)."
        )
    if _is_last_administrator(person):
        problems.append("They are the last active administrator. Appoint another administrator first.")
    return problems


def _check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Enter the reason for erasing this person's data", field="reason")
    if len(reason) < MIN_REASON:
        raise DomainError(f"The reason must be at least {MIN_REASON} characters", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"The reason must be {MAX_REASON:,} characters or fewer", field="reason")
    return reason


# --- what will be erased and what kept (counts for the page) ------------------------------------


@dataclass(frozen=True)
class Line:
    """One thing erased or kept; `count` None where it is simply the person's (their account)."""

    text: str
    count: int | None


@dataclass(frozen=True)
class Preview:
    erased: list[Line]
    kept: list[Line]


def _own_enrolments(person: User):
    return select(Enrolment.id).where(Enrolment.trainee_id == person.id)


def _own_stages(person: User):
    return select(StageRecord.id).where(StageRecord.enrolment_id.in_(_own_enrolments(person)))


def _own_cases(person: User):
    return select(Case.id).where(Case.practitioner_id == person.id)


def preview(person: User) -> Preview:
    """What erasing `person` would remove and what it would keep, in words, with counts."""
    own_stages = _own_stages(person)
    statements = _count(
        select(StageRecord.id).where(
            StageRecord.id.in_(own_stages),
            or_(StageRecord.statement_text.is_not(None), StageRecord.statement_file_key.is_not(None)),
        )
    )
    sessions = _count(select(SupervisionSession.id).where(SupervisionSession.enrolment_id.in_(_own_enrolments(person))))
    supervised = _count(select(SupervisionSession.id).where(SupervisionSession.supervisor_id == person.id))
    assessments = _count(
        select(Assessment.id).where(
            or_(Assessment.stage_record_id.in_(own_stages), Assessment.assessor_id == person.id)
        )
    )
    tokens = _count(select(PersonalAccessToken.id).where(PersonalAccessToken.user_id == person.id))
    notifications = _count(select(Notification.id).where(Notification.recipient_id == person.id))
    mail = _count(select(OutboxMessage.id).where(OutboxMessage.to_address == person.email))
    events = _count(select(AuditEvent.id).where(AuditEvent.actor_id == person.id))
    erased = [
        Line("Name, email address, password and two-factor authentication (sign-in stops at once)", None),
        Line(f"Roles and appointments ({', '.join(sorted(role.label for role in person.roles)) or 'none'})", None),
        Line("Reflective statements (text and uploaded files)", statements),
        Line("Assessment comments about them or written by them (the ratings are kept)", assessments),
        Line("Notes on their supervision sessions, and comments they wrote as supervisor", sessions + supervised),
        Line("API tokens", tokens),
        Line("Their notifications", notifications),
        Line("Emails to them not yet deleted from the outbox", mail),
    ]
    enrolments = _count(_own_enrolments(person))
    cases = _count(_own_cases(person))
    administrations = _count(select(Administration.id).where(Administration.case_id.in_(_own_cases(person))))
    certificates = _count(select(Certificate.id).where(Certificate.holder_id == person.id))
    transcripts = _count(select(TrainingTranscript.id).where(TrainingTranscript.holder_id == person.id))
    kept = [
        Line("Enrolments, with their stage dates and states, under the pseudonym", enrolments),
        Line("Supervision sessions: dates, hours and ratings, without notes", sessions + supervised),
        Line("Cases (known only by code) and their anonymised outcome measures (DCS)", cases),
        Line("Outcome measures recorded on those cases", administrations),
        Line(
            "Certificates in the register: anyone checking one is told the holder's name was removed",
            certificates,
        ),
        Line("Training transcripts: anyone checking one is told the holder's name was removed", transcripts),
        Line("Audit events they performed, with their name and email replaced by the pseudonym", events),
    ]
    return Preview(erased=erased, kept=kept)


# --- finding the person in text ----------------------------------------------------------------


def _identifiers(person: User) -> list[str]:
    """Every email and name the person has held: now, in their account's audit snapshots, on events
    they performed and on their certificates. Longest first, so an email goes before a name inside it."""
    found = {person.email, person.display_name}
    snapshots = db.session.execute(
        select(AuditEvent.before, AuditEvent.after).where(
            AuditEvent.entity_type == "User", AuditEvent.entity_id == str(person.id)
        )
    )
    for before, after in snapshots:
        for values in (before, after):
            if isinstance(values, dict):
                found |= {values[key] for key in ("email", "display_name") if isinstance(values.get(key), str)}
    found |= set(db.session.scalars(select(AuditEvent.actor_label).where(AuditEvent.actor_id == person.id).distinct()))
    found |= set(db.session.scalars(select(Certificate.holder_name).where(Certificate.holder_id == person.id)))
    found |= set(
        db.session.scalars(select(TrainingTranscript.holder_name).where(TrainingTranscript.holder_id == person.id))
    )
    kept = {value.strip() for value in found if value and len(value.strip()) >= MIN_NAME_SEARCH}
    kept.discard("system")
    return sorted(kept, key=lambda value: (-len(value), value))


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _mentions(column, identifiers: Iterable[str], as_json: bool = False):
    """SQL: the column's text (JSON as its text, where a name may be written with escapes) names someone.

    Each pattern is lowered twice: by Python (any capital) and by the database, the same way as the
    text. SQLite's lower(), and PostgreSQL's under the C locale, fold ASCII letters only, so a pattern
    lowered by Python alone never matches a name with a capital beyond ASCII ("Łucja") as it is written.
    """
    text = func.lower(cast(column, Text)) if as_json else func.lower(column)
    patterns = set()
    for value in identifiers:
        patterns.add(_like(value))
        if as_json:
            patterns.add(_like(json.dumps(value)[1:-1]))
    conditions = []
    for pattern in sorted(patterns):
        conditions.append(text.like(pattern.lower(), escape="\\"))
        conditions.append(text.like(func.lower(pattern), escape="\\"))
    return or_(*conditions)


class _Replacer:
    """Replaces the person's emails and names (any case) with their pseudonym label, inside any JSON value."""

    def __init__(self, identifiers: list[str], label: str) -> None:
        self.label = label
        self.identifiers = identifiers
        # Whole words only: erasing "Person 1" must not touch "Person 12".
        alternatives = "|".join(re.escape(value) for value in identifiers)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if identifiers else None

    def text(self, value: str) -> str:
        return self.pattern.sub(self.label, value) if self.pattern else value

    def value(self, value: Any, strip_free_text: bool = False, identity: bool = False) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item, strip_free_text, identity) for item in value]
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                if strip_free_text and key in FREE_TEXT_KEYS and isinstance(item, str) and item:
                    result[key] = REMOVED
                elif identity and key in IDENTITY_KEYS and isinstance(item, str):
                    result[key] = self.label
                else:
                    result[key] = self.value(item, strip_free_text, identity)
            return result
        return value


# --- the erasure ----------------------------------------------------------------------------------


def erase_person(actor: User | None, person: User, reason: str) -> Erasure:
    """Erase `person` (actor None: the retention schedule). Flushes, never commits: one transaction.

    Refuses (DomainError) a missing, short or long reason, oneself, someone already erased, a supervisor
    or accreditor with work in hand, and the last active administrator.
    """
    if actor is not None and not is_administrator(actor):
        raise PermissionDenied("Only administrators erase people")
    reason = _check_reason(reason)
    problems = blockers(actor, person)
    if problems:
        raise DomainError(problems[0], field="person")
    db.session.flush()
    identifiers = _identifiers(person)
    pseudonym = new_pseudonym()
    label = pseudonym_label(pseudonym)
    replacer = _Replacer(identifiers, label)
    now = utcnow()
    with audit.rewriting("erasure"):
        # The trail first, while everything of theirs (a token about to be deleted) is there to be found.
        _rewrite_audit_trail(person, replacer)
        files = _remove_free_text(person)
        _remove_account(person, pseudonym, now, identifiers)
        _pseudonymise_certificates(person, label, identifiers)
        _pseudonymise_transcripts(person, label)
        _replace_in_tables(replacer)
        _replace_in_outbox(replacer)
        db.session.flush()
        db.session.expire_all()
    erasure = Erasure(
        user_id=person.id,
        pseudonym=pseudonym,
        reason=replacer.text(reason),
        erased_by_id=actor.id if actor is not None else None,
        erased_at=now,
    )
    db.session.add(erasure)
    db.session.flush()
    audit.record(actor, "person.erased", person, after={"pseudonym": pseudonym, "reason": erasure.reason})
    db.session.info.setdefault(PENDING_FILES, []).extend(files)
    db.session.info.setdefault(PENDING_STAGED, set()).update(value.lower() for value in identifiers if "@" in value)
    return erasure


def _their_things(person: User) -> dict[str, Select]:
    """Queries for the ids (as text, as the audit trail writes them) of everything that is the person's.

    Their own records only: a session they supervised is the other trainee's, whose words in it stay
    (what they wrote there themselves is in events they performed, which lose free text anyway).
    """
    own_enrolments = _own_enrolments(person)
    own_stages = _own_stages(person)
    queries = {
        "User": select(User.id).where(User.id == person.id),
        "Enrolment": own_enrolments,
        "StageRecord": own_stages,
        "SupervisionSession": select(SupervisionSession.id).where(SupervisionSession.enrolment_id.in_(own_enrolments)),
        "Assessment": select(Assessment.id).where(Assessment.stage_record_id.in_(own_stages)),
        "Case": _own_cases(person),
        "Cycle": select(Cycle.id).where(Cycle.case_id.in_(_own_cases(person))),
        "Certificate": select(Certificate.id).where(Certificate.holder_id == person.id),
        "TrainingTranscript": select(TrainingTranscript.id).where(TrainingTranscript.holder_id == person.id),
        "PersonalAccessToken": select(PersonalAccessToken.id).where(PersonalAccessToken.user_id == person.id),
    }
    return {kind: select(cast(query.subquery().c[0], String)) for kind, query in queries.items()}


def _remove_free_text(person: User) -> list[str]:
    """Clear free text by or about the person, keeping the dated structure; returns statement files to delete."""
    own_enrolments = _own_enrolments(person)
    own_stages = _own_stages(person)
    files = list(
        db.session.scalars(
            select(StageRecord.statement_file_key).where(
                StageRecord.id.in_(own_stages), StageRecord.statement_file_key.is_not(None)
            )
        )
    )
    quietly = {"synchronize_session": False}
    db.session.execute(
        update(StageRecord)
        .where(StageRecord.id.in_(own_stages))
        .values(
            statement_text=None,
            statement_file_name=None,
            statement_file_key=None,
            statement_file_type=None,
            statement_file_size=None,
            meeting_comments=None,
            exemption_reason=None,
            version=StageRecord.version + 1,
        ),
        execution_options=quietly,
    )
    # Comments they wrote at another trainee's accreditation meeting are theirs.
    db.session.execute(
        update(StageRecord)
        .where(StageRecord.accredited_by_id == person.id, StageRecord.meeting_comments.is_not(None))
        .values(meeting_comments=None, version=StageRecord.version + 1),
        execution_options=quietly,
    )
    db.session.execute(
        update(StageTransition)
        .where(or_(StageTransition.stage_record_id.in_(own_stages), StageTransition.actor_id == person.id))
        .values(comments=None),
        execution_options=quietly,
    )
    # A person in training when erased cannot carry on: the record stays, withdrawn.
    db.session.execute(
        update(Enrolment)
        .where(
            Enrolment.trainee_id == person.id, Enrolment.status.in_((EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED))
        )
        .values(status=EnrolmentStatus.WITHDRAWN, version=Enrolment.version + 1),
        execution_options=quietly,
    )
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.trainee_id == person.id)
        .values(status_reason=None, version=Enrolment.version + 1),
        execution_options=quietly,
    )
    db.session.execute(
        update(SupervisionSession)
        .where(SupervisionSession.enrolment_id.in_(own_enrolments))
        .values(
            reflection=None,
            next_steps=None,
            supervisor_comments=None,
            amendment_reason=None,
            version=SupervisionSession.version + 1,
        ),
        execution_options=quietly,
    )
    db.session.execute(
        update(SupervisionSession)
        .where(SupervisionSession.supervisor_id == person.id, SupervisionSession.supervisor_comments.is_not(None))
        .values(supervisor_comments=None, version=SupervisionSession.version + 1),
        execution_options=quietly,
    )
    db.session.execute(
        update(Cycle).where(Cycle.case_id.in_(_own_cases(person))).values(note=None), execution_options=quietly
    )
    assessments = db.session.execute(
        select(Assessment.id, Assessment.ratings).where(
            or_(Assessment.stage_record_id.in_(own_stages), Assessment.assessor_id == person.id)
        )
    ).all()
    changed = [
        {"id": row.id, "ratings": _without_evidence(row.ratings)}
        for row in assessments
        if _without_evidence(row.ratings) != row.ratings
    ]
    if changed:
        db.session.execute(update(Assessment), changed)
    return files


def _without_evidence(ratings: Any) -> Any:
    if not isinstance(ratings, dict):
        return ratings
    return {
        code: {**value, "evidence": None} if isinstance(value, dict) and value.get("evidence") else value
        for code, value in ratings.items()
    }


def _remove_account(person: User, pseudonym: str, now: datetime, identifiers: list[str]) -> None:
    """The account becomes a tombstone: nothing to sign in with, nothing that names or reaches them."""
    quietly = {"synchronize_session": False}
    # Mail to any address they have held (a message to a former address may still wait in the outbox).
    addresses = {person.email.lower(), *(value.lower() for value in identifiers if "@" in value)}
    for statement in (
        delete(RecoveryCode).where(RecoveryCode.user_id == person.id),
        delete(UserRole).where(UserRole.user_id == person.id),
        delete(PersonalAccessToken).where(PersonalAccessToken.user_id == person.id),
        # Offers to their wallet: the wallets' DIDs they were delivered to go with the account.
        delete(CredentialOffer).where(CredentialOffer.created_by_id == person.id),
        delete(NotificationPreference).where(NotificationPreference.user_id == person.id),
        delete(Notification).where(Notification.recipient_id == person.id),
        delete(OutboxMessage).where(func.lower(OutboxMessage.to_address).in_(sorted(addresses))),
        update(Cohort).where(Cohort.lead_id == person.id).values(lead_id=None, version=Cohort.version + 1),
    ):
        db.session.execute(statement, execution_options=quietly)
    db.session.execute(
        update(User)
        .where(User.id == person.id)
        .values(
            email=pseudonym_email(pseudonym),
            display_name=pseudonym_label(pseudonym),
            password_hash=None,
            password_changed_at=None,
            totp_secret=None,
            totp_enabled_at=None,
            totp_last_counter=None,
            is_active_flag=False,
            service_id=None,
            register_opt_in=False,
            trainee_capacity=None,
            failed_login_count=0,
            locked_until=None,
            session_version=User.session_version + 1,
            security_stamp=new_security_stamp(),
            deactivated_at=func.coalesce(User.deactivated_at, now),
            erased_at=now,
        ),
        execution_options=quietly,
    )


def _pseudonymise_certificates(person: User, label: str, identifiers: list[str]) -> None:
    """The register entry keeps the pseudonym label as its holder; a revocation or suspension reason, which
    anyone checking the certificate reads, names "the holder" instead (the pseudonym is never shown publicly)."""
    db.session.execute(
        update(Certificate).where(Certificate.holder_id == person.id).values(holder_name=label),
        execution_options={"synchronize_session": False},
    )
    public = _Replacer(identifiers, "the holder")
    for column in (Certificate.status_reason, Certificate.suspension_reason):  # both shown to verifiers
        reasons = db.session.execute(
            select(Certificate.id, column).where(Certificate.holder_id == person.id, column.is_not(None))
        ).all()
        changes = [{"id": row.id, column.key: public.text(row[1])} for row in reasons]
        changes = [change for change, row in zip(changes, reasons, strict=True) if change[column.key] != row[1]]
        if changes:
            db.session.execute(update(Certificate), changes)


def _pseudonymise_transcripts(person: User, label: str) -> None:
    """Each transcript, and the name in its stored credential, holds the pseudonym label outright (a name
    too short to search for in text is replaced all the same). The public page names nobody, and a copy
    the holder kept still checks: the comparison leaves the name aside once the holder is erased."""
    rows = db.session.execute(
        select(TrainingTranscript.id, TrainingTranscript.credential_json).where(
            TrainingTranscript.holder_id == person.id
        )
    ).all()
    changes = []
    for transcript_id, stored in rows:
        credential = json.loads(stored)
        subject = credential["credentialSubject"]
        subject["name"] = label
        for identity in subject.get("identifier", []):
            if identity.get("identityType") == "name":
                identity["identityHash"] = label
        changes.append(
            {
                "id": transcript_id,
                "holder_name": label,
                "credential_json": json.dumps(credential, ensure_ascii=False, separators=(",", ":")),
            }
        )
    if changes:
        db.session.execute(update(TrainingTranscript), changes)


def _text_columns(table: Table) -> tuple[list, list]:
    plain, as_json = [], []
    for column in table.columns:
        if (table.name, column.name) in NOT_SCANNED_COLUMNS or isinstance(column.type, EncryptedString | Enum):
            continue
        if isinstance(column.type, JSON):
            as_json.append(column)
        elif isinstance(column.type, String | Text):
            plain.append(column)
    return plain, as_json


def _replace_in_tables(replacer: _Replacer) -> None:
    """Other people's text that names the person (a reflection, a notification, a job's error): the
    name becomes the pseudonym label. One query per table finds the rows; one statement updates them."""
    if not replacer.identifiers:
        return
    for table in db.metadata.sorted_tables:
        if table.name in NOT_SCANNED or not table.primary_key.columns:
            continue
        plain, as_json = _text_columns(table)
        if not plain and not as_json:
            continue
        keys = list(table.primary_key.columns)
        conditions = [_mentions(column, replacer.identifiers) for column in plain]
        conditions += [_mentions(column, replacer.identifiers, as_json=True) for column in as_json]
        rows = db.session.execute(select(*keys, *plain, *as_json).where(or_(*conditions))).all()
        if not rows:
            continue
        changes = []
        for row in rows:
            values = row._mapping
            change = {f"k_{key.name}": values[key.name] for key in keys}
            for column in (*plain, *as_json):
                change[f"v_{column.name}"] = replacer.value(values[column.name])
            changes.append(change)
        assignments = {column.name: bindparam(f"v_{column.name}") for column in (*plain, *as_json)}
        if "version" in table.c and isinstance(table.c.version.type, Integer):
            assignments["version"] = table.c.version + 1
        statement = (
            table.update().where(and_(*(key == bindparam(f"k_{key.name}") for key in keys))).values(**assignments)
        )
        db.session.connection().execute(statement, changes)


def _replace_in_outbox(replacer: _Replacer) -> None:
    """Mail bodies are encrypted, so they are read and checked here rather than searched in SQL."""
    if replacer.pattern is None:
        return
    rows = db.session.execute(select(OutboxMessage.id, OutboxMessage.body).where(OutboxMessage.body.is_not(None)))
    changes = [
        {"id": message_id, "body": replacer.text(body)}
        for message_id, body in rows
        if body and replacer.pattern.search(body)
    ]
    if changes:
        db.session.execute(update(OutboxMessage), changes)


def _rewrite_audit_trail(person: User, replacer: _Replacer) -> None:
    """Replace the person with their pseudonym in every event that names them or is about their things.

    Events they performed, and events about their things, also lose free text (statements, comments,
    notes) from their before/after values, and the address they acted from. The event's id, time, action
    and entity never change (the database refuses).
    """
    things = _their_things(person)
    about_them = or_(
        *(and_(AuditEvent.entity_type == kind, AuditEvent.entity_id.in_(ids)) for kind, ids in things.items())
    )
    conditions = [AuditEvent.actor_id == person.id, about_them]
    if replacer.identifiers:
        conditions += [
            _mentions(AuditEvent.before, replacer.identifiers, as_json=True),
            _mentions(AuditEvent.after, replacer.identifiers, as_json=True),
        ]
    rows = db.session.execute(
        select(
            AuditEvent.id,
            AuditEvent.actor_id,
            AuditEvent.actor_label,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.before,
            AuditEvent.after,
            AuditEvent.ip_address,
            about_them.label("theirs"),
        ).where(or_(*conditions))
    ).all()
    changes = []
    for row in rows:
        by_them = row.actor_id == person.id
        theirs = bool(row.theirs)
        identity = theirs and row.entity_type in ("User", "Certificate")
        strip = by_them or theirs
        change = {
            "id": row.id,
            "actor_label": replacer.label if by_them else replacer.text(row.actor_label),
            "before": replacer.value(row.before, strip, identity),
            "after": replacer.value(row.after, strip, identity),
            "ip_address": None if by_them else row.ip_address,
        }
        if any(change[key] != getattr(row, key) for key in ("actor_label", "before", "after", "ip_address")):
            changes.append(change)
    if changes:
        db.session.execute(update(AuditEvent), changes)


# --- statement files, deleted once the erasure is committed --------------------------------------


def delete_files(keys: Iterable[str]) -> None:
    """Delete stored uploads; one already gone is no matter. The erasure is committed by now, so a file
    that cannot be deleted is logged for an operator rather than failing the request."""
    for key in keys:
        try:
            uploads.upload_path(key).unlink(missing_ok=True)
        except NotFound:
            continue
        except OSError:
            log.exception("an erased person's uploaded file %s could not be deleted", key)


@sa_event.listens_for(Session, "after_commit")
def _delete_files_after_commit(session: Session) -> None:
    # A file deleted before the commit could not be restored if the commit failed; after it, nothing
    # points at the file any more.
    keys = session.info.pop(PENDING_FILES, None)
    if keys:
        delete_files(keys)
    emails = session.info.pop(PENDING_STAGED, None)
    if emails:
        try:
            forget_mentioning(emails)
        except OSError:
            log.exception("staged import files naming an erased person could not all be deleted")


@sa_event.listens_for(Session, "after_rollback")
def _keep_files_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_FILES, None)
    session.info.pop(PENDING_STAGED, None)
