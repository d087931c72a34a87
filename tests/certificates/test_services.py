"""Certificate rules: numbers, issuing (idempotent), expiry, renewal, revocation, reissue, lineage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.certificate_factories import ISSUE_DAY, issue, make_certificate, make_earned_record, supervise
from tests.factories import make_admin, make_user
from vigtrain import codes
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.certificates import services
from vigtrain.certificates.models import Certificate, CertificateKind, CertificateStatus, ReplacementReason
from vigtrain.dates import add_months
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.notifications.models import OutboxMessage
from vigtrain.pathways.models import StageState


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> int:
    return count(AuditEvent, AuditEvent.action == action)


@pytest.fixture
def admin(app):
    return make_admin()


# --- numbers --------------------------------------------------------------------------------------


def test_numbers_are_read_leniently_and_a_mistype_is_caught(admin):
    certificate = make_certificate(admin)
    number = certificate.number
    assert codes.is_valid(number, "AV") and len(number) == 12
    sloppy = number.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert services.find_certificate(sloppy) == certificate
    assert services.number_problem(sloppy) is None
    body = number.replace("-", "")[2:]
    wrong = body[:-1] + next(c for c in codes.ALPHABET if c != body[-1])
    assert services.find_certificate("AV" + wrong) is None
    problem = services.number_problem("AV" + wrong)
    assert problem.startswith(f"Check the number: AV-{wrong[:4]}-{wrong[4:]}, the last character doesn't match")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the certificate number"),
        ("   ", "Enter the certificate number"),
        ("XY-1234-5678", "Certificate numbers start with AV"),
        ("AV-1234-567", "you entered 7"),
        ("AV-1234-56789", "you entered 9"),
        ("AV-12U4-5678", "without U or punctuation"),
        ("AV-12#4-5678", "without U or punctuation"),
    ],
)
def test_number_problems_say_what_to_fix(app, text, message):
    assert message in services.number_problem(text)
    assert services.find_certificate(text) is None


@given(body=st.text(alphabet=codes.ALPHABET, min_size=7, max_size=7), position=st.integers(0, 7), data=st.data())
def test_any_single_mistyped_character_is_caught(body, position, data):
    number = codes.format_code("AV", body + codes.check_symbol(body))
    raw = list(number.replace("-", "")[2:])
    raw[position] = data.draw(st.sampled_from([c for c in codes.ALPHABET if c != raw[position]]))
    typed = "AV" + "".join(raw)
    assert not codes.is_valid(typed, "AV")
    assert "the last character doesn't match" in services.number_problem(typed)


# --- dates ----------------------------------------------------------------------------------------


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), months=st.integers(1, 240))
def test_validity_is_whole_months_less_a_day(day, months):
    end = services.validity_end(day, months)
    after = end + timedelta(days=1)
    assert (after.year - day.year) * 12 + after.month - day.month == months
    assert after.day == day.day or (after.day < day.day and (after + timedelta(days=1)).month != after.month)


def test_validity_examples():
    assert services.validity_end(date(2026, 3, 2), 36) == date(2029, 3, 1)
    assert services.validity_end(date(2024, 2, 29), 12) == date(2025, 2, 27)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)


# --- issuing --------------------------------------------------------------------------------------


def test_a_ratified_final_stage_earns_the_accreditation(admin):
    trainee = make_user(name="Łucja Nowak")
    certificate = issue(make_earned_record(trainee), admin)
    assert certificate.kind is CertificateKind.ACCREDITATION
    assert certificate.holder_name == "Łucja Nowak" and certificate.holder_id == trainee.id
    assert certificate.credential == "Accredited VIG Practitioner"
    assert (certificate.pathway_code, certificate.pathway_version) == ("vig-practitioner", "2024.1")
    assert certificate.pathway_title == "VIG Practitioner"
    assert certificate.issued_on == ISSUE_DAY and certificate.valid_until == date(2029, 3, 1)
    assert certificate.status is CertificateStatus.VALID and certificate.is_current
    assert certificate.stage_number is None and certificate.issued_by_id == admin.id
    assert events("certificate.issued") == 1
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == trainee.email))
    assert certificate.number in message.body


def test_an_accredited_intermediate_stage_earns_a_stage_certificate_that_does_not_expire(admin):
    record = make_earned_record(final=False)
    certificate = issue(record, admin)
    assert certificate.kind is CertificateKind.STAGE and certificate.is_stage
    assert certificate.credential == "Stage 1 of the VIG Practitioner pathway"
    assert (certificate.stage_number, certificate.stage_name) == (2, "Stage 1")
    assert certificate.valid_until is None
    assert services.effective_status(certificate, date(2090, 1, 1)) is CertificateStatus.VALID


def test_issuing_twice_gives_the_same_certificate(admin):
    record = make_earned_record()
    first = issue(record, admin)
    second = issue(record, admin, ISSUE_DAY + timedelta(days=3))
    assert first.id == second.id
    assert count(Certificate) == 1 and events("certificate.issued") == 1


def test_a_concurrent_issue_is_found_not_duplicated(admin, monkeypatch):
    """Another process issued it between our check and our insert: the unique key refuses the
    second insert, and the retry finds the first certificate."""
    from vigtrain import transactions

    record = make_earned_record()
    first = issue(record, admin)
    calls = []

    def stale_then_real(key, real=services.by_issue_key):
        calls.append(key)
        return None if len(calls) == 1 else real(key)

    monkeypatch.setattr(services, "by_issue_key", stale_then_real)
    again = transactions.run(
        lambda: services.issue_certificate(admin, record, ISSUE_DAY), retries=services.ISSUE_RETRIES
    )
    assert again.id == first.id and len(calls) == 2
    assert count(Certificate) == 1 and events("certificate.issued") == 1


def test_a_clash_that_keeps_happening_is_reported(admin, monkeypatch):
    from vigtrain import transactions

    record = make_earned_record()
    issue(record, admin)
    monkeypatch.setattr(services, "by_issue_key", lambda key: None)
    with pytest.raises(Conflict, match="at the same moment"):
        transactions.run(lambda: services.issue_certificate(admin, record, ISSUE_DAY), retries=services.ISSUE_RETRIES)
    assert count(Certificate) == 1


@pytest.mark.parametrize("state", [StageState.ACCREDITED, StageState.WITH_ACCREDITOR, StageState.SIGNED_OFF])
def test_a_final_stage_earns_nothing_until_ratified(admin, state):
    record = make_earned_record()
    record.state = state
    db.session.commit()
    with pytest.raises(DomainError, match="has not earned a certificate"):
        services.issue_certificate(admin, record, ISSUE_DAY)
    assert count(Certificate) == 0


@pytest.mark.parametrize(
    ("state", "earns"),
    [(StageState.EXEMPT, False), (StageState.SIGNED_OFF, False), (StageState.COMPLETE, True)],
)
def test_intermediate_stages_earn_a_certificate_only_when_done_here(admin, state, earns):
    record = make_earned_record(final=False)
    record.state = state
    db.session.commit()
    assert (services.kind_earned(record) is CertificateKind.STAGE) is earns
    assert (record.id in services.awaiting_issue_ids()) is earns


def test_nobody_issues_their_own_certificate(app):
    admin_trainee = make_user(roles=(Role.ADMINISTRATOR, Role.TRAINEE))
    record = make_earned_record(admin_trainee)
    with pytest.raises(PermissionDenied):
        services.issue_certificate(admin_trainee, record, ISSUE_DAY)
    with pytest.raises(PermissionDenied):
        services.issue_certificate(make_user(roles=(Role.SUPERVISOR,)), record, ISSUE_DAY)


def test_status_indexes_are_drawn_at_random_never_reused_and_the_list_grows(admin, monkeypatch):
    draws, capacities = iter([3, 3, 1, 3, 1, 6]), []

    def draw(capacity: int) -> int:
        capacities.append(capacity)
        return next(draws)

    monkeypatch.setattr(services.secrets, "randbelow", draw)
    monkeypatch.setattr(services, "STATUS_LIST_BLOCK_BITS", 4)  # small blocks, to see the list grow
    first = make_certificate(admin)
    second = make_certificate(admin)  # 3 is taken: drawn again
    services.revoke_certificate(admin, second, "Issued in error to the wrong person")
    third = make_certificate(admin)  # 3 and 1 are taken, revoked or not
    assert [first.status_index, second.status_index, third.status_index] == [3, 1, 6]
    # Kept at most half full: with 0 or 1 issued one block of 4 places, with 2 issued two blocks.
    assert capacities == [4, 4, 4, 8, 8, 8]


def test_the_queue_lists_earned_records_without_a_certificate(admin):
    earned = make_earned_record()
    stage = make_earned_record(final=False)
    awaiting = services.awaiting_issue_ids()
    assert earned.id in awaiting and stage.id in awaiting
    # The intermediate stages of the final record's enrolment were accredited too.
    issue(earned, admin)
    assert earned.id not in services.awaiting_issue_ids()


# --- status and expiry ----------------------------------------------------------------------------


def test_an_overdue_certificate_shows_as_expired_before_the_job_runs(admin):
    certificate = make_certificate(admin)
    assert services.effective_status(certificate, date(2029, 3, 1)) is CertificateStatus.VALID
    assert services.effective_status(certificate, date(2029, 3, 2)) is CertificateStatus.EXPIRED
    assert certificate.status is CertificateStatus.VALID


def test_expiry_marks_overdue_certificates_once(admin):
    overdue = make_certificate(admin, on=date(2022, 1, 10))
    current = make_certificate(admin)
    assert services.expire_certificates(date(2026, 3, 2)) == 1
    db.session.commit()
    assert overdue.status is CertificateStatus.EXPIRED and overdue.status_changed_at is not None
    assert current.status is CertificateStatus.VALID
    assert services.expire_certificates(date(2026, 3, 2)) == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.expired"))
    assert event.actor_label == "system" and event.after["status"] == "expired"
    assert events("certificate.expired") == 1


# --- renewal --------------------------------------------------------------------------------------


def test_renewal_needs_confirmed_supervision_in_the_period(admin):
    certificate = make_certificate(admin, on=date(2023, 3, 2))
    supervise(certificate, date(2023, 1, 10))  # before the period
    supervise(certificate, date(2024, 5, 1), confirmed=False)  # not confirmed
    today = date(2026, 1, 15)
    with pytest.raises(DomainError, match="does not yet meet the renewal rule") as refused:
        services.renew_certificate(admin, certificate, today, "Checked the supervision log")
    assert "(6 hours needed: 0 confirmed so far)" in refused.value.message
    assert "At least 6 hours of confirmed supervision" in refused.value.message
    assert count(Certificate) == 1


def test_renewal_supersedes_and_runs_on_from_the_old_end(admin):
    old = make_certificate(admin, on=date(2023, 3, 2))
    supervise(old, date(2024, 5, 1), hours=6)
    today = date(2026, 1, 15)
    progress = services.renewal_progress(old, today)
    assert (progress.sessions, progress.hours, progress.met) == (1, 6.0, True)
    new = services.renew_certificate(admin, old, today, "Six hours confirmed in 2024; log checked")
    db.session.commit()
    assert old.status is CertificateStatus.SUPERSEDED and old.replaced_by == new and new.replaces == old
    assert new.replacement_reason is ReplacementReason.RENEWAL and new.issue_key == f"renewal:{old.id}"
    assert new.issued_on == today and new.valid_until == date(2029, 3, 1)
    assert new.status_index != old.status_index and new.number != old.number
    assert services.lineage(old) == [old, new] == services.lineage(new)
    assert events("certificate.renewed") == 1 and events("certificate.superseded") == 1
    evidence_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.renewal_evidence"))
    assert evidence_event.after["evidence_note"].startswith("Six hours")
    with pytest.raises(DomainError, match="superseded certificate cannot be renewed"):
        services.renew_certificate(admin, old, today, "Checked the supervision log")


def test_a_lapsed_certificate_renews_from_today(admin):
    old = make_certificate(admin, on=date(2022, 1, 10))
    supervise(old, date(2023, 6, 1), hours=6)
    services.expire_certificates(date(2026, 3, 2))
    new = services.renew_certificate(admin, old, date(2026, 3, 2), "Supervision confirmed in 2023")
    assert new.valid_until == date(2029, 3, 1)


def test_renewal_opens_six_months_before_expiry(admin):
    certificate = make_certificate(admin)
    supervise(certificate, date(2026, 6, 1))
    problem = services.renewal_problem(certificate, date(2028, 8, 31))
    assert problem == "This certificate can be renewed from 1 September 2028, 6 months before it expires"
    with pytest.raises(DomainError, match="can be renewed from"):
        services.renew_certificate(admin, certificate, date(2028, 8, 31), "Checked the supervision log")
    assert services.renewal_problem(certificate, date(2028, 9, 1)) is None


def test_renewal_needs_a_note_of_the_evidence(admin):
    certificate = make_certificate(admin, on=date(2023, 6, 2))
    supervise(certificate, date(2024, 5, 1), hours=6)
    with pytest.raises(DomainError) as refused:
        services.renew_certificate(admin, certificate, date(2026, 1, 15), "ok")
    assert refused.value.field == "evidence_note"
    assert certificate.status is CertificateStatus.VALID and count(Certificate) == 1


def test_stage_certificates_and_revoked_ones_are_not_renewed(admin):
    stage = issue(make_earned_record(final=False), admin)
    assert "do not expire" in services.renewal_problem(stage, date(2030, 1, 1))
    revoked = make_certificate(admin)
    services.revoke_certificate(admin, revoked, "Issued in error to the wrong person")
    assert services.renewal_problem(revoked, date(2029, 1, 1)) == "A revoked certificate cannot be renewed"


def test_nobody_renews_their_own_certificate(app):
    other_admin = make_user(roles=(Role.ADMINISTRATOR,))
    holder = make_user(roles=(Role.ADMINISTRATOR, Role.TRAINEE))
    certificate = make_certificate(other_admin, holder, on=date(2023, 6, 2))
    supervise(certificate, date(2024, 5, 1))
    with pytest.raises(PermissionDenied):
        services.renew_certificate(holder, certificate, date(2026, 1, 15), "My own supervision log")


def test_a_second_renewal_of_the_same_certificate_conflicts(admin):
    old = make_certificate(admin, on=date(2023, 6, 2))
    supervise(old, date(2024, 5, 1), hours=6)
    services.renew_certificate(admin, old, date(2026, 1, 15), "Supervision log checked")
    old.status = CertificateStatus.VALID  # as a second administrator, acting at the same moment, saw it
    with pytest.raises(DomainError, match=r"(?i)superseded|renewed"):  # re-read under its lock, it is not
        services.renew_certificate(admin, old, date(2026, 1, 15), "Supervision log checked")


# --- revocation and reissue -----------------------------------------------------------------------


def test_revocation_needs_a_reason_verifiers_will_see(admin):
    certificate = make_certificate(admin)
    with pytest.raises(DomainError) as refused:
        services.revoke_certificate(admin, certificate, "  short  ")
    assert refused.value.field == "reason"
    with pytest.raises(DomainError, match=r"(?i)email"):
        services.revoke_certificate(admin, certificate, "Complaint from parent jane.doe@example.com upheld")
    assert certificate.status is CertificateStatus.VALID
    services.revoke_certificate(admin, certificate, "  Accreditation withdrawn after a conduct hearing  ")
    db.session.commit()
    assert certificate.status is CertificateStatus.REVOKED
    assert certificate.status_reason == "Accreditation withdrawn after a conduct hearing"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.revoked"))
    assert event.before["status"] == "valid" and event.after["status"] == "revoked"
    with pytest.raises(DomainError, match="revoked certificate cannot be revoked"):
        services.revoke_certificate(admin, certificate, "Accreditation withdrawn again")


def test_reissue_after_a_change_of_name_keeps_the_dates_and_the_lineage(admin):
    holder = make_user(name="Lucy Grant")
    old = make_certificate(admin, holder)
    with pytest.raises(DomainError, match="already Lucy Grant"):
        services.reissue_for_name_change(admin, old, ISSUE_DAY)
    holder.display_name = "Lucy Morgan"
    new = services.reissue_for_name_change(admin, old, date(2026, 5, 1))
    db.session.commit()
    assert new.holder_name == "Lucy Morgan" and old.holder_name == "Lucy Grant"
    assert (new.issued_on, new.valid_until) == (old.issued_on, old.valid_until)
    assert new.replacement_reason is ReplacementReason.NAME_CHANGE and new.issue_key == f"reissue:{old.id}"
    assert old.status is CertificateStatus.SUPERSEDED and old.replaced_by == new
    assert events("certificate.reissued") == 1
    with pytest.raises(DomainError, match="Only a valid certificate can be reissued"):
        services.reissue_for_name_change(admin, old, date(2026, 5, 1))


def test_lineage_follows_renewals_and_reissues(admin):
    holder = make_user(name="Sam Old")
    first = make_certificate(admin, holder, on=date(2023, 6, 2))
    supervise(first, date(2024, 5, 1), hours=6)
    second = services.renew_certificate(admin, first, date(2026, 1, 15), "Supervision log checked")
    holder.display_name = "Sam New"
    third = services.reissue_for_name_change(admin, second, date(2026, 2, 1))
    db.session.commit()
    assert services.lineage(second) == [first, second, third]


def test_search_finds_numbers_leniently_and_names_by_part(admin):
    lucy = make_certificate(admin, make_user(name="Lucy Morgan"))
    make_certificate(admin, make_user(name="Dev Malhotra"))
    by_number = db.session.scalars(services.admin_query(lucy.number.lower())).all()
    assert by_number == [lucy]
    assert db.session.scalars(services.admin_query("morg")).all() == [lucy]
    assert db.session.scalars(services.admin_query("100%_")).all() == []
    services.revoke_certificate(admin, lucy, "Issued in error to the wrong person")
    assert db.session.scalars(services.admin_query("", CertificateStatus.REVOKED)).all() == [lucy]
