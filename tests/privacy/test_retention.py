"""The retention schedule's purges: for each rule, what is just past its period goes and what is just
inside it stays; certificates go with their whole renewal chain, and only those of erased holders."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from tests.certificate_factories import insert_certificate, make_earned_record, make_holder
from tests.factories import make_admin, make_case, make_user
from vigtrain import audit, codes
from vigtrain.audit import AuditEvent
from vigtrain.certificates.models import (
    NUMBER_PREFIX,
    BulkIssue,
    BulkIssueItem,
    BulkItemState,
    Certificate,
    CertificateKind,
    CertificateStatus,
    CredentialOffer,
)
from vigtrain.dates import UK, utcnow
from vigtrain.dcs.models import MeasureInvitation, Timepoint
from vigtrain.extensions import db
from vigtrain.notifications.models import (
    EmailState,
    Notification,
    NotificationKind,
    OutboxMessage,
    OutboxStatus,
)
from vigtrain.privacy import retention
from vigtrain.privacy.models import Erasure

SECOND = timedelta(seconds=1)
_numbers = itertools.count(1)


def setting(name: str) -> timedelta:
    return current_app.config[name]


def apply() -> dict[str, int]:
    """Run the schedule as of now, commit, and forget what the session held."""
    counts = retention.apply_retention_schedule(utcnow())
    db.session.commit()
    db.session.expire_all()
    return counts


def remaining(column) -> list:
    return sorted(db.session.scalars(select(column)).all())


def erase_directly(user) -> None:
    """Mark a holder erased as the erasure service does (its own tests cover the rest of what it does)."""
    user.erased_at = utcnow() - timedelta(days=1)
    user.display_name = f"Erased person P-{user.id}"
    db.session.commit()


# --- audit events ------------------------------------------------------------------------------------


def test_audit_events_go_seven_years_after_they_occurred_and_no_sooner(app, clock):
    period = setting("RETENTION_AUDIT_EVENT")
    assert retention.in_words(period) == "7 years"
    now = utcnow()
    for label, moment in (("past", now - period), ("inside", now - period + SECOND), ("recent", now)):
        db.session.add(AuditEvent(occurred_at=moment, actor_label="system", action=label, entity_type="Test"))
    db.session.commit()
    counts = apply()
    assert counts["audit-events"] == 1
    assert remaining(AuditEvent.action) == ["inside", "recent"]
    assert db.session.scalar(select(func.count()).select_from(audit.AuditRewrite)) == 0  # permission gone again
    assert apply()["audit-events"] == 0


# --- notifications and email ----------------------------------------------------------------------------


def _notification(person, title: str, created_at, read_at=None) -> None:
    db.session.add(
        Notification(
            recipient_id=person.id,
            kind=NotificationKind.STAGE_UPDATE,
            subject=f"test:{next(_numbers)}",
            period="once",
            title=title,
            body="Body",
            created_at=created_at,
            read_at=read_at,
            email_state=EmailState.NONE,
        )
    )


def test_read_notifications_go_a_year_after_reading_unread_ones_two_years_after_they_were_made(app, clock):
    person = make_user()
    read, unread = setting("RETENTION_READ_NOTIFICATION"), setting("RETENTION_UNREAD_NOTIFICATION")
    assert (retention.in_words(read), retention.in_words(unread)) == ("12 months", "24 months")
    now = utcnow()
    long_ago = now - unread - timedelta(days=30)
    _notification(person, "read past", long_ago, read_at=now - read)
    _notification(person, "read inside", long_ago, read_at=now - read + SECOND)
    _notification(person, "unread past", now - unread)
    _notification(person, "unread inside", now - unread + SECOND)
    db.session.commit()
    counts = apply()
    assert (counts["read-notifications"], counts["unread-notifications"]) == (1, 1)
    assert remaining(Notification.title) == ["read inside", "unread inside"]


def _email(subject: str, status: OutboxStatus, created_at) -> None:
    db.session.add(
        OutboxMessage(to_address="a@example.org", subject=subject, body="b", status=status, created_at=created_at)
    )


def test_email_sent_failed_or_held_goes_after_ninety_days_queued_email_stays(app, clock):
    period = setting("RETENTION_OUTBOX_MESSAGE")
    now = utcnow()
    for status in OutboxStatus:
        _email(f"{status.value} past", status, now - period)
        _email(f"{status.value} inside", status, now - period + SECOND)
    db.session.commit()
    assert apply()["outbox-email"] == 3
    assert remaining(OutboxMessage.subject) == [
        "failed inside",
        "held inside",
        "queued inside",
        "queued past",
        "sent inside",
    ]


# --- client measure links ----------------------------------------------------------------------------


def test_unanswered_client_links_go_ninety_days_after_they_expired_or_were_revoked(app, clock):
    practitioner = make_user()
    case = make_case(practitioner)
    period = setting("RETENTION_MEASURE_INVITATION")
    now = utcnow()
    made = now - timedelta(days=400)

    def link(name: str, **times) -> None:
        db.session.add(
            MeasureInvitation(
                case_id=case.id,
                created_by_id=practitioner.id,
                timepoint=Timepoint.PRE,
                measure_codes=[name],
                token_digest=codes.generate("T") + name,
                created_at=made,
                **{"expires_at": now + timedelta(days=1), **times},
            )
        )

    link("expired-past", expires_at=now - period)
    link("expired-inside", expires_at=now - period + SECOND)
    link("revoked-past", revoked_at=now - period)
    link("revoked-inside", revoked_at=now - period + SECOND)
    link("answered-long-ago", expires_at=made + timedelta(days=7), used_at=made + timedelta(days=1))
    link("pending")
    db.session.commit()
    assert apply()["measure-invitations"] == 2
    assert sorted(code for [code] in db.session.scalars(select(MeasureInvitation.measure_codes))) == [
        "answered-long-ago",
        "expired-inside",
        "pending",
        "revoked-inside",
    ]


# --- offers to digital wallets ------------------------------------------------------------------------


def test_wallet_offers_go_ninety_days_after_their_code_expired(app, clock):
    certificate = insert_certificate()
    period = setting("RETENTION_WALLET_OFFER")
    now = utcnow()
    for name, expires_at in (("past", now - period), ("inside", now - period + SECOND), ("live", now)):
        db.session.add(
            CredentialOffer(
                certificate_id=certificate.id,
                created_by_id=certificate.holder_id,
                code_digest=name.ljust(64, "0"),
                created_at=expires_at - timedelta(minutes=10),
                expires_at=expires_at,
            )
        )
    db.session.commit()
    assert apply()["wallet-offers"] == 1
    assert sorted(db.session.scalars(select(CredentialOffer.code_digest))) == [
        "inside".ljust(64, "0"),
        "live".ljust(64, "0"),
    ]


# --- the erasure register ------------------------------------------------------------------------------


def test_an_erasures_reason_is_cleared_six_years_on_and_its_entry_and_pseudonym_stay(app, clock):
    period = setting("RETENTION_ERASURE_REASON")
    now = utcnow()
    for name, moment in (("past", now - period), ("inside", now - period + SECOND)):
        person = make_user(erased_at=moment)
        db.session.add(Erasure(user_id=person.id, pseudonym=f"P-{name}", reason=f"Asked, {name}", erased_at=moment))
        db.session.add(
            AuditEvent(
                occurred_at=moment,
                actor_label="system",
                action=retention.ERASED_ACTION,
                entity_type="User",
                entity_id=str(person.id),
                after={"pseudonym": f"P-{name}", "reason": f"Asked, {name}"},
            )
        )
    db.session.commit()
    assert apply()["erasure-reasons"] == 1
    rows = db.session.execute(select(Erasure.pseudonym, Erasure.reason).order_by(Erasure.pseudonym)).all()
    assert rows == [("P-inside", "Asked, inside"), ("P-past", retention.REASON_CLEARED)]
    recorded = [event.after for event in db.session.scalars(select(AuditEvent))]
    assert sorted(recorded, key=lambda after: after["pseudonym"]) == [
        {"pseudonym": "P-inside", "reason": "Asked, inside"},
        {"pseudonym": "P-past", "reason": retention.REASON_CLEARED},
    ]
    assert apply()["erasure-reasons"] == 0  # a cleared reason is not cleared again


# --- the certificate register ---------------------------------------------------------------------------


def _certificate(holder, replaces: Certificate | None = None, **fields) -> Certificate:
    """A certificate of `holder`'s, VALID unless told; later ones share the first one's enrolment."""
    first = db.session.scalar(select(Certificate).where(Certificate.holder_id == holder.id).limit(1))
    if first is None:
        return insert_certificate(holder, replaces=replaces, **fields)
    stage = fields.pop("kind", CertificateKind.ACCREDITATION) is CertificateKind.STAGE
    certificate = Certificate(
        number=codes.generate(NUMBER_PREFIX),
        kind=CertificateKind.STAGE if stage else CertificateKind.ACCREDITATION,
        issue_key=f"test:{next(_numbers)}",
        holder_id=holder.id,
        holder_name=holder.display_name,
        credential=first.credential,
        pathway_code=first.pathway_code,
        pathway_version=first.pathway_version,
        pathway_title=first.pathway_title,
        enrolment_id=first.enrolment_id,
        issued_on=fields.pop("issued_on", date(2000, 1, 1)),
        valid_until=None if stage else fields.pop("valid_until", date(2030, 1, 1)),
        status=fields.pop("status", CertificateStatus.VALID),
        replaces_id=replaces.id if replaces else None,
        status_index=db.session.scalar(select(func.max(Certificate.status_index))) + 1,
    )
    assert not fields or fields.keys() == {"stage_number"}, fields
    db.session.add(certificate)
    db.session.commit()
    return certificate


def _ended(certificate: Certificate, status: CertificateStatus, when) -> None:
    certificate.status, certificate.status_changed_at = status, when
    db.session.commit()


def _numbers_left() -> list[str]:
    return remaining(Certificate.number)


def _cutoff_day() -> date:
    return (utcnow() - setting("RETENTION_ERASED_CERTIFICATE")).astimezone(UK).date()


def test_an_erased_holders_expired_certificate_goes_six_years_after_its_last_valid_day(app, clock, client):
    erased, kept = make_holder("Eve Erased"), make_holder("Kit Kept")
    last_day = _cutoff_day() - timedelta(days=1)  # stopped being valid on the cut-off day: 6 years ago
    gone = _certificate(erased, issued_on=last_day - timedelta(days=1000), valid_until=last_day)
    inside = _certificate(erased, issued_on=last_day - timedelta(days=1000), valid_until=last_day + timedelta(days=1))
    not_erased = _certificate(kept, issued_on=last_day - timedelta(days=1000), valid_until=last_day)
    _ended(gone, CertificateStatus.EXPIRED, utcnow() - timedelta(days=3000))
    numbers = (gone.number, inside.number, not_erased.number)
    erase_directly(erased)
    assert client.get(f"/verify/{numbers[0]}").status_code == 200
    assert apply()["erased-certificates"] == 1
    assert _numbers_left() == sorted(numbers[1:])
    assert client.get(f"/verify/{numbers[1]}").status_code == 200
    # /verify answers exactly as for a well-formed number never issued.
    never = codes.generate(NUMBER_PREFIX)
    for suffix in ("", ".json"):
        purged, unknown = client.get(f"/verify/{numbers[0]}{suffix}"), client.get(f"/verify/{never}{suffix}")
        assert purged.status_code == unknown.status_code == 404
        assert purged.get_data(as_text=True).replace(numbers[0], never) == unknown.get_data(as_text=True)


def test_a_certificate_whose_valid_until_passed_but_still_says_valid_counts_as_expired(app, clock):
    erased = make_holder()
    _certificate(erased, valid_until=_cutoff_day() - timedelta(days=1))  # the expiry job never ran on it
    erase_directly(erased)
    assert apply()["erased-certificates"] == 1


def test_certificates_of_people_not_erased_are_never_purged(app, clock):
    holder = make_holder()
    long_ago = utcnow() - timedelta(days=20 * 365)
    first = _certificate(holder, valid_until=date(2001, 1, 1))
    _ended(first, CertificateStatus.REVOKED, long_ago)
    _certificate(holder, valid_until=date(2002, 1, 1), status=CertificateStatus.EXPIRED)
    _certificate(holder, replaces=first, valid_until=date(2003, 1, 1), status=CertificateStatus.EXPIRED)
    holder.is_active_flag = False  # turned off, even: not erased, so nothing of theirs is purged
    db.session.commit()
    assert apply()["erased-certificates"] == 0
    assert len(_numbers_left()) == 3


def test_a_renewal_chain_goes_whole_once_its_newest_certificate_has_passed_its_period(app, clock):
    erased = make_holder()
    cutoff_day = _cutoff_day()
    long_ago = utcnow() - timedelta(days=15 * 365)
    first = _certificate(erased, valid_until=cutoff_day - timedelta(days=3000))
    second = _certificate(erased, replaces=first, valid_until=cutoff_day - timedelta(days=2000))
    third = _certificate(erased, replaces=second, valid_until=cutoff_day)  # its last day: one day inside
    _ended(first, CertificateStatus.SUPERSEDED, long_ago)
    _ended(second, CertificateStatus.SUPERSEDED, long_ago)
    _ended(third, CertificateStatus.EXPIRED, utcnow() - timedelta(days=2000))
    erase_directly(erased)
    # The first two are long past their period, but their chain's newest is not: the chain stays whole.
    assert apply()["erased-certificates"] == 0
    assert len(_numbers_left()) == 3
    db.session.get(Certificate, third.id).valid_until = cutoff_day - timedelta(days=1)
    db.session.commit()
    assert apply()["erased-certificates"] == 3
    assert _numbers_left() == []


def test_a_chain_reaching_a_certificate_of_someone_not_erased_is_left_whole(app, clock):
    """Links between holders should not happen (a renewal or reissue keeps its holder); if one does,
    the purge leaves the whole chain rather than break the other holder's."""
    kept, erased = make_holder("Kit Kept"), make_holder("Eve Erased")
    long_ago = utcnow() - timedelta(days=15 * 365)
    theirs = _certificate(kept, valid_until=date(2005, 1, 1))
    _ended(theirs, CertificateStatus.SUPERSEDED, long_ago)
    _certificate(erased, replaces=theirs, valid_until=date(2008, 1, 1), status=CertificateStatus.EXPIRED)
    erase_directly(erased)
    assert apply()["erased-certificates"] == 0
    assert len(_numbers_left()) == 2


