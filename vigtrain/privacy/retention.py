"""The retention schedule: what vigtrain keeps, for how long and why, and the purges that enforce it.

The schedule is data (`RULES`); the README's "Retention schedule" table and the administrators' page
say the same (a test compares the README's table with `RULES`, row by row). The daily job "apply-retention-schedule"
calls `enforce_retention`, which runs every purge in the caller's one transaction: if any purge fails,
the whole run rolls back and the database is as it was.

Each purge is set-based and bounded: at most RETENTION_BATCH_LIMIT rows (RETENTION_ERASURE_LIMIT
people) per rule per run, so a first run over years of history never holds a lock for minutes; the
next day's run carries on where this one stopped.

To add a rule: put its period in vigtrain/config.py (a timedelta), write a purge
`(now, period) -> int` that removes at most a batch of what has passed `period` and flushes, add a
`Rule` to `RULES` where it belongs in the table, and add its row to the README's table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, delete, exists, or_, select, update

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.audit import AuditEvent
from vigtrain.certificates.models import BulkIssueItem, Certificate, CertificateStatus, CredentialOffer
from vigtrain.dates import UK
from vigtrain.dcs.models import Administration, MeasureInvitation
from vigtrain.extensions import db
from vigtrain.notifications.models import Notification, OutboxMessage, OutboxStatus
from vigtrain.privacy.models import Erasure

Purge = Callable[[datetime, timedelta], int]

log = logging.getLogger("vigtrain.retention")

# The reasons recorded for the schedule's erasures ({period}: the setting in words, "6 years" by default).
DEACTIVATED_REASON = "Retention schedule: {period} after the account was turned off"
INVITATION_REASON = "Retention schedule: {period} after an invitation that was never accepted"
# What an erasure's reason becomes once its period has passed: the row and pseudonym stay, so the
# pseudonyms left in the records are still explained.
REASON_CLEARED = "Reason cleared by the retention schedule"
# The audit event the erasure service records, whose `after` repeats the reason.
ERASED_ACTION = "person.erased"

# Rows that make up the account itself (its roles, settings, sign-in codes, messages to it). Any other
# row that points at a person is theirs (an enrolment, a case, a session they logged, a cohort they
# lead...), and an unaccepted invitation with anything of theirs is never erased by the schedule.
ACCOUNT_OWN_TABLES = frozenset(
    {"user_role", "recovery_code", "notification_preference", "notification", "form_submission"}
)


def _batch() -> int:
    return current_app.config["RETENTION_BATCH_LIMIT"]


def _erasure_batch() -> int:
    return current_app.config["RETENTION_ERASURE_LIMIT"]


def _ids(query) -> list[int]:
    return list(db.session.scalars(query))


# --- people ------------------------------------------------------------------------------------------


def _erase_where(reason: str, *conditions: Any) -> int:
    """Erase, oldest account first, up to a batch of the people `conditions` select.

    Someone the erasure service would refuse (a supervisor still named on trainees in training, an
    accrediting supervisor with a stage undecided) is passed over and logged, not allowed to fail the
    whole run: they are erased on the first run after an administrator has changed what holds them.
    """
    # Imported when used: the erasure service is its own module in this package, and heavier.
    from vigtrain.privacy.erasure import blockers, erase_person

    limit, erased, after = _erasure_batch(), 0, 0
    while erased < limit:
        people = db.session.scalars(
            select(User).where(User.id > after, *conditions).order_by(User.id).limit(limit - erased)
        ).all()
        if not people:
            break
        for person in people:
            after = person.id
            if problems := blockers(None, person):
                log.warning("retention: account %s not erased yet: %s", person.id, problems[0])
                continue
            erase_person(None, person, reason)
            erased += 1
    db.session.flush()
    return erased


def _certificate_still_counts(cutoff: datetime) -> Any:
    """The person holds a time-limited certificate that is valid, or stopped being valid after `cutoff`.

    A certificate with no end date (a stage-completion certificate) does not hold an erasure back: its
    register entry outlives the erasure without the holder's name (see `purge_erased_certificates`).
    """
    cutoff_day = cutoff.astimezone(UK).date()
    return exists().where(
        Certificate.holder_id == User.id,
        or_(
            and_(
                Certificate.status.in_(
                    [CertificateStatus.VALID, CertificateStatus.EXPIRED, CertificateStatus.SUSPENDED]
                ),
                Certificate.valid_until >= cutoff_day,
            ),
            and_(
                Certificate.status.in_([CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED]),
                or_(Certificate.status_changed_at.is_(None), Certificate.status_changed_at > cutoff),
            ),
        ),
    )


def erase_deactivated_accounts(now: datetime, period: timedelta) -> int:
    """Erase accounts turned off `period` ago, unless a certificate of theirs ended less than `period` ago."""
    cutoff = now - period
    return _erase_where(
        DEACTIVATED_REASON.format(period=in_words(period)),
        User.erased_at.is_(None),
        User.is_active_flag.is_(False),
        User.deactivated_at <= cutoff,
        ~_certificate_still_counts(cutoff),
    )


def _holds_anything() -> Any:
    """Some row beyond the account itself points at the person (found from the schema, so new tables count)."""
    held = [
        exists().where(fk.parent == User.id)
        for table in db.metadata.sorted_tables
        if table.name not in ACCOUNT_OWN_TABLES
        for fk in table.foreign_keys
        if fk.column is User.__table__.c.id
    ]
    return or_(*held)


def erase_unaccepted_invitations(now: datetime, period: timedelta) -> int:
    """Erase people invited `period` ago or more who never set a password and have nothing of theirs."""
    return _erase_where(
        INVITATION_REASON.format(period=in_words(period)),
        User.erased_at.is_(None),
        User.password_hash.is_(None),
        User.password_changed_at.is_(None),
        User.last_login_at.is_(None),
        User.invited_at <= now - period,
        ~_holds_anything(),
    )


# --- the certificate register --------------------------------------------------------------------------


def _ended_before(cutoff: datetime, now: datetime) -> Any:
    """The certificate stopped being valid at or before `cutoff` (expiry, supersession or revocation).

    A revoked certificate also waits for its own valid-until date: its place in the published revocation
    list goes with it, and only a signed credential that has expired on its face cannot then pass as valid
    offline. (A revoked certificate with no end date is therefore kept.)
    """
    cutoff_day = cutoff.astimezone(UK).date()
    return or_(
        and_(
            Certificate.status.in_([CertificateStatus.VALID, CertificateStatus.EXPIRED, CertificateStatus.SUSPENDED]),
            Certificate.valid_until < cutoff_day,
        ),
        and_(Certificate.status == CertificateStatus.SUPERSEDED, Certificate.status_changed_at <= cutoff),
        and_(
            Certificate.status == CertificateStatus.REVOKED,
            Certificate.status_changed_at <= cutoff,
            Certificate.valid_until < now.astimezone(UK).date(),
        ),
    )


def _purgeable(cutoff: datetime, now: datetime):
    return (
        select(Certificate.id)
        .join(User, User.id == Certificate.holder_id)
        .where(User.erased_at.is_not(None), _ended_before(cutoff, now))
    )


def _chain_back(heads: list[int]) -> dict[int, list[int]]:
    """Each head's renewal chain (itself and every certificate it replaces, back to the first)."""
    chains = {head: [head] for head in heads}
    reaching = {head: head for head in heads}  # the certificate last added -> its chain's head
    while reaching:
        rows = db.session.execute(
            select(Certificate.id, Certificate.replaces_id).where(
                Certificate.id.in_(reaching), Certificate.replaces_id.is_not(None)
            )
        ).all()
        following = {}
        for certificate_id, replaces_id in rows:
            head = reaching[certificate_id]
            if replaces_id not in chains[head]:  # a link back into the chain would loop for ever
                chains[head].append(replaces_id)
                following[replaces_id] = head
        reaching = following
    return chains


