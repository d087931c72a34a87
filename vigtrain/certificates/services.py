"""Issuing certificates and their lifecycle: expiry, renewal, revocation, reissue on a change of name.

Which stage records earn a certificate: a ratified final stage earns the accreditation; an
intermediate stage that was accredited at its transition meeting (or completed, for a stage with
no meeting) earns a stage-completion certificate. An exempted stage earns none: the training it
recognises happened elsewhere.

A holder asks AVIGuk to renew their accreditation once the pathway's renewal rule, in numbers
(`renewal_progress`), is met and the renewal window is open; an administrator renews it on that
evidence, and never without it.

Issuing is idempotent: each certificate has an `issue_key` saying why it exists, unique in the
database, so a repeated or concurrent attempt finds the first certificate instead of making a
second. Every change is audited; services flush and never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from vigtrain import audit, codes
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.queries import role_holders
from vigtrain.certificates.models import (
    NUMBER_PREFIX,
    Certificate,
    CertificateKind,
    CertificateStatus,
    ReplacementReason,
)
from vigtrain.certificates.pdf import CertificateData, CertificatePDF
from vigtrain.dates import UK, add_months, format_date, utcnow
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.links import path_for
from vigtrain.locks import hold
from vigtrain.notifications import inbox
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.models import Enrolment, StageRecord, StageState
from vigtrain.screening import screen
from vigtrain.security import can_change_certificate, can_issue_certificate, can_request_renewal
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.supervision.records import format_hours

# How many more times a change that issues a certificate runs after losing a race for a unique
# value (see `_store`): safe, because issuing reads afresh and is idempotent by its issue key.
ISSUE_RETRIES = 2
# What the audit trail records of a certificate.
FIELDS = (
    "number",
    "kind",
    "issue_key",
    "holder_id",
    "holder_name",
    "credential",
    "pathway_code",
    "pathway_version",
    "stage_name",
    "issued_on",
    "valid_until",
    "status",
    "status_reason",
    "replaces_id",
    "replacement_reason",
)
STATUS_FIELDS = ("status", "status_reason")
# What the audit trail records of a suspension.
SUSPENSION_FIELDS = ("status", "suspension_reason", "suspended_until", "suspended_by_id")
# A suspension with an end date ends at most this long ahead: longer than that, AVIGuk reviews it
# (and reinstates, suspends again, or revokes) rather than leave it to run on unlooked-at.
MAX_SUSPENSION_MONTHS = 24
# What a suspension's reason and a reinstatement's note are called in messages.
SUSPENSION_REASON = "reason for suspending (verifiers will see it)"
REINSTATEMENT_NOTE = "note on why it is reinstated"
# An accreditation can be renewed from this many months before it expires (or any time after).
RENEWAL_WINDOW_MONTHS = 6
MIN_REASON, MAX_REASON = 10, 1000
NUMBER_EXAMPLE = "AV-7K2M-9QXD"


# --- numbers --------------------------------------------------------------------------------------


def number_problem(text: str | None) -> str | None:
    """What is wrong with a typed certificate number, in words a verifier can act on; None if fine."""
    cleaned = codes.normalise(text or "")
    if not cleaned:
        return f"Enter the certificate number, for example {NUMBER_EXAMPLE}"
    if not cleaned.startswith(NUMBER_PREFIX):
        return f"Certificate numbers start with {NUMBER_PREFIX}, for example {NUMBER_EXAMPLE}"
    body = cleaned[len(NUMBER_PREFIX) :]
    if any(char not in codes.ALPHABET for char in body):
        return "Certificate numbers use only the digits 0 to 9 and letters, without U or punctuation"
    if len(body) != 8:
        return (
            f"Certificate numbers have 8 characters after {NUMBER_PREFIX} (for example {NUMBER_EXAMPLE}); "
            f"you entered {len(body)}"
        )
    if not codes.is_valid(cleaned, NUMBER_PREFIX):
        return (
            f"Check the number: {codes.format_code(NUMBER_PREFIX, body)}, the last character doesn't match "
            "the others, so one character has probably been mistyped"
        )
    return None


def canonical_number(text: str) -> str | None:
    """The number as printed (e.g. AV-DEM0-001D) if it is well formed with a matching check character."""
    if number_problem(text) is not None:
        return None
    return codes.canonical(text, NUMBER_PREFIX)


def find_certificate(number: str) -> Certificate | None:
    """The certificate with this number, read leniently (case, spaces, O/I/L); None if mistyped or unknown."""
    canonical = canonical_number(number)
    if canonical is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.number == canonical))


# --- status ---------------------------------------------------------------------------------------


def effective_status(certificate: Certificate, today: date) -> CertificateStatus:
    """The status to show anyone today: overdue certificates are expired even before the nightly job."""
    return certificate.effective_status(today)


def validity_end(starts: date, months: int) -> date:
    """The last day of a validity period of `months` starting on `starts` (36 months: the day before)."""
    return add_months(starts, months) - timedelta(days=1)


# --- what can be issued ---------------------------------------------------------------------------

INTERMEDIATE_DONE = (StageState.ACCREDITED, StageState.COMPLETE)


def kind_earned(record: StageRecord) -> CertificateKind | None:
    """The certificate a stage record has earned, if any."""
    if record.is_final:
        return CertificateKind.ACCREDITATION if record.state is StageState.RATIFIED else None
    return CertificateKind.STAGE if record.state in INTERMEDIATE_DONE else None


def _earned_condition():
    return or_(
        (StageRecord.is_final.is_(True)) & (StageRecord.state == StageState.RATIFIED),
        (StageRecord.is_final.is_(False)) & (StageRecord.state.in_(INTERMEDIATE_DONE)),
    )


def awaiting_issue_query() -> Select:
    """Stage records that have earned a certificate and have none yet, oldest first."""
    issued = exists().where(Certificate.stage_record_id == StageRecord.id)
    return (
        select(StageRecord)
        .where(_earned_condition(), ~issued)
        # The page's records bring their enrolments in one more query, rather than every earned
        # record joining its enrolment (and its people) before the sort picks a page of them.
        .options(selectinload(StageRecord.enrolment))
        .order_by(StageRecord.is_final.desc(), StageRecord.id)
    )


def awaiting_issue_ids(ids: list[int] | None = None) -> list[int]:
    """The ids of stage records awaiting a certificate (only those among `ids`, if given)."""
    query = awaiting_issue_query().with_only_columns(StageRecord.id)
    if ids is not None:
        query = query.where(StageRecord.id.in_(ids))
    return list(db.session.scalars(query))


def stage_key(record_id: int) -> str:
    return f"stage:{record_id}"


def by_issue_key(key: str) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.issue_key == key))


# --- issuing --------------------------------------------------------------------------------------


# The revocation list grows in blocks of 16 KB (131,072 places), the smallest size the Bitstring
# Status List spec allows, so its length says little about how many certificates exist.
STATUS_LIST_BLOCK_BITS = 131_072


def _next_status_index() -> int:
    """A random free place in the revocation list.

    Places handed out in order would tell anyone holding two credentials how many certificates were
    issued between them; the Bitstring Status List spec advises random places. The range grows a
    block at a time so the list stays at most half full and a free place is found at once. A place
    taken concurrently fails the unique constraint, and the caller's retry draws another.
    """
    issued = db.session.scalar(select(func.count()).select_from(Certificate)) or 0
    capacity = STATUS_LIST_BLOCK_BITS * (2 * issued // STATUS_LIST_BLOCK_BITS + 1)
    while True:
        index = secrets.randbelow(capacity)
        if not db.session.scalar(select(exists().where(Certificate.status_index == index))):
            return index


def _store(certificate: Certificate, number: str | None) -> Certificate:
    """Insert with a random number and a random free status index. Flushes.

    A concurrent issue can take the same issue key, number or status index first: the flush then
    raises IntegrityError and the caller rolls back and tries again (`transactions.run` with
    `retries=ISSUE_RETRIES`), when the issue-key lookup finds the other certificate, or fresh values
    are drawn. (No savepoint:
    SQLite's driver would commit a savepoint opened before the transaction's first write.)
    """
    certificate.number = number or codes.generate(NUMBER_PREFIX)
    certificate.status_index = _next_status_index()
    db.session.add(certificate)
    db.session.flush()
    return certificate


def issue_certificate(actor: User, record: StageRecord, today: date, *, number: str | None = None) -> Certificate:
    """Issue the certificate a stage record has earned (or return the one already issued).

    `number` fixes the number (demo data); normally it is drawn at random.
    """
    existing = by_issue_key(stage_key(record.id))
    if existing is not None:
        return existing
    if not can_issue_certificate(actor, record):
        raise PermissionDenied("Only an AVIGuk administrator who is not the holder can issue a certificate")
    kind = kind_earned(record)
    if kind is None:
        raise DomainError(f"This stage has not earned a certificate: it is {record.state.label.lower()}")
    enrolment = record.enrolment
    version = enrolment.pathway_version
    pathway = version.definition
    stage = record.definition
    if kind is CertificateKind.ACCREDITATION:
        credential, valid_until = version.credential, validity_end(today, pathway.renewal_months)
        stage_number, stage_name = None, None
    else:
        credential = f"{stage.name} of the {version.name} pathway"[:120]
        valid_until, stage_number, stage_name = None, record.position + 1, stage.name
    certificate = _store(
        Certificate(
            kind=kind,
            issue_key=stage_key(record.id),
            holder_id=enrolment.trainee_id,
            holder_name=enrolment.trainee.display_name,
            credential=credential,
            pathway_code=version.code,
            pathway_version=version.version,
            pathway_title=version.name,
            stage_number=stage_number,
            stage_name=stage_name,
            enrolment_id=enrolment.id,
            stage_record_id=record.id,
            issued_on=today,
            valid_until=valid_until,
            status=CertificateStatus.VALID,
            issued_by_id=actor.id,
        ),
        number,
    )
    audit.record(actor, "certificate.issued", certificate, after=audit.snapshot(certificate, *FIELDS))
    _tell_holder(certificate, "issued", f"Your certificate {certificate.number} is ready", _issued_text(certificate))
    return certificate


def _issued_text(certificate: Certificate) -> str:
    what = "accreditation" if certificate.kind is CertificateKind.ACCREDITATION else "stage-completion"
    return (
        f"AVIGuk has issued your {what} certificate: {certificate.credential}.\n\n"
        f"Certificate number: {certificate.number}\n"
        "Sign in to vigtrain and open Your certificates to download it."
    )


def _tell_holder(certificate: Certificate, event: str, title: str, body: str) -> None:
    """Tell the holder what happened to their certificate, in vigtrain and by email as they choose."""
    inbox.notify(
        certificate.holder,
        NotificationKind.CERTIFICATE_UPDATE,
        f"certificate:{certificate.id}",
        event,
        title,
        body,
        path_for("certificates.your_certificates"),
    )


# --- lifecycle ------------------------------------------------------------------------------------


def _require_change(actor: User, certificate: Certificate) -> None:
    if not can_change_certificate(actor, certificate):
        raise PermissionDenied("Only an AVIGuk administrator who is not the holder can change a certificate")


def reason_problem(text: str | None, what: str) -> str | None:
    """What is wrong with the length of a reason or note (None if fine); a form can show it beside its
    field together with the form's other mistakes."""
    cleaned = (text or "").strip()
    if len(cleaned) < MIN_REASON:
        return f"Give the {what} in at least {MIN_REASON} characters"
    if len(cleaned) > MAX_REASON:
        return f"The {what} must be {MAX_REASON} characters or fewer"
    return None


