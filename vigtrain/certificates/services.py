"""Issuing certificates and their lifecycle: expiry, renewal, revocation, reissue on a change of name.

Which stage records earn a certificate: a ratified final stage earns the accreditation; an
intermediate stage that was accredited at its transition meeting (or completed, for a stage with
no meeting) earns a stage-completion certificate. An exempted stage earns none: the training it
recognises happened elsewhere.

Issuing is idempotent: each certificate has an `issue_key` saying why it exists, unique in the
database, so a repeated or concurrent attempt finds the first certificate instead of making a
second. Every change is audited; services flush and never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import selectinload

from vigtrain import audit, codes
from vigtrain.accounts.models import User
from vigtrain.certificates.models import (
    NUMBER_PREFIX,
    Certificate,
    CertificateKind,
    CertificateStatus,
    ReplacementReason,
)
from vigtrain.certificates.pdf import CertificateData, CertificatePDF
from vigtrain.dates import add_months, format_date, utcnow
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.locks import hold
from vigtrain.notifications.services import send_email
from vigtrain.pathways.models import Enrolment, StageRecord, StageState
from vigtrain.screening import screen
from vigtrain.security import can_change_certificate, can_issue_certificate
from vigtrain.supervision.models import SessionStatus, SupervisionSession

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
    _tell_holder(certificate, f"Your certificate {certificate.number} is ready", _issued_text(certificate))
    return certificate


def _issued_text(certificate: Certificate) -> str:
    what = "accreditation" if certificate.kind is CertificateKind.ACCREDITATION else "stage-completion"
    return (
        f"AVIGuk has issued your {what} certificate: {certificate.credential}.\n\n"
        f"Certificate number: {certificate.number}\n"
        "Sign in to vigtrain and open Your certificates to download it."
    )


def _tell_holder(certificate: Certificate, subject: str, body: str) -> None:
    holder = certificate.holder
    if holder.is_active_flag:
        send_email(holder.email, subject, f"Hello {holder.display_name},\n\n{body}\n")


# --- lifecycle ------------------------------------------------------------------------------------


def _require_change(actor: User, certificate: Certificate) -> None:
    if not can_change_certificate(actor, certificate):
        raise PermissionDenied("Only an AVIGuk administrator who is not the holder can change a certificate")


def _clean_reason(text: str | None, field: str, what: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) < MIN_REASON:
        raise DomainError(f"Give the {what} in at least {MIN_REASON} characters", field=field)
    if len(cleaned) > MAX_REASON:
        raise DomainError(f"The {what} must be {MAX_REASON} characters or fewer", field=field)
    return screen(cleaned, field)


def _supersede(actor: User, old: Certificate, new: Certificate, action: str) -> None:
    before = audit.snapshot(old, *STATUS_FIELDS)
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
class RenewalEvidence:
    """Confirmed supervision in a certificate's period: what a renewal rests on."""

    period_start: date
    period_end: date
    sessions: int
    minutes: int
    asks_for: str

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def found(self) -> bool:
        return self.sessions > 0


def renewal_evidence(certificate: Certificate, today: date) -> RenewalEvidence:
    """Confirmed supervision the holder had during the certificate's validity (up to today)."""
    end = min(certificate.valid_until or today, today)
    sessions, minutes = db.session.execute(
        select(func.count(SupervisionSession.id), func.coalesce(func.sum(SupervisionSession.duration_minutes), 0))
        .join(SupervisionSession.enrolment)
        .where(
            Enrolment.trainee_id == certificate.holder_id,
            SupervisionSession.status == SessionStatus.CONFIRMED,
            SupervisionSession.session_date >= certificate.issued_on,
            SupervisionSession.session_date <= end,
        )
    ).one()
    asks_for = certificate.enrolment.pathway_version.definition.renewal_evidence
    return RenewalEvidence(certificate.issued_on, end, sessions, int(minutes), asks_for)


def renewal_problem(certificate: Certificate, today: date) -> str | None:
    """Why this certificate cannot be renewed today (evidence aside); None if it can."""
    if certificate.kind is not CertificateKind.ACCREDITATION or certificate.valid_until is None:
        return "Stage-completion certificates do not expire, so they are not renewed"
    status = effective_status(certificate, today)
    if status not in (CertificateStatus.VALID, CertificateStatus.EXPIRED):
        return f"A {status.label.lower()} certificate cannot be renewed"
    opens = add_months(certificate.valid_until, -RENEWAL_WINDOW_MONTHS)
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
    problem = renewal_problem(certificate, today)
    if problem:
        raise DomainError(problem)
    evidence = renewal_evidence(certificate, today)
    if not evidence.found:
        raise DomainError(
            f"No confirmed supervision is recorded for {certificate.holder_name} between "
            f"{format_date(evidence.period_start)} and {format_date(evidence.period_end)}. "
            f"The pathway asks for: {evidence.asks_for}."
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
        after={"evidence_note": note, "confirmed_sessions": evidence.sessions, "confirmed_hours": evidence.hours},
    )
    _tell_holder(new, f"Your accreditation has been renewed: {new.number}", _issued_text(new))
    return new


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
    _tell_holder(new, f"Your certificate has been reissued in your new name: {new.number}", _issued_text(new))
    return new


def revoke_certificate(actor: User, certificate: Certificate, reason: str | None) -> None:
    """Withdraw a certificate, with the reason verifiers will be shown."""
    _require_change(actor, certificate)
    hold(certificate)  # two administrators at once: the second sees what the first did
    if certificate.status not in (CertificateStatus.VALID, CertificateStatus.EXPIRED):
        raise DomainError(f"A {certificate.status.label.lower()} certificate cannot be revoked")
    text = _clean_reason(reason, "reason", "reason for revoking (verifiers will see it)")
    before = audit.snapshot(certificate, *STATUS_FIELDS)
    certificate.status, certificate.status_reason = CertificateStatus.REVOKED, text
    certificate.status_changed_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "certificate.revoked", certificate, before=before, after=audit.snapshot(certificate, *STATUS_FIELDS)
    )
    _tell_holder(certificate, f"Your certificate {certificate.number} has been revoked", f"The reason given:\n\n{text}")


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


def admin_query(search: str = "", status: CertificateStatus | None = None) -> Select:
    """Every certificate, newest first; `search` matches a number (leniently) or part of a name."""
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