def purge_erased_certificates(now: datetime, period: timedelta) -> int:
    """Delete the register entries of erased holders `period` after they stopped being valid.

    A renewal chain (each renewal or reissue `replaces` the one before) goes whole or not at all: it is
    found from its newest certificate, and deleted only when every certificate in it has passed its
    period and belongs to an erased holder, so /verify never finds half a chain. Bulk-issue items that
    made one keep their record without the link. Nobody else's certificate is ever touched.
    """
    cutoff = now - period
    limit = _batch()
    replaced = Certificate.__table__.alias("replacing")
    heads = _ids(
        _purgeable(cutoff, now)
        .where(~exists().where(replaced.c.replaces_id == Certificate.id))
        .order_by(Certificate.id)
        .limit(limit)
    )
    if not heads:
        return 0
    chains = _chain_back(heads)
    every = {certificate_id for chain in chains.values() for certificate_id in chain}
    ready = set(_ids(_purgeable(cutoff, now).where(Certificate.id.in_(every))))
    doomed: list[int] = []
    for chain in chains.values():
        if len(doomed) >= limit:
            break
        if ready.issuperset(chain):
            doomed.extend(chain)
    if not doomed:
        return 0
    db.session.execute(
        update(BulkIssueItem)
        .where(BulkIssueItem.certificate_id.in_(doomed))
        .values(certificate_id=None)
        .execution_options(synchronize_session=False)
    )
    # Offers of a certificate to a wallet go with it (the audit trail keeps what was delivered).
    db.session.execute(
        delete(CredentialOffer)
        .where(CredentialOffer.certificate_id.in_(doomed))
        .execution_options(synchronize_session=False)
    )
    # Unlink the chain first, so neither database checks a link to a row deleted in the same statement.
    db.session.execute(
        update(Certificate)
        .where(Certificate.id.in_(doomed))
        .values(replaces_id=None)
        .execution_options(synchronize_session=False)
    )
    removed = db.session.execute(
        delete(Certificate).where(Certificate.id.in_(doomed)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire_all()  # anything loaded that pointed at them must be read again
    return removed


# --- records and messages ------------------------------------------------------------------------------


def delete_old_audit_events(now: datetime, period: timedelta) -> int:
    """Delete audit events that occurred `period` ago or more (the one deletion the trail allows)."""
    ids = _ids(
        select(AuditEvent.id).where(AuditEvent.occurred_at <= now - period).order_by(AuditEvent.id).limit(_batch())
    )
    if not ids:
        return 0
    with audit.rewriting("retention"):
        removed = db.session.execute(
            delete(AuditEvent).where(AuditEvent.id.in_(ids)).execution_options(synchronize_session=False)
        ).rowcount
    return removed


def _delete_batch(model: Any, *conditions: Any) -> int:
    ids = _ids(select(model.id).where(*conditions).order_by(model.id).limit(_batch()))
    if not ids:
        return 0
    return db.session.execute(
        delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
    ).rowcount


def delete_read_notifications(now: datetime, period: timedelta) -> int:
    """Delete notifications read `period` ago or more."""
    return _delete_batch(Notification, Notification.read_at <= now - period)


def delete_unread_notifications(now: datetime, period: timedelta) -> int:
    """Delete notifications never read and made `period` ago or more."""
    return _delete_batch(Notification, Notification.read_at.is_(None), Notification.created_at <= now - period)


FINISHED_OUTBOX = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.HELD)


def delete_finished_email(now: datetime, period: timedelta) -> int:
    """Delete email sent, given up on, or held for reading in the app, made `period` ago or more.

    Queued email is never deleted: it is still to be sent.
    """
    return _delete_batch(
        OutboxMessage, OutboxMessage.status.in_(FINISHED_OUTBOX), OutboxMessage.created_at <= now - period
    )


def delete_unused_measure_invitations(now: datetime, period: timedelta) -> int:
    """Delete client links never answered, `period` after they expired or were revoked.

    An answered link stays with the answers it brought: it is what records that the client answered on
    their own phone (`Administration.self_completed`), and its token is spent.
    """
    cutoff = now - period
    ids = _ids(
        select(MeasureInvitation.id)
        .where(
            MeasureInvitation.used_at.is_(None),
            or_(MeasureInvitation.expires_at <= cutoff, MeasureInvitation.revoked_at <= cutoff),
            ~exists().where(Administration.invitation_id == MeasureInvitation.id),
        )
        .order_by(MeasureInvitation.id)
        .limit(_batch())
    )
    if not ids:
        return 0
    return db.session.execute(
        delete(MeasureInvitation).where(MeasureInvitation.id.in_(ids)).execution_options(synchronize_session=False)
    ).rowcount


def delete_old_wallet_offers(now: datetime, period: timedelta) -> int:
    """Delete offers of a certificate to a digital wallet `period` after their code expired.

    Long expired, an offer only says that the holder once asked; the audit trail keeps the offer and
    the delivery (with the wallet's DID).
    """
    return _delete_batch(CredentialOffer, CredentialOffer.expires_at <= now - period)


def clear_erasure_reasons(now: datetime, period: timedelta) -> int:
    """Clear the recorded reason of erasures made `period` ago or more, in the register and in the audit
    event that recorded the erasure; the row, its pseudonym and the event stay."""
    rows = db.session.execute(
        select(Erasure.id, Erasure.user_id)
        .where(Erasure.erased_at <= now - period, Erasure.reason != REASON_CLEARED)
        .order_by(Erasure.id)
        .limit(_batch())
    ).all()
    if not rows:
        return 0
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == ERASED_ACTION,
            AuditEvent.entity_type == "User",
            AuditEvent.entity_id.in_([str(user_id) for _, user_id in rows]),
        )
    ).all()
    with audit.rewriting("retention"):
        for event in events:
            if (event.after or {}).get("reason") not in (None, REASON_CLEARED):
                event.after = {**event.after, "reason": REASON_CLEARED}
        cleared = db.session.execute(
            update(Erasure)
            .where(Erasure.id.in_([erasure_id for erasure_id, _ in rows]))
            .values(reason=REASON_CLEARED)
            .execution_options(synchronize_session=False)
        ).rowcount
    return cleared