def _clean_reason(text: str | None, field: str, what: str) -> str:
    problem = reason_problem(text, what)
    if problem:
        raise DomainError(problem, field=field)
    return screen((text or "").strip(), field)


def _supersede(actor: User, old: Certificate, new: Certificate, action: str) -> None:
    before = audit.snapshot(old, *STATUS_FIELDS)
    _clear_suspension(old)  # a suspension whose end date came before the daily job lifted it
    old.status, old.status_changed_at = CertificateStatus.SUPERSEDED, utcnow()
    db.session.flush()
    audit.record(actor, action, new, after=audit.snapshot(new, *FIELDS))
    audit.record(
        actor,
        "certificate.superseded",
        old,
        before=before,
        after={**audit.snapshot(old, *STATUS_FIELDS), "replaced_by": new.number},
    )


def _replacement(
    actor: User, old: Certificate, key: str, reason: ReplacementReason, number: str | None, **changes
) -> Certificate:
    if by_issue_key(key) is not None or old.replaced_by is not None:
        raise Conflict(f"Certificate {old.number} has already been replaced")
    fields = {name: getattr(old, name) for name in ("kind", "credential", "pathway_code", "pathway_version")}
    fields |= {name: getattr(old, name) for name in ("pathway_title", "stage_number", "stage_name")}
    fields |= {name: getattr(old, name) for name in ("enrolment_id", "stage_record_id", "issued_on", "valid_until")}
    fields |= {"holder_id": old.holder_id, "holder_name": old.holder.display_name} | changes
    return _store(
        Certificate(
            issue_key=key,
            status=CertificateStatus.VALID,
            replaces_id=old.id,
            replacement_reason=reason,
            issued_by_id=actor.id,
            **fields,
        ),
        number,
    )


