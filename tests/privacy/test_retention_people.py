"""The retention schedule's people rules: accounts turned off six years ago, and invitations nobody
accepted in a year, are erased through the erasure service, just past their period and no sooner."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from tests.certificate_factories import insert_certificate, make_supervisor
from tests.factories import make_case, make_enrolment, make_user
from vigtrain.accounts.models import Role, User
from vigtrain.certificates.models import Certificate, CertificateKind, CertificateStatus
from vigtrain.dates import UK, utcnow
from vigtrain.extensions import db
from vigtrain.privacy import retention
from vigtrain.privacy.models import Erasure

SECOND = timedelta(seconds=1)


def setting(name: str) -> timedelta:
    return current_app.config[name]


def apply() -> dict[str, int]:
    counts = retention.apply_retention_schedule(utcnow())
    db.session.commit()
    db.session.expire_all()
    return counts


def addresses(*people: User) -> dict[int, str]:
    """Each person's email address, taken before the run (erasure replaces it with the pseudonym's)."""
    return {person.id: person.email for person in people}


def erased(who: dict[int, str]) -> list[str]:
    """The addresses, of those people the schedule erased."""
    rows = db.session.execute(select(User.id, User.erased_at).where(User.id.in_(who))).all()
    return sorted(who[user_id] for user_id, erased_at in rows if erased_at is not None)


def turned_off(email: str, ago: timedelta, **fields) -> User:
    return make_user(email, is_active_flag=False, deactivated_at=utcnow() - ago, **fields)


def switch_off(ago: timedelta, *people: User) -> None:
    for person in people:
        person.is_active_flag, person.deactivated_at = False, utcnow() - ago
    db.session.commit()


def test_an_account_turned_off_six_years_ago_is_erased_by_the_system_and_no_sooner(app, clock):
    period = setting("RETENTION_DEACTIVATED_ACCOUNT")
    past = turned_off("past@example.org", period)
    inside = turned_off("inside@example.org", period - SECOND)
    active = make_user("active@example.org", created_at=utcnow() - 2 * period)
    off_unknown = make_user("unknown@example.org", is_active_flag=False)  # no date: not counted from anything
    who = addresses(past, inside, active, off_unknown)
    assert apply()["deactivated-accounts"] == 1
    assert erased(who) == ["past@example.org"]
    erasure = db.session.scalar(select(Erasure))
    assert (erasure.user_id, erasure.erased_by_id) == (past.id, None)  # the system erased them
    assert erasure.reason == "Retention schedule: 6 years after the account was turned off"
    assert apply()["deactivated-accounts"] == 0


def test_a_time_limited_certificate_holds_the_erasure_until_six_years_after_it_ends(app, clock):
    period = setting("RETENTION_DEACTIVATED_ACCOUNT")
    cutoff_day = (utcnow() - period).astimezone(UK).date()
    still_valid = make_user("valid@example.org")
    insert_certificate(still_valid, valid_until=utcnow().date() + timedelta(days=100))
    ended_inside = make_user("inside@example.org")
    insert_certificate(ended_inside, valid_until=cutoff_day, status=CertificateStatus.EXPIRED)
    ended_past = make_user("past@example.org")
    insert_certificate(ended_past, valid_until=cutoff_day - timedelta(days=1), status=CertificateStatus.EXPIRED)
    revoked_inside = make_user("revoked@example.org")
    revoked = insert_certificate(revoked_inside, valid_until=cutoff_day - timedelta(days=1000))
    revoked.status, revoked.status_changed_at = CertificateStatus.REVOKED, utcnow() - period + SECOND
    # A stage-completion certificate never ends: it does not hold the erasure, and its entry outlives it.
    stage_only = make_user("stage@example.org")
    stage = insert_certificate(stage_only, kind=CertificateKind.STAGE, stage_number=1)
    switch_off(2 * period, still_valid, ended_inside, ended_past, revoked_inside, stage_only)
    who = addresses(still_valid, ended_inside, ended_past, revoked_inside, stage_only)
    assert apply()["deactivated-accounts"] == 2
    assert erased(who) == [
        "past@example.org",
        "stage@example.org",
    ]
    kept = db.session.get(Certificate, stage.id)
    assert kept.status is CertificateStatus.VALID and kept.holder_name.startswith("Erased person P-")


def test_an_invitation_nobody_accepted_in_a_year_is_erased_unless_the_person_has_anything_else(app, clock):
    period = setting("RETENTION_UNACCEPTED_INVITATION")
    long_ago = utcnow() - period

    def invited(email: str, when=long_ago, **fields) -> User:
        return make_user(email, password=None, invited_at=when, **fields)

    past = invited("past@example.org")
    inside = invited("inside@example.org", long_ago + SECOND)
    enrolled = invited("enrolled@example.org")
    make_enrolment(enrolled)
    with_case = invited("case@example.org", roles=(Role.PRACTITIONER,))
    make_case(with_case)
    supervising = invited("supervisor@example.org", roles=(Role.SUPERVISOR,))
    make_enrolment(make_user("trainee@example.org"), supervisor=supervising)
    accepted = make_user("accepted@example.org", invited_at=long_ago)  # set a password: took it up
    db.session.commit()
    who = addresses(past, inside, enrolled, with_case, supervising, accepted)
    assert apply()["unaccepted-invitations"] == 1
    assert erased(who) == ["past@example.org"]
    reason = db.session.scalar(select(Erasure.reason))
    assert reason == "Retention schedule: 12 months after an invitation that was never accepted"


def test_someone_the_erasure_service_would_refuse_is_passed_over_and_the_rest_are_erased(app, clock):
    period = setting("RETENTION_DEACTIVATED_ACCOUNT")
    supervisor = make_supervisor()
    make_enrolment(make_user("trainee@example.org"), supervisor=supervisor)
    switch_off(period, supervisor)
    other = turned_off("other@example.org", period)
    who = addresses(supervisor, other)
    assert apply()["deactivated-accounts"] == 1
    assert erased(who) == ["other@example.org"]


def test_at_most_a_batch_of_people_is_erased_per_run(app, clock):
    app.config["RETENTION_ERASURE_LIMIT"] = 2
    period = setting("RETENTION_DEACTIVATED_ACCOUNT")
    for number in range(3):
        turned_off(f"p{number}@example.org", period)
    assert [apply()["deactivated-accounts"] for _ in range(3)] == [2, 1, 0]
