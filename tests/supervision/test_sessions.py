"""The supervision services: every rule, who may do what, amendments and what counts toward a stage."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import make_case, make_enrolment, make_supervision, make_user
from vigtrain import security
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.casework.services import Consents
from vigtrain.dates import UK
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import EnrolmentStatus
from vigtrain.supervision import queries, records, sessions
from vigtrain.supervision.demo import demo_supervision
from vigtrain.supervision.models import SessionFormat, SessionMode, SessionStatus, SupervisionSession
from vigtrain.supervision.sessions import SessionFacts
from vigtrain.training import services as training
from vigtrain.training import signoff
from vigtrain.training.progress import stage_progress

TODAY = date(2026, 3, 2)


@pytest.fixture
def people(app):
    trainee = make_user("tara@example.org", name="Tara Trainee")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    other_supervisor = make_user("omar@example.org", roles=(Role.SUPERVISOR,), name="Omar Other")
    admin = make_user("ada@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    return trainee, supervisor, other_supervisor, admin, enrolment


def _stage1(enrolment, trainee, supervisor):
    """Finish the initial course on 1 February so Stage 1 (7 h of supervision) is current."""
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    signoff.sign_off_stage(supervisor, itc, None, date(2026, 2, 1), itc.version)
    db.session.commit()
    return enrolment.stages[1]


def _hours(record) -> str:
    progress = stage_progress(record)
    return progress.status_for(RequirementKind.SUPERVISION_HOURS).figure


def _log(trainee, enrolment, **facts):
    facts.setdefault("session_date", date(2026, 2, 10))
    session = sessions.log_session(trainee, enrolment, SessionFacts(**facts), TODAY)
    db.session.commit()
    return session


def _count(model=SupervisionSession) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- logging --------------------------------------------------------------------------------------


def test_logging_defaults_to_today_an_hour_and_my_personal_supervisor(people):
    trainee, supervisor, _, _, enrolment = people
    session = sessions.log_session(trainee, enrolment, SessionFacts(), TODAY)
    db.session.commit()
    assert session.session_date == TODAY
    assert session.duration_minutes == 60
    assert session.supervisor_id == supervisor.id
    assert session.format is SessionFormat.INDIVIDUAL and session.mode is SessionMode.IN_PERSON
    assert session.status is SessionStatus.LOGGED and session.logged_by_id == trainee.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supervision.logged"))
    assert event.entity_id == str(session.id) and event.after["duration_minutes"] == 60


@pytest.mark.parametrize(
    ("facts", "field", "message"),
    [
        ({"session_date": date(2026, 3, 3)}, "session_date", "today or in the past"),
        ({"session_date": date(2026, 1, 4)}, "session_date", "on or after the training started, 5 January 2026"),
        ({"duration_minutes": 14}, "duration_minutes", "between 15 minutes and 8 hours"),
        ({"duration_minutes": 481}, "duration_minutes", "between 15 minutes and 8 hours"),
        ({"format": SessionFormat.GROUP}, "group_size", "a group has between 2 and 30"),
        ({"format": SessionFormat.GROUP, "group_size": 1}, "group_size", "a group has between 2 and 30"),
        ({"format": SessionFormat.GROUP, "group_size": 31}, "group_size", "a group has between 2 and 30"),
        ({"clips_reviewed": 61}, "clips_reviewed", "between 0 and 60"),
        ({"principles": ("attentive", "magic")}, "principles", "Select principles from the list"),
        ({"reflection": "Talked about mum, call her on 07700 900123"}, "reflection", "Remove a phone number"),
        ({"next_steps": "Email jo@example.com"}, "next_steps", "Remove an email address"),
        ({"reflection": "x" * 4001}, "reflection", "4,000 characters or fewer"),
        ({"case_codes": ("VC-0000-0000",)}, "case_codes", "is not one of your case codes"),
    ],
)
def test_each_rule_refuses_with_a_message_beside_its_field(people, facts, field, message):
    trainee, _, _, _, enrolment = people
    facts.setdefault("session_date", date(2026, 2, 10))
    with pytest.raises(DomainError, match=message) as refused:
        sessions.log_session(trainee, enrolment, SessionFacts(**facts), TODAY)
    assert refused.value.field == field
    db.session.rollback()
    assert _count() == 0


def test_the_limits_themselves_are_allowed(people):
    trainee, _, _, _, enrolment = people
    _log(trainee, enrolment, duration_minutes=15, session_date=date(2026, 1, 5))
    _log(trainee, enrolment, duration_minutes=480, session_date=TODAY)
    _log(trainee, enrolment, format=SessionFormat.GROUP, group_size=30, session_date=date(2026, 2, 1))
    assert _count() == 3


def test_case_codes_must_be_the_trainees_own_and_are_stored_canonically(people):
    trainee, supervisor, _, _, enrolment = people
    mine = make_case(trainee)
    someone_elses = make_case(make_user("other.trainee@example.org"))
    db.session.commit()
    with pytest.raises(DomainError, match=f"{someone_elses.code} is not one of your case codes"):
        sessions.log_session(trainee, enrolment, SessionFacts(case_codes=(someone_elses.code,)), TODAY)
    db.session.rollback()
    session = _log(trainee, enrolment, case_codes=(mine.code.lower().replace("-", ""), mine.code))
    assert session.case_codes == [mine.code]
    # Logged on the trainee's behalf, the message names whose cases they must be.
    with pytest.raises(DomainError, match="not one of Tara Trainee's case codes"):
        sessions.log_session(supervisor, enrolment, SessionFacts(case_codes=(someone_elses.code,)), TODAY)


def test_a_case_cited_in_supervision_needs_consent_to_its_video_being_seen(people):
    trainee, _, _, _, enrolment = people
    unconsented = make_case(trainee, consents=Consents(filming=date(2025, 1, 6)))
    db.session.commit()
    with pytest.raises(DomainError, match=f"client of {unconsented.code} has not consented") as refused:
        sessions.log_session(trainee, enrolment, SessionFacts(case_codes=(unconsented.code,)), TODAY)
    assert refused.value.field == "case_codes"


def test_principles_are_kept_in_their_published_order(people):
    trainee, _, _, _, enrolment = people
    session = _log(trainee, enrolment, principles=("guiding", "attentive", "guiding"))
    assert session.principles == ["attentive", "guiding"]


def test_an_identical_session_is_refused_and_the_message_says_so(people):
    trainee, _, _, _, enrolment = people
    _log(trainee, enrolment, start_time=time(10, 0))
    with pytest.raises(DomainError, match=r"already in Tara Trainee's log.*10 February 2026 at 10:00") as refused:
        _log(trainee, enrolment, start_time=time(10, 0), duration_minutes=90)
    assert refused.value.field == "start_time"
    db.session.rollback()
    _log(trainee, enrolment, start_time=time(14, 0))  # a second session that day
    _log(trainee, enrolment)  # no start time is a time of its own
    with pytest.raises(DomainError, match="with no start time"):
        _log(trainee, enrolment)


def test_who_may_log(people):
    _trainee, supervisor, other_supervisor, admin, enrolment = people
    stranger = make_user("stranger@example.org", name="Another Trainee")
    for outsider in (stranger, other_supervisor, admin):
        with pytest.raises(PermissionDenied):
            sessions.log_session(outsider, enrolment, SessionFacts(), TODAY)
    # The personal supervisor logs on the trainee's behalf, and is then the session's supervisor.
    session = sessions.log_session(supervisor, enrolment, SessionFacts(), TODAY, supervisor=other_supervisor)
    assert session.supervisor_id == supervisor.id and session.logged_by_id == supervisor.id


def test_the_trainee_names_a_supervisor_who_is_not_themselves(people):
    trainee, _, other_supervisor, admin, enrolment = people
    with pytest.raises(DomainError, match="cannot supervise themselves"):
        sessions.log_session(trainee, enrolment, SessionFacts(), TODAY, supervisor=trainee)
    with pytest.raises(DomainError, match="holds the supervisor role"):
        sessions.log_session(trainee, enrolment, SessionFacts(), TODAY, supervisor=admin)
    session = sessions.log_session(trainee, enrolment, SessionFacts(), TODAY, supervisor=other_supervisor)
    assert session.supervisor_id == other_supervisor.id


def test_a_supervisor_is_found_only_if_they_may_lead_sessions(people):
    _, supervisor, other_supervisor, admin, _ = people
    gone = make_user("gil@example.org", roles=(Role.SUPERVISOR,), name="Gil Gone", is_active_flag=False)
    assert sessions.find_supervisor() is None  # nobody named: the personal supervisor
    assert sessions.find_supervisor(user_id=other_supervisor.id) is other_supervisor
    assert sessions.find_supervisor(email=" SUE@example.org ") is supervisor
    # Someone unknown, deactivated or without the role: the same answer, so it reveals no account.
    for user_id in (99999, gone.id, admin.id):
        with pytest.raises(DomainError, match="There is no active supervisor with this id") as refused:
            sessions.find_supervisor(user_id=user_id)
        assert refused.value.field == "supervisor"
    with pytest.raises(DomainError, match="There is no active supervisor with this email"):
        sessions.find_supervisor(email="nobody@example.org")


def test_own_and_led_sessions_are_the_trainees_log_and_the_sessions_they_led(people):
    trainee, supervisor, other_supervisor, admin, enrolment = people
    other = make_enrolment(make_user("ben@example.org", name="Ben Trainee"), other_supervisor, actor=admin)
    mine = make_supervision(enrolment, other_supervisor, 1, date(2026, 2, 3), confirmed=False)
    led = make_supervision(enrolment, supervisor, 1, date(2026, 2, 10), confirmed=True)
    theirs = make_supervision(other, other_supervisor, 1, date(2026, 2, 17), confirmed=False)

    def listed(user, status=None):
        return list(db.session.scalars(queries.own_and_led_query(user, status)))

    assert listed(trainee) == [led, mine]  # newest first
    assert listed(supervisor) == [led]
    assert listed(other_supervisor) == [theirs, mine]
    assert listed(other_supervisor, SessionStatus.LOGGED) == [theirs, mine]
    assert listed(trainee, SessionStatus.CONFIRMED) == [led]


def test_a_paused_enrolment_takes_no_new_sessions(people):
    trainee, _, _, admin, enrolment = people
    training.set_enrolment_status(admin, enrolment, EnrolmentStatus.PAUSED, "Maternity leave", enrolment.version)
    db.session.commit()
    with pytest.raises(DomainError, match="paused"):
        sessions.log_session(trainee, enrolment, SessionFacts(), TODAY)


# --- confirming and querying ----------------------------------------------------------------------


def test_only_the_sessions_supervisor_confirms(people):
    trainee, supervisor, other_supervisor, admin, enrolment = people
    session = _log(trainee, enrolment)
    for wrong in (trainee, other_supervisor, admin):
        with pytest.raises(PermissionDenied):
            sessions.confirm_session(wrong, session, session.version)
    sessions.confirm_session(supervisor, session, session.version, "Well reflected.")
    db.session.commit()
    assert session.status is SessionStatus.CONFIRMED and session.confirmed_at is not None
    assert session.supervisor_comments == "Well reflected."
    with pytest.raises(DomainError, match="this one is confirmed"):
        sessions.confirm_session(supervisor, session, session.version)


def test_a_supervisor_in_training_never_confirms_their_own_session(people):
    _, supervisor, _, admin, _ = people
    # Sue is a supervisor training as a supervisor, with Sue herself wrongly set as supervisor.
    supervisor.set_roles({Role.SUPERVISOR, Role.TRAINEE})
    own = make_enrolment(supervisor, None, code="vig-supervisor", start=date(2026, 1, 5), actor=admin)
    session = make_supervision(own, supervisor, 1, date(2026, 2, 2), confirmed=False)
    assert not security.can_confirm_supervision(supervisor, session)
    with pytest.raises(PermissionDenied):
        sessions.confirm_session(supervisor, session, session.version)


def test_a_stale_version_is_a_conflict(people):
    trainee, supervisor, _, _, enrolment = people
    session = _log(trainee, enrolment)
    seen = session.version
    sessions.resubmit_session(
        trainee, session, SessionFacts(session_date=date(2026, 2, 10), duration_minutes=90), TODAY, seen
    )
    db.session.commit()
    with pytest.raises(Conflict):
        sessions.confirm_session(supervisor, session, seen)
    assert session.status is SessionStatus.LOGGED


def test_query_needs_a_comment_and_sends_the_session_back(people):
    trainee, supervisor, _, _, enrolment = people
    session = _log(trainee, enrolment)
    with pytest.raises(DomainError, match="Write a comment") as refused:
        sessions.query_session(supervisor, session, "   ", session.version)
    assert refused.value.field == "comments"
    with pytest.raises(PermissionDenied):
        sessions.query_session(trainee, session, "Not me", session.version)
    sessions.query_session(supervisor, session, "We met for 90 minutes, not 60.", session.version)
    db.session.commit()
    assert session.status is SessionStatus.QUERIED
    sessions.resubmit_session(
        trainee, session, SessionFacts(session_date=date(2026, 2, 10), duration_minutes=90), TODAY, session.version
    )
    db.session.commit()
    assert session.status is SessionStatus.LOGGED and session.duration_minutes == 90
    actions = db.session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == "SupervisionSession", AuditEvent.entity_id == str(session.id)
        )
    ).all()
    assert actions == ["supervision.logged", "supervision.queried", "supervision.resubmitted"]


def test_a_confirmed_session_is_locked(people):
    trainee, supervisor, _, _, enrolment = people
    session = _log(trainee, enrolment)
    sessions.confirm_session(supervisor, session, session.version)
    db.session.commit()
    with pytest.raises(DomainError, match="confirmed and locked"):
        sessions.resubmit_session(trainee, session, SessionFacts(duration_minutes=120), TODAY, session.version)
    db.session.rollback()
    assert session.duration_minutes == 60


def test_only_the_trainee_or_whoever_logged_it_changes_a_session(people):
    trainee, supervisor, _, _, enrolment = people
    by_trainee = _log(trainee, enrolment)
    with pytest.raises(PermissionDenied):
        sessions.resubmit_session(supervisor, by_trainee, SessionFacts(), TODAY, by_trainee.version)
    by_supervisor = sessions.log_session(supervisor, enrolment, SessionFacts(session_date=date(2026, 2, 11)), TODAY)
    sessions.resubmit_session(
        supervisor, by_supervisor, SessionFacts(session_date=date(2026, 2, 11), duration_minutes=45), TODAY, 1
    )
    assert by_supervisor.duration_minutes == 45


# --- amendments -----------------------------------------------------------------------------------


def test_a_correction_replaces_the_original_only_once_confirmed(people):
    trainee, supervisor, _, _, enrolment = people
    stage1 = _stage1(enrolment, trainee, supervisor)
    original = _log(trainee, enrolment, session_date=date(2026, 2, 10), start_time=time(10, 0))
    sessions.confirm_session(supervisor, original, original.version)
    db.session.commit()
    assert _hours(stage1) == "1 h of 7 h confirmed"

    with pytest.raises(DomainError, match="Explain what was wrong") as refused:
        sessions.amend_confirmed_session(
            trainee, original, SessionFacts(session_date=date(2026, 2, 10)), " ", TODAY, original.version
        )
    assert refused.value.field == "amendment_reason"
    facts = SessionFacts(session_date=date(2026, 2, 10), start_time=time(10, 0), duration_minutes=90)
    correction = sessions.amend_confirmed_session(
        trainee, original, facts, "We met for 90 minutes.", TODAY, original.version
    )
    db.session.commit()
    assert correction.amends_id == original.id and correction.status is SessionStatus.LOGGED
    assert correction.supervisor_id == supervisor.id
    assert original.status is SessionStatus.CONFIRMED
    assert _hours(stage1) == "1 h of 7 h confirmed"  # the original still counts, once

    with pytest.raises(DomainError, match="already waiting"):
        sessions.amend_confirmed_session(trainee, original, facts, "Again", TODAY, original.version)
    db.session.rollback()

    sessions.confirm_session(supervisor, correction, correction.version)
    db.session.commit()
    assert original.status is SessionStatus.SUPERSEDED
    assert correction.status is SessionStatus.CONFIRMED
    assert _hours(stage1) == "1.5 h of 7 h confirmed"  # the correction counts instead
    superseded = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "supervision.superseded"))
    assert superseded.entity_id == str(original.id) and superseded.after["superseded_by"] == correction.id


def test_only_a_confirmed_session_is_corrected(people):
    trainee, _, other_supervisor, _, enrolment = people
    session = _log(trainee, enrolment)
    with pytest.raises(DomainError, match="change this one directly"):
        sessions.amend_confirmed_session(trainee, session, SessionFacts(), "Why", TODAY, session.version)
    with pytest.raises(PermissionDenied):
        sessions.amend_confirmed_session(other_supervisor, session, SessionFacts(), "Why", TODAY, session.version)


# --- bulk confirm ---------------------------------------------------------------------------------


def test_bulk_confirm_reports_each_and_confirms_the_rest(people):
    trainee, supervisor, other_supervisor, _, enrolment = people
    mine = [_log(trainee, enrolment, session_date=date(2026, 2, day)) for day in (3, 10, 17)]
    theirs = sessions.log_session(
        trainee, enrolment, SessionFacts(session_date=date(2026, 2, 24)), TODAY, supervisor=other_supervisor
    )
    stale = mine[2]
    sessions.resubmit_session(
        trainee, stale, SessionFacts(session_date=date(2026, 2, 17), duration_minutes=90), TODAY, 1
    )
    db.session.commit()
    results = sessions.bulk_confirm(
        supervisor, [(mine[0].id, 1), (mine[1].id, 1), (theirs.id, 1), (stale.id, 1), (99999, 1)]
    )
    db.session.commit()
    outcome = {result.session_id: (result.confirmed, result.message) for result in results}
    assert outcome[mine[0].id] == (True, "confirmed") and outcome[mine[1].id] == (True, "confirmed")
    assert outcome[theirs.id] == (False, "it is not awaiting your confirmation")
    assert outcome[99999] == (False, "it is not awaiting your confirmation")
    assert outcome[stale.id] == (False, "it changed after you opened the list: open it to check")
    db.session.expire_all()
    statuses = {s.id: s.status for s in db.session.scalars(select(SupervisionSession))}
    assert statuses == {
        mine[0].id: SessionStatus.CONFIRMED,
        mine[1].id: SessionStatus.CONFIRMED,
        mine[2].id: SessionStatus.LOGGED,
        theirs.id: SessionStatus.LOGGED,
    }


# --- group sessions -------------------------------------------------------------------------------


def test_a_group_session_is_one_row_per_trainee_present(people):
    _trainee, supervisor, _, admin, enrolment = people
    second = make_enrolment(make_user("ben@example.org", name="Ben Trainee"), supervisor, actor=admin)
    facts = SessionFacts(session_date=date(2026, 2, 12), duration_minutes=120)
    logged = sessions.log_group_session(supervisor, [enrolment, second], facts, TODAY)
    db.session.commit()
    assert [s.enrolment_id for s in logged] == [enrolment.id, second.id]
    assert {(s.format, s.group_size, s.supervisor_id, s.logged_by_id) for s in logged} == {
        (SessionFormat.GROUP, 2, supervisor.id, supervisor.id)
    }
    with pytest.raises(DomainError, match="already in Tara Trainee's log"):
        sessions.log_group_session(supervisor, [enrolment], replace(facts, group_size=5), TODAY)
    db.session.rollback()


def test_group_size_counts_others_present_but_never_fewer_than_selected(people):
    _trainee, supervisor, _, admin, enrolment = people
    second = make_enrolment(make_user("ben@example.org"), supervisor, actor=admin)
    third = make_enrolment(make_user("cal@example.org"), supervisor, actor=admin)
    with pytest.raises(DomainError, match="at least the number of trainees you selected") as refused:
        sessions.log_group_session(supervisor, [enrolment, second, third], SessionFacts(group_size=2), TODAY)
    assert refused.value.field == "group_size"
    db.session.rollback()
    (alone,) = sessions.log_group_session(supervisor, [enrolment], SessionFacts(group_size=6), TODAY)
    assert alone.group_size == 6  # five others' trainees were there too
    with pytest.raises(DomainError, match="a group has between 2 and 30"):
        sessions.log_group_session(supervisor, [second], SessionFacts(session_date=date(2026, 2, 2)), TODAY)


def test_group_sessions_only_for_ones_own_trainees(people):
    _trainee, supervisor, other_supervisor, _, enrolment = people
    with pytest.raises(PermissionDenied):
        sessions.log_group_session(other_supervisor, [enrolment], SessionFacts(group_size=4), TODAY)
    with pytest.raises(DomainError, match="Select the trainees"):
        sessions.log_group_session(supervisor, [], SessionFacts(group_size=4), TODAY)


# --- totals ---------------------------------------------------------------------------------------


def test_totals_per_stage_window_and_per_format_count_confirmed_only(people):
    trainee, supervisor, _, _, enrolment = people
    _stage1(enrolment, trainee, supervisor)
    before = _log(trainee, enrolment, session_date=date(2026, 1, 20), duration_minutes=90)  # the course
    on_the_day = _log(trainee, enrolment, session_date=date(2026, 2, 1))  # windows are half-open: Stage 1
    group = _log(trainee, enrolment, session_date=date(2026, 2, 8), format=SessionFormat.GROUP, group_size=4)
    _log(trainee, enrolment, session_date=date(2026, 2, 15), duration_minutes=45)  # awaiting
    for session in (before, on_the_day, group):
        sessions.confirm_session(supervisor, session, session.version)
    db.session.commit()
    totals = records.totals(enrolment)
    course, stage1 = totals.stages
    assert (course.name, course.confirmed_hours, course.confirmed_sessions) == ("Initial Training Course", 1.5, 1)
    assert (stage1.name, stage1.confirmed_hours, stage1.awaiting_hours, stage1.target_hours) == ("Stage 1", 2, 0.75, 7)
    assert stage1.percent == 28
    by_format = {total.session_format: total for total in totals.formats}
    assert (
        by_format[SessionFormat.INDIVIDUAL].confirmed_hours,
        by_format[SessionFormat.INDIVIDUAL].awaiting_sessions,
    ) == (2.5, 1)
    assert by_format[SessionFormat.GROUP].confirmed_sessions == 1
    assert totals.confirmed_hours == 3.5
    assert _hours(enrolment.stages[1]) == "2 h of 7 h confirmed"  # the same figure progress shows


# --- demo -----------------------------------------------------------------------------------------


def test_demo_supervision_is_plausible_and_the_same_every_time(people, clock):
    _trainee, supervisor, _, admin, _ = people
    other = make_user("dee@example.org", name="Dee Trainee")
    enrolment = make_enrolment(other, supervisor, start=date(2025, 3, 1), actor=admin)
    make_case(other)
    made = demo_supervision(enrolment, supervisor, date(2025, 3, 1), date(2026, 3, 1), random.Random(7))
    db.session.commit()
    statuses = [s.status for s in made]
    assert 15 <= len(made) <= 26
    assert statuses[-2:] == [SessionStatus.CONFIRMED, SessionStatus.LOGGED]
    assert statuses.count(SessionStatus.QUERIED) == 1 and statuses[-3] is SessionStatus.QUERIED
    assert statuses.count(SessionStatus.CONFIRMED) == len(made) - 2
    assert all(date(2025, 3, 1) <= s.session_date < date(2026, 3, 1) for s in made)
    # Stamped when each step happened, not when the demo ran: logged that evening, confirmed days later.
    assert all(s.logged_at.astimezone(UK).date() == s.session_date for s in made)
    confirmed = [s for s in made if s.status is SessionStatus.CONFIRMED]
    assert all(s.logged_at < s.confirmed_at < s.logged_at + timedelta(days=7) for s in confirmed)
    # Supervision is current: the latest confirmed session is well inside the lapse window.
    assert date(2026, 3, 2) - max(s.session_date for s in confirmed) < timedelta(weeks=6)
    first = [(s.session_date, s.start_time, s.duration_minutes, s.format) for s in made]
    for session in made:
        db.session.delete(session)
    db.session.commit()
    again = demo_supervision(enrolment, supervisor, date(2025, 3, 1), date(2026, 3, 1), random.Random(7))
    assert [(s.session_date, s.start_time, s.duration_minutes, s.format) for s in again] == first