@dataclass(frozen=True)
class RenewalProgress:
    """How far a holder is toward renewing their accreditation on a day: the pathway's rule in numbers.

    Confirmed supervision counts from any of the holder's records (their continuing record, or
    training they are doing since, such as supervisor training), dated in the certificate's period:
    from its issue to its expiry, or to the day if that is sooner.
    """

    period_start: date
    period_end: date
    sessions: int  # confirmed, in the period
    minutes: int  # confirmed, in the period
    hours_needed: float | None  # None: the pathway version states no number (see Pathway)
    awaiting_sessions: int  # logged in the period, waiting for their supervisor to confirm them
    awaiting_minutes: int
    opens_on: date  # when a renewal can first be asked for and made
    expires_on: date
    asks_for: str  # the pathway's rule in words
    problem: str | None  # why it cannot be renewed on the day whatever the evidence (see renewal_problem)
    requested_at: datetime | None  # when the holder asked AVIGuk to renew it

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def awaiting_hours(self) -> float:
        return round(self.awaiting_minutes / 60, 2)

    @property
    def met(self) -> bool:
        """The pathway's rule is met by confirmed supervision alone."""
        if self.hours_needed is None:
            return self.sessions > 0
        return self.minutes >= round(self.hours_needed * 60)

    @property
    def window_open(self) -> bool:
        return self.problem is None

    @property
    def can_request(self) -> bool:
        """The holder may ask AVIGuk to renew now: the rule is met, the window open, not yet asked."""
        return self.met and self.window_open and self.requested_at is None

    @property
    def summary(self) -> str:
        """The rule and how far the holder is, in plain words: "6 hours needed: 4.5 confirmed so far"."""
        if self.hours_needed is None:
            needed = "Confirmed supervision needed"
        else:
            needed = f"{format_hours(self.hours_needed)} hour{'' if self.hours_needed == 1 else 's'} needed"
        done = "done" if self.met else "so far"
        return f"{needed}: {format_hours(self.hours)} confirmed{',' if self.met else ''} {done}"

    @property
    def waiting_summary(self) -> str:
        """What waits for confirmation: "2 sessions (1.5 hours)", or "None"."""
        if not self.awaiting_sessions:
            return "None"
        sessions = f"{self.awaiting_sessions} session{'' if self.awaiting_sessions == 1 else 's'}"
        return f"{sessions} ({format_hours(self.awaiting_hours)} hour{'' if self.awaiting_hours == 1 else 's'})"


