"""Certificates (accreditation and stage completion) and the bulk-issue jobs that create them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.accounts.models import User
from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.encryption import EncryptedString
from vigtrain.extensions import db, str_enum
from vigtrain.pathways.models import Enrolment, StageRecord

NUMBER_PREFIX = "AV"


class CertificateKind(enum.StrEnum):
    ACCREDITATION = "accreditation"
    STAGE = "stage"

    @property
    def label(self) -> str:
        return "Accreditation" if self is CertificateKind.ACCREDITATION else "Stage completion"


class CertificateStatus(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    # Held back for a while (an investigation, a complaint): not valid until reinstated or its end date.
    SUSPENDED = "suspended"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def tag_class(self) -> str:
        """The GOV.UK tag colour for this status, the same on every page."""
        return STATUS_TAG_CLASSES[self]


STATUS_LABELS = {
    CertificateStatus.VALID: "Valid",
    CertificateStatus.EXPIRED: "Expired",
    CertificateStatus.REVOKED: "Revoked",
    CertificateStatus.SUPERSEDED: "Superseded",
    CertificateStatus.SUSPENDED: "Suspended",
}

STATUS_TAG_CLASSES = {
    CertificateStatus.VALID: "govuk-tag--green",
    CertificateStatus.EXPIRED: "govuk-tag--grey",
    CertificateStatus.REVOKED: "govuk-tag--red",
    CertificateStatus.SUPERSEDED: "govuk-tag--blue",
    CertificateStatus.SUSPENDED: "govuk-tag--orange",
}


class ReplacementReason(enum.StrEnum):
    RENEWAL = "renewal"
    NAME_CHANGE = "name_change"

    @property
    def label(self) -> str:
        return "Renewal" if self is ReplacementReason.RENEWAL else "Reissued for a change of name"


class Certificate(db.Model):
    """One issued certificate. Its facts are fixed at issue; only its status changes.

    `issue_key` says why it exists ("stage:{id}", "renewal:{old id}", "reissue:{old id}") and is
    unique, so a second attempt to issue the same thing finds the first instead of duplicating it.
    """

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[CertificateKind] = mapped_column(str_enum(CertificateKind, 20))
    issue_key: Mapped[str] = mapped_column(String(64), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    credential: Mapped[str] = mapped_column(String(120))
    pathway_code: Mapped[str] = mapped_column(String(64))
    pathway_version: Mapped[str] = mapped_column(String(32))
    pathway_title: Mapped[str] = mapped_column(String(200))
    stage_number: Mapped[int | None] = mapped_column(Integer)
    stage_name: Mapped[str | None] = mapped_column(String(120))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id"), index=True)
    stage_record_id: Mapped[int | None] = mapped_column(ForeignKey("stage_record.id"), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[CertificateStatus] = mapped_column(
        str_enum(CertificateStatus, 20), default=CertificateStatus.VALID, index=True
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"), unique=True)
    replacement_reason: Mapped[ReplacementReason | None] = mapped_column(str_enum(ReplacementReason, 20))
    # The certificate's bit in the published Open Badges status list; never reused.
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When the holder asked AVIGuk to renew it (cleared by nothing: a renewal supersedes the certificate).
    renewal_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # While suspended: why (verifiers see it), the day it ends (valid again from that day; None: until
    # an administrator reinstates it), when and by whom. Cleared when the suspension ends.
    suspension_reason: Mapped[str | None] = mapped_column(Text)
    suspended_until: Mapped[date | None] = mapped_column(Date)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    holder: Mapped[User] = relationship(foreign_keys=[holder_id], lazy="joined", innerjoin=True)
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    suspended_by: Mapped[User | None] = relationship(foreign_keys=[suspended_by_id])
    enrolment: Mapped[Enrolment] = relationship()
    stage_record: Mapped[StageRecord | None] = relationship()
    replaces: Mapped[Certificate | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id], back_populates="replaced_by"
    )
    replaced_by: Mapped[Certificate | None] = relationship(
        foreign_keys=[replaces_id], back_populates="replaces", uselist=False
    )

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.status}>"

    @property
    def is_current(self) -> bool:
        """Recorded as valid (see `effective_status` for the status on a given day)."""
        return self.status is CertificateStatus.VALID

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def is_stage(self) -> bool:
        return self.kind is CertificateKind.STAGE

    @property
    def expires(self) -> bool:
        return self.valid_until is not None

    def suspension_ended(self, today: date) -> bool:
        """Suspended with an end date that has come: lifted today, whether or not the daily job has run."""
        return (
            self.status is CertificateStatus.SUSPENDED
            and self.suspended_until is not None
            and self.suspended_until <= today
        )

    def effective_status(self, today: date) -> CertificateStatus:
        """The status a verifier must see today, even before the nightly jobs have run.

        A suspension still in force outranks expiry, so an expired certificate cannot be renewed
        while suspended; once its end date comes it reads as valid again (or expired).
        """
        status = CertificateStatus.VALID if self.suspension_ended(today) else self.status
        if status is CertificateStatus.VALID and self.valid_until is not None and self.valid_until < today:
            return CertificateStatus.EXPIRED
        return status


class BulkIssueState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"


class BulkItemState(enum.StrEnum):
    PENDING = "pending"
    ISSUED = "issued"
    FAILED = "failed"


class BulkIssue(db.Model):
    """A request to issue certificates for many stage records, worked through item by item."""

    __tablename__ = "bulk_issue"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[BulkIssueState] = mapped_column(
        str_enum(BulkIssueState, 20), default=BulkIssueState.QUEUED, index=True
    )
    total: Mapped[int] = mapped_column(Integer, default=0)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Moved on by every settled item: the scheduler resumes only jobs nobody is working on.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_by: Mapped[User] = relationship()
    items: Mapped[list[BulkIssueItem]] = relationship(
        back_populates="bulk_issue", order_by="BulkIssueItem.id", cascade="all, delete-orphan"
    )

    @property
    def done_count(self) -> int:
        return self.issued_count + self.failed_count

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.done_count / self.total)

    @property
    def finished(self) -> bool:
        return self.state is BulkIssueState.FINISHED


class BulkIssueItem(db.Model):
    """One stage record in a bulk issue: pending until issued (or failed, with the reason)."""

    __tablename__ = "bulk_issue_item"
    __table_args__ = (UniqueConstraint("bulk_issue_id", "stage_record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_issue_id: Mapped[int] = mapped_column(ForeignKey("bulk_issue.id", ondelete="CASCADE"))
    stage_record_id: Mapped[int] = mapped_column(ForeignKey("stage_record.id"), index=True)
    state: Mapped[BulkItemState] = mapped_column(str_enum(BulkItemState, 20), default=BulkItemState.PENDING)
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    error: Mapped[str | None] = mapped_column(Text)

    bulk_issue: Mapped[BulkIssue] = relationship(back_populates="items")
    stage_record: Mapped[StageRecord] = relationship()
    certificate: Mapped[Certificate | None] = relationship()


class KeyState(enum.StrEnum):
    """A signing key's life: it signs while active; retired, it still verifies what it signed;
    revoked (compromised), nothing it signed is trusted any more."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class IssuerKey(db.Model):
    """One of AVIGuk's Ed25519 signing keys, once keys have been rotated (see certificates/keys.py).

    The private key is kept encrypted with the data keys, so every host reads the same keys from
    the database and a copy of the database alone cannot sign. `generation` orders the keys and is
    unique, so two rotations at once cannot both make the next key.
    """

    __tablename__ = "issuer_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, unique=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_pem: Mapped[str] = mapped_column(EncryptedString())
    state: Mapped[KeyState] = mapped_column(str_enum(KeyState, 20), default=KeyState.ACTIVE, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<IssuerKey {self.generation} {self.kid} {self.state}>"


TRANSCRIPT_PREFIX = "TR"


class TrainingTranscript(db.Model):
    """A signed record of a holder's whole training, fixed when it is made.

    `credential_json` is the credential exactly as signed (without the JWT claims), so checking a
    pasted copy compares it with what AVIGuk issued, not with the record as it stands today.
    """

    __tablename__ = "training_transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    credential_json: Mapped[str] = mapped_column(Text)

    holder: Mapped[User] = relationship(foreign_keys=[holder_id], lazy="joined", innerjoin=True)
    issued_by: Mapped[User] = relationship(foreign_keys=[issued_by_id])

    def __repr__(self) -> str:
        return f"<TrainingTranscript {self.number}>"


class CredentialOffer(db.Model):
    """A certificate offered to the holder's digital wallet (OpenID4VCI, pre-authorised code flow).

    Only SHA-256 digests of the pre-authorised code and of the access token it is exchanged for are
    kept, so a copy of the database cannot collect anyone's credential. The code is redeemed once
    (`redeemed_at`) and the token delivers once (`delivered_at`): each is set by a conditional update,
    so of two wallets presenting the same code or token at once only one wins. `subject_did` is the
    wallet's DID the credential was bound to.
    """

    __tablename__ = "credential_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificate.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    code_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    access_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    access_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    subject_did: Mapped[str | None] = mapped_column(Text)

    certificate: Mapped[Certificate] = relationship()

    def __repr__(self) -> str:
        return f"<CredentialOffer {self.id} certificate {self.certificate_id}>"