def test_a_chain_is_unlinked_from_its_bulk_issue_items_and_their_record_stays(app, clock):
    admin = make_admin()
    erased = make_holder()
    record = make_earned_record(erased)
    certificate = _certificate(erased, valid_until=_cutoff_day() - timedelta(days=1), enrolment=record.enrolment)
    job = BulkIssue(created_by_id=admin.id, total=1, issued_count=1)
    job.items.append(
        BulkIssueItem(stage_record_id=record.id, state=BulkItemState.ISSUED, certificate_id=certificate.id)
    )
    db.session.add(job)
    db.session.commit()
    erase_directly(erased)
    assert apply()["erased-certificates"] == 1
    [(state, linked)] = db.session.execute(select(BulkIssueItem.state, BulkIssueItem.certificate_id)).all()
    assert (state, linked) == (BulkItemState.ISSUED, None)


def test_a_revoked_certificate_waits_for_its_valid_until_too_and_without_one_it_stays(app, clock):
    """Deleting it takes its bit out of the published revocation list: only a credential that has
    expired on its face can then not pass as valid offline."""
    erased = make_holder()
    long_ago = utcnow() - timedelta(days=10 * 365)
    today = utcnow().astimezone(UK).date()
    expired_on_its_face = _certificate(erased, valid_until=today - timedelta(days=1))
    still_in_date = _certificate(erased, valid_until=today)
    stage = _certificate(erased, kind=CertificateKind.STAGE, stage_number=1)
    for certificate in (expired_on_its_face, still_in_date, stage):
        _ended(certificate, CertificateStatus.REVOKED, long_ago)
    keep = sorted([still_in_date.number, stage.number])
    erase_directly(erased)
    assert apply()["erased-certificates"] == 1
    assert _numbers_left() == keep