def renewal_progress(certificate: Certificate, day: date) -> RenewalProgress:
    """The holder's progress toward renewing an accreditation certificate on `day` (two counts in one query)."""
    if certificate.valid_until is None:
        raise DomainError("Stage-completion certificates do not expire, so they are not renewed")
    end = min(certificate.valid_until, day)
    rows = db.session.execute(
        select(
            SupervisionSession.status,
            func.count(SupervisionSession.id),
            func.coalesce(func.sum(SupervisionSession.duration_minutes), 0),
        )
        .join(SupervisionSession.enrolment)
        .where(
            Enrolment.trainee_id == certificate.holder_id,
            SupervisionSession.status.in_((SessionStatus.CONFIRMED, SessionStatus.LOGGED)),
            SupervisionSession.session_date >= certificate.issued_on,
            SupervisionSession.session_date <= end,
        )
        .group_by(SupervisionSession.status)
    ).all()
    counts = {status: (sessions, int(minutes)) for status, sessions, minutes in rows}
    confirmed = counts.get(SessionStatus.CONFIRMED, (0, 0))
    awaiting = counts.get(SessionStatus.LOGGED, (0, 0))
    pathway = certificate.enrolment.pathway_version.definition
    return RenewalProgress(
        period_start=certificate.issued_on,
        period_end=end,
        sessions=confirmed[0],
        minutes=confirmed[1],
        hours_needed=pathway.renewal_supervision_hours,
        awaiting_sessions=awaiting[0],
        awaiting_minutes=awaiting[1],
        opens_on=renewal_opens(certificate),
        expires_on=certificate.valid_until,
        asks_for=pathway.renewal_evidence,
        problem=renewal_problem(certificate, day),
        requested_at=certificate.renewal_requested_at,
    )


def renewal_opens(certificate: Certificate) -> date:
    """The first day a renewal can be asked for and made: RENEWAL_WINDOW_MONTHS before expiry."""
    return add_months(certificate.valid_until, -RENEWAL_WINDOW_MONTHS)