# --- the schedule ----------------------------------------------------------------------------------------


def in_words(period: timedelta) -> str:
    """A period as the schedule says it: "24 hours", "90 days", "12 months", "6 years".

    Years and months are stored with their possible leap days added (see vigtrain/config.py), so
    2,192 days reads "6 years" and 366 days "12 months".
    """
    days = period.days
    if days == 0:
        hours = round(period.total_seconds() / 3600)
        return "1 hour" if hours == 1 else f"{hours} hours"
    years = days // 365
    if years and 0 <= days - 365 * years <= (years + 3) // 4 + 1:
        return f"{years * 12} months" if years <= 2 else f"{years} years"
    return "1 day" if days == 1 else f"{days} days"


class _PeriodWords(dict):
    """Fills `{SETTING}` in a rule's `kept_for` with that setting's period, in words."""

    def __missing__(self, key: str) -> str:
        return in_words(current_app.config[key])


@dataclass(frozen=True)
class Rule:
    """One line of the schedule. `kept_for` may name settings in braces: "{RETENTION_AUDIT_EVENT}"."""

    key: str
    what: str
    kept_for: str
    why: str
    enforced_by: str
    setting: str | None = None
    purge: Purge | None = None

    @property
    def period(self) -> timedelta | None:
        return current_app.config[self.setting] if self.setting else None

    @property
    def kept_for_text(self) -> str:
        return self.kept_for.format_map(_PeriodWords())