def test_a_superseded_or_revoked_certificate_counts_from_when_its_status_changed(app, clock):
    erased = make_holder()
    period = setting("RETENTION_ERASED_CERTIFICATE")
    now = utcnow()
    old = date(2001, 1, 1)
    past = _certificate(erased, valid_until=old)
    inside = _certificate(erased, valid_until=old)
    _ended(past, CertificateStatus.REVOKED, now - period)
    _ended(inside, CertificateStatus.REVOKED, now - period + SECOND)
    erase_directly(erased)
    assert apply()["erased-certificates"] == 1
    assert _numbers_left() == [inside.number]


def test_every_link_to_a_certificate_is_one_the_purge_handles():
    """A new table pointing at certificates must be handled by `purge_erased_certificates` (and added here)."""
    handled = {
        ("certificate", "replaces_id"),
        ("bulk_issue_item", "certificate_id"),
        ("credential_offer", "certificate_id"),
    }
    links = {
        (table.name, fk.parent.name)
        for table in db.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "certificate"
    }
    assert links == handled


# --- bounded batches ----------------------------------------------------------------------------------


def test_each_rule_removes_at_most_a_batch_per_run_and_the_next_run_carries_on(app, clock):
    app.config["RETENTION_BATCH_LIMIT"] = 2
    person = make_user()
    case = make_case(person)
    long_ago = utcnow() - timedelta(days=10 * 365)
    for number in range(3):
        _notification(person, f"unread {number}", long_ago)
        _notification(person, f"read {number}", long_ago, read_at=long_ago)
        _email(f"sent {number}", OutboxStatus.SENT, long_ago)
        db.session.add(AuditEvent(occurred_at=long_ago, actor_label="system", action="old", entity_type="T"))
        db.session.add(
            MeasureInvitation(
                case_id=case.id,
                created_by_id=person.id,
                timepoint=Timepoint.PRE,
                measure_codes=["GAD-7"],
                token_digest=f"{number}" * 64,
                expires_at=long_ago,
            )
        )
        erased = make_user(erased_at=long_ago)
        db.session.add(Erasure(user_id=erased.id, pseudonym=f"P-{number}", reason="Asked", erased_at=long_ago))
        holder = make_holder()
        _certificate(holder, valid_until=date(2001, 1, 1))
        erase_directly(holder)
    db.session.commit()
    batched = (
        "unread-notifications",
        "read-notifications",
        "outbox-email",
        "audit-events",
        "measure-invitations",
        "erasure-reasons",
        "erased-certificates",
    )
    runs = [apply() for _ in range(3)]
    assert [[counts[key] for key in batched] for counts in runs] == [[2] * 7, [1] * 7, [0] * 7]


@pytest.mark.parametrize(
    ("days", "words"),
    [(6 * 365 + 2, "6 years"), (7 * 365 + 2, "7 years"), (366, "12 months"), (731, "24 months"), (90, "90 days")],
)
def test_periods_read_as_the_schedule_says_them(days, words):
    assert retention.in_words(timedelta(days=days)) == words
    assert retention.in_words(timedelta(hours=24)) == "1 day"
    assert retention.in_words(timedelta(hours=2)) == "2 hours"