def renewable(certificate: Certificate, day: date) -> bool:
    """A current accreditation (valid, or expired and not yet renewed): one renewal could replace."""
    return (
        certificate.kind is CertificateKind.ACCREDITATION
        and certificate.valid_until is not None
        and effective_status(certificate, day) in (CertificateStatus.VALID, CertificateStatus.EXPIRED)
    )


def current_accreditation(enrolment: Enrolment) -> Certificate | None:
    """The accreditation certificate a record earned, as renewed or reissued since (not revoked)."""
    return db.session.scalar(
        select(Certificate)
        .where(
            Certificate.enrolment_id == enrolment.id,
            Certificate.kind == CertificateKind.ACCREDITATION,
            Certificate.status.in_((CertificateStatus.VALID, CertificateStatus.EXPIRED)),
        )
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        .limit(1)
    )


def renewal_problem(certificate: Certificate, today: date) -> str | None:
    """Why this certificate cannot be renewed today (evidence aside); None if it can."""
    if certificate.kind is not CertificateKind.ACCREDITATION or certificate.valid_until is None:
        return "Stage-completion certificates do not expire, so they are not renewed"
    status = effective_status(certificate, today)
    if status not in (CertificateStatus.VALID, CertificateStatus.EXPIRED):
        return f"A {status.label.lower()} certificate cannot be renewed"
    opens = renewal_opens(certificate)
    if today < opens:
        return (
            f"This certificate can be renewed from {format_date(opens)}, "
            f"{RENEWAL_WINDOW_MONTHS} months before it expires"
        )
    return None


def renew_certificate(
    actor: User, certificate: Certificate, today: date, evidence_note: str | None, *, number: str | None = None
) -> Certificate:
    """Renew on the evidence the pathway asks for: a new certificate supersedes the old.

    The new period continues from the old one's end when renewed early, so nobody loses time by
    renewing before expiry; after a lapse it starts today. `number` fixes the new number (demo data).
    """
    _require_change(actor, certificate)
    hold(certificate)  # two administrators at once: the second sees what the first did
    progress = renewal_progress(certificate, today)
    if progress.problem:
        raise DomainError(progress.problem)
    if not progress.met:
        raise DomainError(
            f"{certificate.holder_name}'s confirmed supervision between {format_date(progress.period_start)} and "
            f"{format_date(progress.period_end)} does not yet meet the renewal rule ({progress.summary}). "
            f"The pathway asks for: {progress.asks_for}."
        )
    note = _clean_reason(evidence_note, "evidence_note", "evidence you checked")
    months = certificate.enrolment.pathway_version.definition.renewal_months
    starts = max(today, certificate.valid_until + timedelta(days=1))
    new = _replacement(
        actor,
        certificate,
        f"renewal:{certificate.id}",
        ReplacementReason.RENEWAL,
        number,
        issued_on=today,
        valid_until=validity_end(starts, months),
    )
    _supersede(actor, certificate, new, "certificate.renewed")
    audit.record(
        actor,
        "certificate.renewal_evidence",
        new,
        after={
            "evidence_note": note,
            "confirmed_sessions": progress.sessions,
            "confirmed_hours": progress.hours,
            "hours_needed": progress.hours_needed,
        },
    )
    # Whoever else was told of the holder's request need not open it now, nor the holder a reminder
    # that the old certificate was about to expire.
    inbox.settle(
        renewal_subject(certificate), [NotificationKind.RENEWAL_REQUESTED, NotificationKind.CERTIFICATE_EXPIRING]
    )
    _tell_holder(new, "renewed", f"Your accreditation has been renewed: {new.number}", _issued_text(new))
    return new


def renewal_subject(certificate: Certificate) -> str:
    """What a renewal request's notifications are about."""
    return f"certificate:{certificate.id}"