THIS_JOB = "The daily job apply-retention-schedule"
AT_ERASURE = "At erasure (the erasure service)"

RULES: tuple[Rule, ...] = (
    Rule(
        "active-accounts",
        "Accounts of people in training or practice",
        "While the account is active",
        "They need it to record their training and practice, and AVIGuk to accredit them.",
        "Not purged while active",
    ),
    Rule(
        "deactivated-accounts",
        "Accounts turned off",
        "{RETENTION_DEACTIVATED_ACCOUNT} after the account was turned off; while they hold a time-limited "
        "certificate, until {RETENTION_DEACTIVATED_ACCOUNT} after it stops being valid",
        "Long enough to answer questions and claims about their training and accreditation "
        "(6 years, the limitation period for most claims); then erased.",
        THIS_JOB + " (erases the person)",
        "RETENTION_DEACTIVATED_ACCOUNT",
        erase_deactivated_accounts,
    ),
    Rule(
        "unaccepted-invitations",
        "Invitations never accepted",
        "{RETENTION_UNACCEPTED_INVITATION} after the last invitation, if the person has nothing else in vigtrain",
        "An account nobody took up serves no purpose; a year leaves time to invite them again.",
        THIS_JOB + " (erases the person)",
        "RETENTION_UNACCEPTED_INVITATION",
        erase_unaccepted_invitations,
    ),
    Rule(
        "erased-training-records",
        "Training records of erased people",
        "Indefinitely, under the pseudonym, without free text",
        "Enrolment and stage dates and states, supervision dates and hours and ratings feed the national "
        "training figures; without a name or free text they no longer identify the person.",
        "Kept",
    ),
    Rule(
        "erased-free-text",
        "Free text by or about an erased person",
        "Removed at erasure",
        "Notes, comments and reflections may identify the person however the record is labelled.",
        AT_ERASURE,
    ),
    Rule(
        "dcs-outcomes",
        "DCS outcome data",
        "Indefinitely",
        "AVIGuk's national evidence of the effect of VIG; anonymised from the start (case codes only).",
        "Kept",
    ),
    Rule(
        "erased-certificates",
        "Certificate register entries of erased holders",
        "{RETENTION_ERASED_CERTIFICATE} after the certificate stops being valid (expiry, revocation or "
        "supersession), without the holder's name",
        "So anyone shown the certificate can still check it; afterwards /verify answers as for an unknown "
        "number. A renewal chain goes whole; a revoked certificate waits for its own valid-until date too.",
        THIS_JOB,
        "RETENTION_ERASED_CERTIFICATE",
        purge_erased_certificates,
    ),
    Rule(
        "audit-events",
        "Audit events",
        "{RETENTION_AUDIT_EVENT} from when they occurred",
        "The record of who changed what, for complaints, claims and AVIGuk's own assurance.",
        THIS_JOB,
        "RETENTION_AUDIT_EVENT",
        delete_old_audit_events,
    ),
    Rule(
        "read-notifications",
        "Notifications that were read",
        "{RETENTION_READ_NOTIFICATION} after they were read",
        "A reminder that has been read has done its work; a year lets people look back.",
        THIS_JOB,
        "RETENTION_READ_NOTIFICATION",
        delete_read_notifications,
    ),
    Rule(
        "unread-notifications",
        "Notifications never read",
        "{RETENTION_UNREAD_NOTIFICATION} after they were made",
        "Long enough for someone away for a long time to catch up.",
        THIS_JOB,
        "RETENTION_UNREAD_NOTIFICATION",
        delete_unread_notifications,
    ),
    Rule(
        "outbox-email",
        "Email sent, failed or held",
        "{RETENTION_OUTBOX_MESSAGE} after it was made (queued email is kept until sent)",
        "Enough to look into a message someone says they never received.",
        THIS_JOB,
        "RETENTION_OUTBOX_MESSAGE",
        delete_finished_email,
    ),
    Rule(
        "measure-invitations",
        "Client measure links never answered",
        "{RETENTION_MEASURE_INVITATION} after they expired or were revoked (an answered link stays with its answers)",
        "Time to see which links went unanswered; the answers themselves are DCS outcome data.",
        THIS_JOB,
        "RETENTION_MEASURE_INVITATION",
        delete_unused_measure_invitations,
    ),
    Rule(
        "wallet-offers",
        "Offers of a certificate to a digital wallet",
        "{RETENTION_WALLET_OFFER} after their code expired, used or not",
        "Time for the holder to see when their wallet collected the certificate; the audit trail keeps that it did.",
        THIS_JOB,
        "RETENTION_WALLET_OFFER",
        delete_old_wallet_offers,
    ),
    Rule(
        "erasure-reasons",
        "Reasons recorded for erasures",
        "{RETENTION_ERASURE_REASON} after the erasure, in the register and the audit trail; the entry and "
        "pseudonym stay",
        "To show each erasure was lawful and done; the entry stays so the pseudonym in the records is explained.",
        THIS_JOB + " (clears the reason)",
        "RETENTION_ERASURE_REASON",
        clear_erasure_reasons,
    ),
    Rule(
        "form-keys",
        "One-time keys of saved forms",
        "{FORM_SUBMISSION_RETENTION}",
        "Longer than a form's security token lives, so a repeated form is recognised and not saved twice.",
        "The daily job forget-form-submissions",
        "FORM_SUBMISSION_RETENTION",
    ),
    Rule(
        "job-runs",
        "Records of scheduled job runs",
        "{JOB_RUN_RETENTION} ({JOB_RUN_RETENTION_FREQUENT} for the jobs that run every few minutes)",
        "Enough to see how jobs have been running and look into a failure.",
        "The daily job forget-job-runs",
        "JOB_RUN_RETENTION",
    ),
    Rule(
        "import-staging",
        "Uploaded files staged for a bulk import",
        "{IMPORT_STAGING_RETENTION} after the upload or its import's last progress",
        "Long enough to preview and confirm an import; the people imported are then in vigtrain itself.",
        "The daily job forget-staged-imports",
        "IMPORT_STAGING_RETENTION",
    ),
)

BY_KEY = {rule.key: rule for rule in RULES}


def apply_retention_schedule(now: datetime) -> dict[str, int]:
    """Run every purge as of `now` in the current transaction; how many each removed. Flushes, never commits."""
    counts = {}
    for rule in RULES:
        if rule.purge is not None:
            counts[rule.key] = rule.purge(now, rule.period)
            db.session.flush()
    return counts


def enforce_retention(now: datetime) -> int:
    """Apply the schedule and, when anything went, audit what (one system event); how many in all."""
    counts = apply_retention_schedule(now)
    total = sum(counts.values())
    if total:
        audit.record(None, "retention.applied", ("RetentionSchedule", None), after={"purged": counts})
    return total


@dataclass(frozen=True)
class LastPurge:
    """The latest run that removed anything: when, and how many under each rule."""

    occurred_at: datetime
    counts: dict[str, int]


def last_purge() -> LastPurge | None:
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.applied").order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    if event is None:
        return None
    return LastPurge(event.occurred_at, dict((event.after or {}).get("purged", {})))
