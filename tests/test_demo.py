"""The demo's history is dated in its story, not on the day it was loaded: each trainee's steps run
in order (enrolled, work, submitted, signed off, accrediting supervisor asked, accredited, ratified,
certificate issued), all before today, the same for the same day whatever the hour, and all but
one trainee's supervision is current. Its population gives every shipped pathway version
accreditations, and the training-flow figures are kept when it loads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from tests.conftest import running_app
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case, CaseStatus, Cycle
from vigtrain.certificates.models import Certificate
from vigtrain.dates import UK, UTCDateTime, today
from vigtrain.dcs.models import Administration
from vigtrain.extensions import db
from vigtrain.flow import services as flow
from vigtrain.notifications.models import Notification, NotificationKind, OutboxMessage
from vigtrain.pathways.models import (
    FINISHED_STATES,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PathwayVersion,
    StageRecord,
    StageState,
    StageTransition,
)
from vigtrain.supervision.models import SessionStatus, SupervisionSession

# What the demo does today, in its story: the scheduler's reminders this morning, an invitation
# waiting to be accepted and a link waiting for a client. Everything else happened before.
TODAYS_ACTIONS = {"user.invited", "measure_invitation.created", "pathway.version_loaded"}
TODAYS_NOTICES = {
    NotificationKind.SUPERVISION_LAPSED,
    NotificationKind.SESSION_UNCONFIRMED,
    NotificationKind.STAGE_WAITING,
    NotificationKind.ESCALATION,
    NotificationKind.POST_MEASURE_DUE,
    NotificationKind.CERTIFICATE_EXPIRING,
}
# Moments still to come by design: when a link or lock runs out.
AHEAD = {"expires_at", "locked_until"}
STAGE_PAGE = "/enrolments/{id}/stages/{code}"
CLOCK = "2026-03-02 10:00:00"  # the `clock` fixture's moment
NAMES = ("Nadia Hussain", "Chloe Evans", "Sam Patel", "Tom Hughes")


def _load(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def demo(database_url):
    """The demo loaded once for the tests here, which only read it (loading takes some twenty seconds).

    Tests that sign in or load it again are in test_demo_loads.py, so nothing empties it midway."""
    with freeze_time(CLOCK), running_app(database_url) as app:
        _load(app)
        yield app


def _day(moment: datetime) -> date:
    return moment.astimezone(UK).date()


def test_nothing_in_the_history_is_dated_the_day_it_was_loaded(demo, clock):
    app = demo
    on, now = today(), datetime.now(UTC)
    transitions = db.session.scalars(select(StageTransition)).all()
    assert len(transitions) > 50 and all(_day(t.occurred_at) < on for t in transitions)
    for record in db.session.scalars(select(StageRecord)):
        stamps = (record.submitted_at, record.signed_off_at, record.accredited_at, record.ratified_at)
        assert all(_day(stamp) < on for stamp in (*stamps, record.state_since) if stamp is not None), record.id
    for certificate in db.session.scalars(select(Certificate)):
        assert certificate.issued_on < on and _day(certificate.created_at) < on, certificate.number
        assert certificate.status_changed_at is None or _day(certificate.status_changed_at) < on
    new = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.occurred_at >= _midnight(on))))
    assert new <= TODAYS_ACTIONS
    told = set(db.session.scalars(select(Notification.kind).where(Notification.created_at >= _midnight(on))))
    assert told <= TODAYS_NOTICES
    # A post measure that fell due before today was mentioned that morning: 12 weeks after the pre
    # measure, or the day after its case closed without one.
    after = app.config["REMIND_POST_MEASURE_AFTER"]
    reminders = db.session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.POST_MEASURE_DUE)
    ).all()
    assert reminders
    for reminder in reminders:
        pre = db.session.get(Administration, int(reminder.period.removeprefix("pre:")))
        due = pre.administered_on + after
        if pre.case.status is not CaseStatus.OPEN:
            due = min(due, pre.case.ended_on + timedelta(days=1))
        assert _day(reminder.created_at) == due, reminder.title
    # The audit trail, the inboxes and the outbox list newest first by id: their ids follow the story.
    for column in (AuditEvent.occurred_at, Notification.created_at, OutboxMessage.created_at):
        stamps = db.session.scalars(select(column).order_by(column.class_.id)).all()
        assert stamps == sorted(stamps), column
    # And nothing anywhere is stamped later than now.
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, UTCDateTime) and column.name not in AHEAD:
                later = db.session.scalar(select(func.count()).select_from(table).where(column > now))
                assert later == 0, f"{table.name}.{column.name}"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UK)


def test_each_trainees_history_runs_in_order(demo, clock):
    for enrolment in db.session.scalars(select(Enrolment)):
        trainee = enrolment.trainee
        moves = db.session.scalars(
            select(StageTransition)
            .join(StageRecord)
            .where(StageRecord.enrolment_id == enrolment.id)
            .order_by(StageTransition.id)
        ).all()
        # The sign-off chain, as the stage pages list it, never goes back in time.
        assert [m.occurred_at for m in moves] == sorted(m.occurred_at for m in moves), trainee.display_name
        assert trainee.created_at <= enrolment.created_at
        if moves:
            assert enrolment.start_date <= _day(moves[0].occurred_at)
        asked = {m.stage_record_id: m.occurred_at for m in moves if m.to_state is StageState.WITH_ACCREDITOR}
        issued = {
            c.stage_record_id: c.created_at
            for c in db.session.scalars(select(Certificate).where(Certificate.enrolment_id == enrolment.id))
        }
        for record in enrolment.stages:
            chain = [
                record.submitted_at,
                record.signed_off_at,
                asked.get(record.id),
                record.accredited_at,
                record.ratified_at,
                issued.get(record.id),
            ]
            chain = [moment for moment in chain if moment is not None]
            assert chain == sorted(chain), (trainee.display_name, record.stage_code)
            if record.started_on is not None:
                assert enrolment.start_date <= record.started_on
                assert all(record.started_on <= _day(moment) for moment in chain)
            if record.accredited_at is not None and record.meeting_date is not None:
                assert _day(record.accredited_at) == record.meeting_date
            if record.submitted_at is not None:
                # The stage's work was done before it was submitted.
                work = db.session.scalar(
                    select(func.max(Cycle.shared_review_on))
                    .join(Cycle.case)
                    .where(Case.practitioner_id == trainee.id, Cycle.shared_review_on >= record.started_on)
                    .where(Cycle.shared_review_on < (record.ended_on or date.max))
                )
                assert work is None or work <= _day(record.submitted_at)
    # Nobody's casework began before their training did.
    trained_from = dict(
        db.session.execute(
            select(Enrolment.trainee_id, func.min(Enrolment.start_date)).group_by(Enrolment.trainee_id)
        ).all()
    )
    for case in db.session.scalars(select(Case)):
        assert trained_from[case.practitioner_id] <= case.started_on == _day(case.created_at)
    # Work is recorded on the day it happened; supervision that evening, confirmed afterwards.
    for cycle in db.session.scalars(select(Cycle)):
        assert _day(cycle.created_at) == cycle.shared_review_on
    for session in db.session.scalars(select(SupervisionSession)):
        assert _day(session.logged_at) == session.session_date
        assert session.confirmed_at is None or session.logged_at < session.confirmed_at


def test_supervision_is_current_for_all_but_one_trainee(demo, clock):
    app = demo
    lapse = app.config["REMIND_SUPERVISION_LAPSE"]
    active = db.session.scalars(select(Enrolment).where(Enrolment.status == EnrolmentStatus.ACTIVE)).all()
    last = dict(
        db.session.execute(
            select(SupervisionSession.enrolment_id, func.max(SupervisionSession.session_date))
            .where(SupervisionSession.status == SessionStatus.CONFIRMED)
            .group_by(SupervisionSession.enrolment_id)
        ).all()
    )
    lapsed = [e.trainee.display_name for e in active if last.get(e.id) is None or last[e.id] <= today() - lapse]
    assert len(active) >= 6 and lapsed == ["Aisha Rahman"]
    told = db.session.scalars(
        select(Notification.title).where(Notification.kind == NotificationKind.SUPERVISION_LAPSED)
    ).all()
    assert told and all("Aisha Rahman" in title or "No confirmed supervision" in title for title in told)
    # What the README promises the administrator: a session unconfirmed for two weeks, a ratification waiting.
    escalations = db.session.scalars(select(Notification.title).where(Notification.kind == NotificationKind.ESCALATION))
    assert {"Nadia Hussain", "Chloe Evans"} <= {name for title in escalations for name in NAMES if name in title}


# Every pathway version the project ships (vigtrain/pathways/data/*.toml).
SHIPPED = {
    ("vig-practitioner", "2015.1"),
    ("vig-practitioner", "2024.1"),
    ("verp-practitioner", "2024.1"),
    ("vig-supervisor", "2024.1"),
}


def test_every_shipped_version_has_ratified_accreditations_and_finished_stages_have_dated_histories(demo, clock):
    on = today()
    ratified = db.session.execute(
        select(PathwayVersion.code, PathwayVersion.version, Enrolment.completed_on, StageTransition.occurred_at)
        .join(Enrolment, Enrolment.pathway_version_id == PathwayVersion.id)
        .join(StageRecord, StageRecord.enrolment_id == Enrolment.id)
        .join(StageTransition, StageTransition.stage_record_id == StageRecord.id)
        .where(
            Enrolment.status == EnrolmentStatus.COMPLETED,
            StageTransition.from_state == StageState.ACCREDITED,
            StageTransition.to_state == StageState.RATIFIED,
        )
    ).all()
    assert {(code, version) for code, version, _, _ in ratified} == SHIPPED
    # Ratification completes the enrolment that day.
    assert all(completed_on == _day(moment) for *_, completed_on, moment in ratified)
    # The records entered from before vigtrain have their chain too: before the fix they had none.
    finished = db.session.scalars(select(StageRecord).where(StageRecord.state.in_(FINISHED_STATES))).all()
    assert len(finished) > 100
    for record in finished:
        moves = sorted(record.transitions, key=lambda move: move.id)
        stamps = [move.occurred_at for move in moves]
        assert moves and stamps == sorted(stamps) and _day(stamps[-1]) < on, record.id
        assert record.started_on <= _day(stamps[0]) and moves[-1].to_state is record.state, record.id
        if record.state is not StageState.EXEMPT:
            assert StageState.SUBMITTED in {move.to_state for move in moves}, record.id


def _median_days_to_accreditation(code: str, version: str, on: date) -> int | None:
    """Kaplan-Meier worked out here, apart from vigtrain.flow: each enrolment's days from its start
    to ratification (an event), or to its withdrawal or today (censored); at each day with events,
    survival falls by events / at risk; the median is the first day it reaches one half or less."""
    rows = db.session.execute(
        select(Enrolment.id, Enrolment.start_date, Enrolment.status, Enrolment.completed_on)
        .join(PathwayVersion)
        .where(PathwayVersion.code == code, PathwayVersion.version == version)
    ).all()
    withdrawn = dict(
        db.session.execute(
            select(EnrolmentStatusChange.enrolment_id, func.max(EnrolmentStatusChange.occurred_at))
            .where(EnrolmentStatusChange.status == EnrolmentStatus.WITHDRAWN)
            .group_by(EnrolmentStatusChange.enrolment_id)
        ).all()
    )
    observed = []
    for enrolment_id, start, status, completed_on in rows:
        if status is EnrolmentStatus.COMPLETED:
            observed.append(((completed_on - start).days, True))
        elif status is EnrolmentStatus.WITHDRAWN:
            observed.append(((_day(withdrawn[enrolment_id]) - start).days, False))
        else:
            observed.append(((on - start).days, False))
    survival = 1.0
    for day in sorted({days for days, event in observed if event}):
        at_risk = sum(1 for days, _ in observed if days >= day)
        events = sum(1 for days, event in observed if event and days == day)
        survival *= 1 - events / at_risk
        if survival <= 0.5 + 1e-12:
            return day
    return None


def test_the_demo_keeps_training_flow_figures_with_a_median_time_to_accreditation(demo, clock):
    on = today()
    kept = flow.snapshot("all", on)
    assert kept.stored
    versions = {figures["label"]: figures for figures in kept.figures["versions"]}
    current = versions["VIG Practitioner (version 2024.1)"]
    accredited = db.session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .join(PathwayVersion)
        .where(
            PathwayVersion.code == "vig-practitioner",
            PathwayVersion.version == "2024.1",
            Enrolment.status == EnrolmentStatus.COMPLETED,
        )
    )
    assert current["survival"]["events"] == accredited >= 12
    median = _median_days_to_accreditation("vig-practitioner", "2024.1", on)
    assert median is not None and current["survival"]["median"] == median
    # Every version shows each figure: accreditations, days in each finished step, and their cost.
    assert len(versions) == len(SHIPPED)
    for figures in versions.values():
        assert figures["survival"]["events"] > 0 and figures["cost"]["supervision_hours"]["median"] > 0
        assert figures["statuses"]["withdrawn"] > 0
        for stage in figures["stages"]:
            assert all(step["done"] is not None for step in stage["steps"]), (figures["label"], stage["code"])