def request_renewal(actor: User, certificate: Certificate, day: date) -> RenewalProgress:
    """The holder asks AVIGuk to renew their accreditation: once, from the renewal window's opening,
    when the pathway's rule is met. Every administrator who may renew it is told. Flushes."""
    if not can_request_renewal(actor, certificate):
        raise PermissionDenied("Only the holder of a certificate can ask AVIGuk to renew it")
    hold(certificate)  # asked twice at once: the second sees the first
    if certificate.renewal_requested_at is not None:
        asked = format_date(certificate.renewal_requested_at.astimezone(UK))
        raise DomainError(
            f"You asked AVIGuk to renew this certificate on {asked}. An administrator will renew it: "
            "you need not ask again"
        )
    progress = renewal_progress(certificate, day)
    if progress.problem:
        raise DomainError(progress.problem)
    if not progress.met:
        raise DomainError(f"Not yet: {progress.summary}. Ask once your supervisors have confirmed enough supervision")
    before = audit.snapshot(certificate, "renewal_requested_at")
    certificate.renewal_requested_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "certificate.renewal_requested",
        certificate,
        before=before,
        after={
            **audit.snapshot(certificate, "renewal_requested_at"),
            "confirmed_hours": progress.hours,
            "hours_needed": progress.hours_needed,
        },
    )
    administrators = db.session.scalars(role_holders(Role.ADMINISTRATOR, excluding=[certificate.holder_id]))
    inbox.notify_each(
        administrators,
        NotificationKind.RENEWAL_REQUESTED,
        renewal_subject(certificate),
        "request",
        f"{certificate.holder_name} asks AVIGuk to renew their accreditation",
        f"{certificate.holder_name} asks AVIGuk to renew {certificate.credential} (certificate "
        f"{certificate.number}), which expires on {format_date(certificate.valid_until)}. "
        f"{progress.summary}. Open the certificate to check the evidence and renew it.",
        path_for("certificate_admin.show_certificate", number=certificate.number),
    )
    return progress


def reissue_for_name_change(
    actor: User, certificate: Certificate, today: date, *, number: str | None = None
) -> Certificate:
    """A new certificate in the holder's current name, with the same dates; the old is superseded.

    `number` fixes the new number (demo data).
    """
    _require_change(actor, certificate)
    hold(certificate)  # two administrators at once: the second sees what the first did
    status = effective_status(certificate, today)
    if status is not CertificateStatus.VALID:
        raise DomainError(f"Only a valid certificate can be reissued; this one is {status.label.lower()}")
    if certificate.holder.display_name == certificate.holder_name:
        raise DomainError(
            f"The name on the certificate is already {certificate.holder_name}. "
            "Change the name on the holder's account first, then reissue."
        )
    new = _replacement(actor, certificate, f"reissue:{certificate.id}", ReplacementReason.NAME_CHANGE, number)
    _supersede(actor, certificate, new, "certificate.reissued")
    _tell_holder(
        new, "reissued", f"Your certificate has been reissued in your new name: {new.number}", _issued_text(new)
    )
    return new


def revoke_certificate(actor: User, certificate: Certificate, reason: str | None) -> None:
    """Withdraw a certificate, with the reason verifiers will be shown."""
    _require_change(actor, certificate)
    hold(certificate)  # two administrators at once: the second sees what the first did
    if certificate.status not in (CertificateStatus.VALID, CertificateStatus.EXPIRED, CertificateStatus.SUSPENDED):
        raise DomainError(f"A {certificate.status.label.lower()} certificate cannot be revoked")
    text = _clean_reason(reason, "reason", "reason for revoking (verifiers will see it)")
    # Revoking a suspended certificate ends its suspension: the audit trail keeps what it was.
    fields = (
        (*STATUS_FIELDS, *SUSPENSION_FIELDS[1:]) if certificate.status is CertificateStatus.SUSPENDED else STATUS_FIELDS
    )
    before = audit.snapshot(certificate, *fields)
    _clear_suspension(certificate)
    certificate.status, certificate.status_reason = CertificateStatus.REVOKED, text
    certificate.status_changed_at = utcnow()
    db.session.flush()
    audit.record(actor, "certificate.revoked", certificate, before=before, after=audit.snapshot(certificate, *fields))
    # Nothing is left to renew: its expiry reminders and any request to renew it are done with.
    inbox.settle(
        renewal_subject(certificate), [NotificationKind.RENEWAL_REQUESTED, NotificationKind.CERTIFICATE_EXPIRING]
    )
    _tell_holder(
        certificate,
        "revoked",
        f"Your certificate {certificate.number} has been revoked",
        f"The reason given:\n\n{text}",
    )


def suspension_until_problem(until: date | None, today: date) -> str | None:
    """What is wrong with a suspension's end date (None: none given, or fine)."""
    if until is None:
        return None
    if until <= today:
        return "The date the suspension ends must be in the future"
    latest = add_months(today, MAX_SUSPENSION_MONTHS)
    if until > latest:
        return (
            f"The date the suspension ends must be within {MAX_SUSPENSION_MONTHS // 12} years, "
            f"on or before {format_date(latest)}"
        )
    return None


def suspend_problem(certificate: Certificate, today: date) -> str | None:
    """Why this certificate cannot be suspended today; None if it can."""
    status = effective_status(certificate, today)
    if status is not CertificateStatus.VALID:
        return f"Only a valid certificate can be suspended; this one is {status.label.lower()}"
    return None


def suspend_certificate(
    actor: User, certificate: Certificate, reason: str | None, until: date | None, today: date
) -> None:
    """Hold a valid certificate back, with the reason verifiers will be shown, until `until` (the day it
    is valid again) or, without one, until an administrator reinstates it. Settles nothing else: a
    renewal request or an expiry reminder stays as it was."""
    _require_change(actor, certificate)
    hold(certificate)  # two administrators at once: the second sees what the first did
    refused = suspend_problem(certificate, today)
    if refused:
        raise DomainError(refused)
    text = _clean_reason(reason, "reason", SUSPENSION_REASON)
    problem = suspension_until_problem(until, today)
    if problem:
        raise DomainError(problem, field="suspended_until")
    before = audit.snapshot(certificate, *SUSPENSION_FIELDS)
    now = utcnow()
    certificate.status, certificate.status_changed_at = CertificateStatus.SUSPENDED, now
    certificate.suspension_reason, certificate.suspended_until = text, until
    certificate.suspended_at, certificate.suspended_by_id = now, actor.id
    db.session.flush()
    audit.record(
        actor,
        "certificate.suspended",
        certificate,
        before=before,
        after=audit.snapshot(certificate, *SUSPENSION_FIELDS),
    )
    ends = f"until {format_date(until)}" if until else "until AVIGuk reinstates it"
    _tell_holder(
        certificate,
        _suspension_event("suspended", certificate),
        f"Your certificate {certificate.number} has been suspended",
        f"AVIGuk has suspended your certificate {ends}. Anyone who checks it is told it is suspended, "
        f"and why.\n\nThe reason given:\n\n{text}",
    )


def reinstate_certificate(actor: User, certificate: Certificate, note: str | None, today: date) -> None:
    """End a suspension before its end date (or one without an end date), with a note for the record."""
    _require_change(actor, certificate)
    hold(certificate)  # two administrators at once: the second sees what the first did
    if certificate.status is not CertificateStatus.SUSPENDED:
        raise DomainError(
            f"Only a suspended certificate can be reinstated; this one is {certificate.status.label.lower()}"
        )
    text = _clean_reason(note, "note", REINSTATEMENT_NOTE)
    event = _suspension_event("reinstated", certificate)
    before = audit.snapshot(certificate, *SUSPENSION_FIELDS)
    _end_suspension(certificate, today)
    audit.record(
        actor,
        "certificate.reinstated",
        certificate,
        before=before,
        after={**audit.snapshot(certificate, *SUSPENSION_FIELDS), "note": text},
    )
    _tell_holder(
        certificate,
        event,
        f"Your certificate {certificate.number} has been reinstated",
        f"AVIGuk has lifted the suspension of your certificate. {_now_text(certificate)}\n\n"
        f"The note recorded:\n\n{text}",
    )


def lift_ended_suspensions(today: date) -> int:
    """Lift every suspension whose end date has come (as the system); safe to run any number of times."""
    ended = db.session.scalars(
        select(Certificate)
        .where(Certificate.status == CertificateStatus.SUSPENDED, Certificate.suspended_until <= today)
        .order_by(Certificate.id)
    ).all()
    for certificate in ended:
        event = _suspension_event("lifted", certificate)
        ended_on = certificate.suspended_until
        before = audit.snapshot(certificate, *SUSPENSION_FIELDS)
        _end_suspension(certificate, today)
        audit.record(
            None,
            "certificate.suspension_lifted",
            certificate,
            before=before,
            after=audit.snapshot(certificate, *SUSPENSION_FIELDS),
        )
        _tell_holder(
            certificate,
            event,
            f"The suspension of your certificate {certificate.number} has ended",
            f"The suspension of your certificate ended on {format_date(ended_on)}, as AVIGuk set it to. "
            f"{_now_text(certificate)}",
        )
    return len(ended)


def _suspension_event(what: str, certificate: Certificate) -> str:
    """The holder is told once of each suspension and once of its end (a certificate may be suspended twice)."""
    began = certificate.suspended_at or certificate.status_changed_at
    return f"{what}:{began.astimezone(UK):%Y%m%d%H%M%S%f}" if began else what


def _now_text(certificate: Certificate) -> str:
    """What the certificate is once its suspension has ended, for the holder."""
    if certificate.status is CertificateStatus.EXPIRED:
        return f"It expired after {format_date(certificate.valid_until)}, while it was suspended."
    return "It is valid again."


def _clear_suspension(certificate: Certificate) -> None:
    certificate.suspension_reason = certificate.suspended_until = None
    certificate.suspended_at = certificate.suspended_by_id = None


def _end_suspension(certificate: Certificate, today: date) -> None:
    """Valid again, or expired if its end date passed while it was suspended. Flushes."""
    _clear_suspension(certificate)
    certificate.status = CertificateStatus.VALID
    certificate.status = effective_status(certificate, today)
    certificate.status_changed_at = utcnow()
    db.session.flush()


def expire_certificates(today: date) -> int:
    """Mark valid certificates whose last valid day has passed as expired; safe to run any number of times."""
    overdue = db.session.scalars(
        select(Certificate).where(Certificate.status == CertificateStatus.VALID, Certificate.valid_until < today)
    ).all()
    for certificate in overdue:
        before = audit.snapshot(certificate, *STATUS_FIELDS)
        certificate.status, certificate.status_changed_at = CertificateStatus.EXPIRED, utcnow()
        db.session.flush()
        audit.record(
            None, "certificate.expired", certificate, before=before, after=audit.snapshot(certificate, *STATUS_FIELDS)
        )
    return len(overdue)


# --- reading --------------------------------------------------------------------------------------


def certificates_held_by(user: User) -> list[Certificate]:
    """A holder's certificates, current ones first, newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.holder_id == user.id)
            .options(selectinload(Certificate.replaces), selectinload(Certificate.replaced_by))
            .order_by(
                (Certificate.status == CertificateStatus.VALID).desc(),
                Certificate.issued_on.desc(),
                Certificate.id.desc(),
            )
        )
    )


def admin_query(search: str = "", status: CertificateStatus | None = None, renewal_requested: bool = False) -> Select:
    """Every certificate, newest first; `search` matches a number (leniently) or part of a name.

    `renewal_requested`: only those whose holder asked AVIGuk to renew them and that are not yet
    renewed, the longest waiting first.
    """
    if renewal_requested:
        query = select(Certificate).where(
            Certificate.renewal_requested_at.is_not(None),
            Certificate.status.in_((CertificateStatus.VALID, CertificateStatus.EXPIRED)),
        )
        query = query.order_by(Certificate.renewal_requested_at, Certificate.id)
    else:
        query = select(Certificate).order_by(Certificate.id.desc())
    text = search.strip()
    if text:
        number = canonical_number(text)
        if number:
            query = query.where(Certificate.number == number)
        else:
            pattern = f"%{text.lower().replace('%', '').replace('_', '')}%"
            query = query.where(
                or_(func.lower(Certificate.holder_name).like(pattern), func.lower(Certificate.number).like(pattern))
            )
    if status is not None:
        query = query.where(Certificate.status == status)
    return query


def lineage(certificate: Certificate) -> list[Certificate]:
    """The chain of certificates this one belongs to, oldest first (renewals and reissues)."""
    first = certificate
    while first.replaces is not None:
        first = first.replaces
    chain = [first]
    while chain[-1].replaced_by is not None:
        chain.append(chain[-1].replaced_by)
    return chain


def verification_url(number: str) -> str:
    """The public page a certificate's QR code opens (from BASE_URL, never a request's Host header)."""
    return f"{current_app.config['BASE_URL']}/verify/{number}"


def certificate_data(certificate: Certificate) -> CertificateData:
    """What the PDF prints: the stored facts plus the issuer and signatory from the settings."""
    config = current_app.config
    return CertificateData(
        number=certificate.number,
        accreditation=certificate.kind is CertificateKind.ACCREDITATION,
        holder_name=certificate.holder_name,
        credential=certificate.credential,
        pathway_title=certificate.pathway_title,
        pathway_version=certificate.pathway_version,
        issued_on=certificate.issued_on,
        valid_until=certificate.valid_until,
        issuer_name=config["CERTIFICATE_ISSUER_NAME"],
        signatory_name=config["CERTIFICATE_SIGNATORY"],
        signatory_title=config["CERTIFICATE_SIGNATORY_TITLE"],
        verify_url=verification_url(certificate.number),
    )


def certificate_pdf(certificate: Certificate) -> bytes:
    return CertificatePDF(certificate_data(certificate)).render()
