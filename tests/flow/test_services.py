"""Stuck trainees, cost rates, and the figures worked out from a real dated history in the database."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime

import pytest
from sqlalchemy import func, insert, select

from tests.factories import (
    complete_assessments,
    make_admin,
    make_cycles,
    make_enrolment,
    make_supervision,
    make_user,
    pathway_version,
)
from vigtrain.accounts.models import Role
from vigtrain.audit import AuditEvent
from vigtrain.dates import UK, as_of
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.flow import queries, services
from vigtrain.flow.figures import headline
from vigtrain.flow.history import Step
from vigtrain.flow.models import CostRate
from vigtrain.flow.queries import CurrentStage
from vigtrain.flow.services import find_stuck, parse_pounds, set_rates
from vigtrain.pathways.definitions import RequirementKind
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.training import services as training
from vigtrain.training import signoff

S = StageState
TODAY = date(2026, 3, 31)
THRESHOLDS = {1: {"s1:work": 40, "s1:sign_off": 14, "s3:ratification": 10}}


def row(enrolment_id, state, started_on, state_since=None, last_cycle=None, last_supervision=None, code="s1"):
    return CurrentStage(
        enrolment_id,
        enrolment_id * 10,
        1,
        code,
        state,
        state_since or started_on,
        started_on,
        last_cycle,
        last_supervision,
        None,
        None,
        None,
    )


# --- stuck trainees -------------------------------------------------------------------------------


def test_a_stage_that_asks_for_no_cycles_or_supervision_is_not_held_up_for_want_of_them():
    """Nothing logged since 1 February (8 weeks and more by 31 March): the course asks for neither, a
    supervisor's stage asks for supervision but no cycles, a practitioner's stage for both."""
    asks = {
        (1, "itc"): frozenset({RequirementKind.COURSE_ATTENDANCE}),
        (1, "supervising"): frozenset({RequirementKind.SUPERVISION_HOURS}),
        (1, "s1"): frozenset({RequirementKind.CYCLES, RequirementKind.SUPERVISION_HOURS}),
    }
    rows = [row(1, S.IN_PROGRESS, date(2026, 2, 1), code=code) for code in ("itc", "supervising", "s1")]
    found = {stuck.row.stage_code: stuck.reasons for stuck in find_stuck(rows, {}, 8, TODAY, asks)}
    assert "itc" not in found
    assert found["supervising"] == ("No confirmed supervision for 8 weeks",)
    assert found["s1"] == ("No cycle for 8 weeks (none in this stage)", "No confirmed supervision for 8 weeks")


def test_time_in_step_comes_from_the_history_when_the_refresh_kept_it():
    """A returned stage back at work since 21 March, with 30 days of work before its return: from the
    history it has done 30 days on 29 March (when kept) + 2 = 32 of work, under the 40-day threshold;
    counted from the stage start (1 February, 58 days) it would have looked held up."""
    returned = row(1, S.RETURNED, date(2026, 2, 1), date(2026, 3, 21), TODAY, TODAY)._replace(
        step_days=30, as_of=date(2026, 3, 29)
    )
    assert find_stuck([returned], THRESHOLDS, 8, TODAY) == []
    longer = returned._replace(step_days=39)  # 39 + 2 = 41 days of work: longer than 90% took
    (stuck,) = find_stuck([longer], THRESHOLDS, 8, TODAY)
    assert stuck.reasons == ("Doing the work: 41 days, longer than 90% took (40 days)",)


def test_no_cycle_in_this_stage_while_doing_the_work():
    # Started 1 March; the last cycle (1 February) belongs to the stage before: 30 days with none.
    (stuck,) = find_stuck(
        [row(1, S.IN_PROGRESS, date(2026, 3, 1), last_cycle=date(2026, 2, 1), last_supervision=date(2026, 3, 25))],
        THRESHOLDS,
        4,
        TODAY,
    )
    assert stuck.step is Step.WORK and stuck.days == 30
    assert stuck.reasons == ("No cycle for 4 weeks (none in this stage)",)


def test_no_cycle_counts_from_the_last_one_and_exactly_the_limit_is_stuck():
    # Last cycle 3 March: 28 days, exactly 4 weeks. A returned stage is doing the work too.
    rows = [
        row(1, S.IN_PROGRESS, date(2026, 3, 1), last_cycle=date(2026, 3, 3), last_supervision=date(2026, 3, 25)),
        row(2, S.RETURNED, date(2026, 3, 1), last_cycle=date(2026, 3, 3), last_supervision=date(2026, 3, 25)),
        # 27 days: not yet.
        row(3, S.IN_PROGRESS, date(2026, 3, 1), last_cycle=date(2026, 3, 4), last_supervision=date(2026, 3, 25)),
    ]
    found = find_stuck(rows, THRESHOLDS, 4, TODAY)
    assert [(s.row.enrolment_id, s.reasons, s.days) for s in found] == [
        (1, ("No cycle for 4 weeks",), 28),
        (2, ("No cycle for 4 weeks",), 28),
    ]


def test_no_cycle_is_not_asked_of_someone_waiting_for_sign_off():
    # Submitted 20 March after starting 1 January; no cycle since 1 January, but they are not the one working.
    waiting = row(
        1, S.SUBMITTED, date(2026, 1, 1), date(2026, 3, 20), last_cycle=date(2026, 1, 1), last_supervision=TODAY
    )
    assert find_stuck([waiting], THRESHOLDS, 4, TODAY) == []


def test_no_confirmed_supervision_counts_from_the_stage_start_when_there_is_none():
    # Started 1 January, no supervision ever: 89 days = 12 weeks (89 // 7). Also 89 days in the work,
    # longer than the 40 that 90% took.
    (stuck,) = find_stuck([row(1, S.IN_PROGRESS, date(2026, 1, 1), last_cycle=date(2026, 3, 20))], THRESHOLDS, 4, TODAY)
    assert stuck.reasons == (
        "No confirmed supervision for 12 weeks",
        "Doing the work: 89 days, longer than 90% took (40 days)",
    )
    assert stuck.days == 89


def test_one_week_is_singular():
    (stuck,) = find_stuck(
        [row(1, S.IN_PROGRESS, date(2026, 3, 20), last_cycle=date(2026, 3, 28), last_supervision=None)],
        {},
        1,
        TODAY,
    )
    assert stuck.reasons == ("No confirmed supervision for 1 week",)  # 20 → 31 March: 11 days


def test_longer_in_a_waiting_step_than_the_90th_percentile():
    # Submitted 1 March (the stage started 1 January): 30 days waiting for sign-off, 90% took 14 or fewer.
    waiting = row(
        1, S.SUBMITTED, date(2026, 1, 1), date(2026, 3, 1), last_cycle=date(2026, 1, 1), last_supervision=TODAY
    )
    (stuck,) = find_stuck([waiting], THRESHOLDS, 4, TODAY)
    assert stuck.step is Step.SIGN_OFF
    assert stuck.reasons == ("Waiting for sign-off: 30 days, longer than 90% took (14 days)",)
    # At exactly the threshold it is not longer: 14 days waiting (since 17 March) is not stuck.
    on_time = row(2, S.SUBMITTED, date(2026, 1, 1), date(2026, 3, 17), last_supervision=TODAY)
    assert find_stuck([on_time], THRESHOLDS, 4, TODAY) == []
    # No threshold for this stage and step (nobody has finished it yet): nothing to compare with.
    elsewhere = row(3, S.SIGNED_OFF, date(2026, 1, 1), date(2026, 1, 5), last_supervision=TODAY)
    assert find_stuck([elsewhere], THRESHOLDS, 4, TODAY) == []


def test_an_accredited_current_stage_waits_for_ratification():
    final = row(1, S.ACCREDITED, date(2025, 9, 1), date(2026, 3, 1), last_supervision=TODAY, code="s3")
    (stuck,) = find_stuck([final], THRESHOLDS, 4, TODAY)
    assert stuck.step is Step.RATIFICATION
    assert stuck.reasons == ("Waiting for ratification: 30 days, longer than 90% took (10 days)",)


def test_finished_or_unstarted_rows_are_skipped():
    old = date(2025, 1, 1)
    rows = [
        row(1, S.COMPLETE, old),
        row(2, S.RATIFIED, old),
        row(3, S.EXEMPT, old),
        row(4, S.NOT_STARTED, None, state_since=old),
    ]
    assert find_stuck(rows, THRESHOLDS, 4, TODAY) == []


def test_longest_held_first_then_by_enrolment():
    rows = [
        row(5, S.IN_PROGRESS, date(2026, 3, 1), last_supervision=TODAY),  # 30 days without a cycle
        row(2, S.IN_PROGRESS, date(2026, 2, 1), last_cycle=date(2026, 3, 30)),  # 58 days without supervision
        row(3, S.IN_PROGRESS, date(2026, 3, 1), last_supervision=TODAY),  # 30 days, a lower id than 5
    ]
    assert [(s.row.enrolment_id, s.days) for s in find_stuck(rows, {}, 4, TODAY)] == [(2, 58), (3, 30), (5, 30)]


# --- amounts of money -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("85", 8500),
        ("85.5", 8550),
        ("£1,250.50", 125050),
        ("£ 85", 8500),
        (" 0 ", 0),
        ("1000000", 100_000_000),  # the most allowed
        ("1e3", 100_000),  # Decimal reads exponent notation: £1,000
    ],
)
def test_parse_pounds_reads_amounts(typed, pence):
    assert parse_pounds(typed, "fee") == pence


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount in pounds"),
        (None, "Enter an amount in pounds"),
        ("£", "Enter an amount in pounds"),
        ("abc", "Enter an amount in pounds"),
        ("85 pounds", "Enter an amount in pounds"),
        ("-1", "£0 or more"),
        ("NaN", "£0 or more"),
        ("Infinity", "£0 or more"),
        ("1.234", "no more than two decimal places"),
        ("1000000.01", "£1,000,000 or less"),
        # Longer than Decimal's 28 digits of precision: refused with the same message, not an exception.
        ("1e100", "£1,000,000 or less"),
        ("99999999999999999999999999999", "£1,000,000 or less"),
    ],
)
def test_parse_pounds_refuses_anything_else_naming_the_field(typed, message):
    with pytest.raises(DomainError, match=message) as refused:
        parse_pounds(typed, "course_fee")
    assert refused.value.field == "course_fee"


# --- cost rates -----------------------------------------------------------------------------------


def _rates_saved() -> int:
    return db.session.scalar(select(func.count()).select_from(CostRate))


def test_set_rates_saves_pence_and_audits(app):
    admin = make_admin()
    version = pathway_version()
    rate = set_rates(admin, version, "85", "£1,250", "300.50", None)
    db.session.commit()
    assert (rate.supervision_hour_pence, rate.course_fee_pence, rate.accreditation_fee_pence) == (8500, 125000, 30050)
    assert services.rates()[version.id].id == rate.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cost_rate.set"))
    assert event.actor_id == admin.id and event.before is None
    assert event.after == {"supervision_hour_pence": 8500, "course_fee_pence": 125000, "accreditation_fee_pence": 30050}
    # Changing them: the audit keeps what they were.
    set_rates(admin, version, "90", "1250", "300.50", rate.version)
    db.session.commit()
    latest = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cost_rate.set").order_by(AuditEvent.id))
    assert [(e.before or {}).get("supervision_hour_pence") for e in latest] == [None, 8500]
    assert rate.supervision_hour_pence == 9000
    # Someone saw the rates before that change: refused, nothing changed.
    with pytest.raises(Conflict):
        set_rates(admin, version, "95", "1250", "300.50", 1)
    db.session.rollback()
    assert db.session.get(CostRate, rate.id).supervision_hour_pence == 9000
    # A page opened before any rates were set, sent after someone set them: refused too.
    with pytest.raises(Conflict):
        set_rates(admin, version, "95", "1250", "300.50", None)
    db.session.rollback()
    assert db.session.get(CostRate, rate.id).supervision_hour_pence == 9000


def test_set_rates_refuses_a_non_administrator_and_a_bad_amount(app):
    version = pathway_version()
    supervisor = make_user(roles=(Role.SUPERVISOR,))
    with pytest.raises(PermissionDenied):
        set_rates(supervisor, version, "85", "1250", "300", None)
    with pytest.raises(DomainError) as refused:
        set_rates(make_admin(), version, "85", "1250", "three hundred", None)
    assert refused.value.field == "accreditation_fee"
    assert _rates_saved() == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "cost_rate.set")) == 0


# --- the figures from a dated history -------------------------------------------------------------


@contextmanager
def on(month: int, day: int):
    """Take the steps inside on that UK day (10am), so every stamp says so."""
    with as_of(datetime(2026, month, day, 10, 0, tzinfo=UK)):
        yield


def _ready(record, trainee, supervisor, enrolment, cycles, clients, hours, day):
    make_cycles(trainee, cycles, clients, day)
    make_supervision(enrolment, supervisor, hours, day)
    training.save_statement_text(trainee, record, "What I learned about receiving initiatives this stage.")
    complete_assessments(record, trainee, supervisor)


def _through_meeting(record, people, signed, asked, accredited):
    _, supervisor, accreditor, admin = people
    with on(*signed):
        signoff.sign_off_stage(supervisor, record, None, date(2026, *signed), record.version)
    with on(*asked):
        signoff.request_accreditor(admin, record, accreditor, record.version)
    with on(*accredited):
        meeting = date(2026, *accredited)
        signoff.accredit_stage(accreditor, record, meeting, None, meeting, record.version)
    db.session.commit()


@pytest.fixture
def history(app):
    """Two trainees from 5 January 2026, with every step dated:

    Tara: ITC submitted 12 Jan, signed off 15 Jan. Stage 1 (from 15 Jan) submitted 15 Feb, returned
    20 Feb, submitted again 1 Mar, signed off 4 Mar, accrediting supervisor asked 6 Mar, accredited
    16 Mar. Stage 2 (from 16 Mar) submitted 16 Apr, signed off 20 Apr, asked 22 Apr, accredited 2 May.
    Stage 3 (from 2 May) submitted 1 Jun, signed off 5 Jun, asked 8 Jun, accredited 18 Jun, ratified
    29 Jun. 7 + 8 + 8 = 23 hours of confirmed supervision.
    Will: paused 1 Feb, withdrawn 21 Feb while still paused, never past the ITC; 1.5 hours of supervision.
    """
    admin = make_user("boss@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    supervisor = make_user("sup@example.org", roles=(Role.SUPERVISOR,), name="Sue Sup")
    accreditor = make_user("acc@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Al Acc")
    tara = make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara Trainee")
    will = make_user("will@example.org", roles=(Role.TRAINEE,), name="Will Withdrew")
    people = (tara, supervisor, accreditor, admin)

    first = make_enrolment(tara, supervisor, start=date(2026, 1, 5), actor=admin)
    itc, stage1, stage2, stage3 = first.stages
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    with on(1, 12):
        signoff.submit_stage(tara, itc, itc.version)
    with on(1, 15):
        signoff.sign_off_stage(supervisor, itc, None, date(2026, 1, 15), itc.version)
    db.session.commit()

    _ready(stage1, tara, supervisor, first, 6, 2, 7, date(2026, 2, 1))
    with on(2, 15):
        signoff.submit_stage(tara, stage1, stage1.version)
    with on(2, 20):
        signoff.return_stage(supervisor, stage1, "Please add what you noticed about turn-taking.", stage1.version)
    with on(3, 1):
        signoff.submit_stage(tara, stage1, stage1.version)
    _through_meeting(stage1, people, (3, 4), (3, 6), (3, 16))

    _ready(stage2, tara, supervisor, first, 9, 3, 8, date(2026, 4, 1))
    with on(4, 16):
        signoff.submit_stage(tara, stage2, stage2.version)
    _through_meeting(stage2, people, (4, 20), (4, 22), (5, 2))

    _ready(stage3, tara, supervisor, first, 12, 3, 8, date(2026, 5, 15))
    with on(6, 1):
        signoff.submit_stage(tara, stage3, stage3.version)
    _through_meeting(stage3, people, (6, 5), (6, 8), (6, 18))
    with on(6, 29):
        signoff.ratify_stage(admin, stage3, date(2026, 6, 29), stage3.version)
    db.session.commit()

    second = make_enrolment(will, supervisor, start=date(2026, 1, 5), actor=admin)
    make_supervision(second, supervisor, 1.5, date(2026, 1, 20))
    with on(2, 1):
        training.set_enrolment_status(admin, second, EnrolmentStatus.PAUSED, "Long-term sick leave", second.version)
    with on(2, 21):
        training.set_enrolment_status(admin, second, EnrolmentStatus.WITHDRAWN, "Left the service", second.version)
    db.session.commit()
    return first, second


FACTS_DAY = date(2026, 7, 1)


def test_load_facts_reads_the_dated_history(history):
    first, second = history
    facts = queries.load_facts(FACTS_DAY)
    tara, will = facts.enrolments
    assert (tara.id, tara.status, tara.accredited_on, tara.withdrawn_on) == (
        first.id,
        EnrolmentStatus.COMPLETED,
        date(2026, 6, 29),
        None,
    )
    # 7 + 8 + 8 hours; one accrediting meeting at each of the three stages.
    assert (tara.supervision_minutes, tara.meetings, tara.paused_spells) == (1380, 3, ())
    # 5 January to 29 June: 26 + 28 + 31 + 30 + 31 + 29 = 175 days, accredited.
    assert tara.observation(FACTS_DAY) == (175, True)
    assert (will.id, will.status, will.withdrawn_on) == (second.id, EnrolmentStatus.WITHDRAWN, date(2026, 2, 21))
    assert will.paused_spells == ((date(2026, 2, 1), date(2026, 2, 21)),)
    assert (will.supervision_minutes, will.meetings) == (90, 0)
    # 5 January to 21 February: 47 days, censored on the day of withdrawal.
    assert will.observation(FACTS_DAY) == (47, False)

    by_record = {(row.enrolment.id, row.stage_code): row.times for row in facts.stages}
    assert by_record[(first.id, "itc")].days == {Step.WORK: 7, Step.SIGN_OFF: 3}  # 5→12, 12→15 Jan
    stage1 = by_record[(first.id, "stage-1")]
    # Work 15 Jan→15 Feb = 31 plus, after the return, 20 Feb→1 Mar = 9: 40. Sign-off 15→20 Feb = 5 plus
    # 1→4 Mar = 3: 8. Asking 4→6 Mar = 2. Meeting 6→16 Mar = 10.
    assert stage1.days == {Step.WORK: 40, Step.SIGN_OFF: 8, Step.ACCREDITOR: 2, Step.MEETING: 10}
    assert (stage1.returns, stage1.submitted, stage1.started) == (1, date(2026, 3, 1), date(2026, 1, 15))
    # 16 Mar→16 Apr = 31, then 4, 2 and 10 days.
    assert by_record[(first.id, "stage-2")].days == {
        Step.WORK: 31,
        Step.SIGN_OFF: 4,
        Step.ACCREDITOR: 2,
        Step.MEETING: 10,
    }
    # 2 May→1 Jun = 30, then 4, 3 and 10 days, and 18→29 Jun = 11 waiting for ratification.
    assert by_record[(first.id, "stage-3")].days == {
        Step.WORK: 30,
        Step.SIGN_OFF: 4,
        Step.ACCREDITOR: 3,
        Step.MEETING: 10,
        Step.RATIFICATION: 11,
    }
    # Will's ITC: 5 Jan→21 Feb (withdrawn) = 47 days, the 20 paused (1→21 Feb) apart: 27 doing the work.
    will_itc = by_record[(second.id, "itc")]
    assert (will_itc.days, will_itc.paused_days, will_itc.current) == ({Step.WORK: 27}, 20, Step.WORK)
    assert by_record[(second.id, "stage-1")].started is None  # never started: a row with no times


def test_refresh_then_snapshot_gives_the_hand_worked_figures(history):
    assert services.snapshot("all", FACTS_DAY).stored is False  # worked out on request before any refresh
    # Neither trainee has a service, so "all" is the only scope.
    assert services.refresh(FACTS_DAY) == 1
    db.session.commit()
    kept = services.snapshot("all", FACTS_DAY)
    assert kept.stored
    (version,) = kept.figures["versions"]
    assert version["statuses"]["total"] == 2 and version["statuses"]["withdrawal_rate"] == 0.5
    assert version["statuses"]["pause_rate"] == 0.5 and version["statuses"]["pause_days"]["median"] == 20
    survival = version["survival"]
    # Will censored on day 47 (2 at risk), Tara accredited on day 175 (the last at risk): S falls to 0.
    assert [point[:5] for point in survival["points"]] == [[47, 2, 0, 1, 1.0], [175, 1, 1, 0, 0.0]]
    assert (survival["median"], survival["median_lower"], survival["median_upper"]) == (175, 175, 175)
    stages = {stage["code"]: stage for stage in version["stages"]}
    # ITC: both started, Tara's finished (doing 7, waiting 3); Will is withdrawn, so not "in it now".
    itc = stages["itc"]
    assert (itc["started"], itc["finished"], itc["doing_days"], itc["waiting_days"]) == (2, 1, 7, 3)
    assert [(step["step"], step["done"]["median"], step["now"]) for step in itc["steps"]] == [
        ("work", 7, 0),
        ("sign_off", 3, 0),
    ]
    assert stages["stage-1"]["returned"] == 1
    assert [step["done"]["median"] for step in stages["stage-1"]["steps"]] == [40, 8, 2, 10]
    assert [step["done"]["median"] for step in stages["stage-3"]["steps"]] == [30, 4, 3, 10, 11]
    # The longest wait: ratification, 11 days, over every stage's meeting (10).
    assert version["bottleneck"] == {"stage": "Stage 3", "step": "ratification", "median": 11, "n": 1}
    cost = version["cost"]
    # 23 hours of supervision and 3 one-hour meetings; Will used 1.5 hours before withdrawing.
    assert (cost["supervision_hours"]["median"], cost["meetings"]["median"], cost["chargeable_hours"]["median"]) == (
        23,
        3,
        26,
    )
    assert (cost["withdrawn"], cost["withdrawn_hours"]) == (1, 1.5)
    # Doing 7 + 40 + 31 + 30 = 108, waiting 3 + 20 + 16 + 28 = 67: together Tara's 175 days.
    (line,) = headline(kept.figures)
    assert line["waiting_share"] == pytest.approx(67 / 175)
    # A scope with nobody in it, after a refresh: empty, and kept.
    empty = services.snapshot("region:99", FACTS_DAY)
    assert empty.stored and empty.figures["versions"] == []
    # Nobody is active, so nobody has a current stage to be stuck in.
    rows, _ = services.current_rows(FACTS_DAY)
    assert len(rows) == 0


def test_current_stages_are_kept_as_columns_and_read_back_the_same():
    """The refresh keeps the current stages as one list per field (dates as day numbers) and the stuck
    page reads each back by its place: every field must come back as it was, dates and None alike."""
    from vigtrain.flow.services import Columns

    kept = row(7, S.RETURNED, date(2026, 1, 5), date(2026, 3, 2), date(2026, 2, 9), None)._replace(
        service_id=3, region_id=4, cohort_id=None, step_days=41, as_of=date(2026, 3, 30)
    )
    other = row(8, S.SUBMITTED, date(2026, 2, 1))._replace(service_id=5, region_id=4)
    columns = Columns.of([kept, other])
    assert columns.row(0) == kept and columns.row(1) == other
    assert columns.columns["started_on"] == [date(2026, 1, 5).toordinal(), date(2026, 2, 1).toordinal()]
    assert columns.columns["last_supervision"] == [None, None]
    assert columns.within("service:5").indices == [1]
    assert columns.within("region:4").indices == [0, 1]
    assert columns.within("cohort:1").indices == []


def _random_rows(pick, count: int) -> list[CurrentStage]:
    """Current stages of every state, with and without history, last cycle or supervision."""
    rows = []
    for enrolment in range(1, count + 1):
        started = TODAY.toordinal() - pick.randint(0, 400)
        since = started + pick.randint(0, 120)
        maybe = lambda day: None if pick.random() < 0.3 else date.fromordinal(day)  # noqa: E731
        rows.append(
            CurrentStage(
                enrolment,
                enrolment * 10,
                pick.choice([1, 2]),
                pick.choice(["s1", "s2", "s3"]),
                pick.choice(list(S)),
                date.fromordinal(min(since, TODAY.toordinal())),
                None if pick.random() < 0.1 else date.fromordinal(started),
                maybe(started + pick.randint(-30, 300)),
                maybe(started + pick.randint(-30, 300)),
                pick.choice([1, 2, None]),
                pick.choice([1, 2]),
                pick.choice([1, None]),
                pick.choice([None, pick.randint(0, 200)]),
                pick.choice([None, date.fromordinal(TODAY.toordinal() - pick.randint(-3, 20))]),
            )
        )
    return rows


def test_the_kept_stuck_list_in_sql_agrees_with_the_one_worked_out_in_python(app):
    """`KeptHeldUp` finds, counts, orders and pages in SQL what `held_up` works out in Python: on 400
    random current stages, every scope and limit, the same trainees with the same measures."""
    import random

    from vigtrain.flow.models import FlowCurrentStage
    from vigtrain.flow.services import Columns, KeptHeldUp, held_up, kept_rows

    pick = random.Random(20261208)
    rows = _random_rows(pick, 400)
    thresholds = {
        version: {f"{code}:{step.value}": pick.choice([5, 30.5, 90]) for code in ("s1", "s2") for step in Step}
        for version in (1, 2)
    }
    asks = {
        (version, code): frozenset(pick.sample([RequirementKind.CYCLES, RequirementKind.SUPERVISION_HOURS], k))
        for version in (1, 2)
        for code in ("s1", "s2", "s3")
        for k in [pick.randint(0, 2)]
    }
    # On the edge of each limit: exactly 1, 4 and 12 weeks since the last cycle, or the last supervision,
    # in a stage with no threshold to hold them anyway.
    asks[(1, "s3")] = frozenset({RequirementKind.CYCLES, RequirementKind.SUPERVISION_HOURS})
    for weeks in (1, 4, 12):
        edge = date.fromordinal(TODAY.toordinal() - weeks * 7)
        start = edge.replace(day=1) if edge.day > 1 else date.fromordinal(edge.toordinal() - 3)
        for cycle, supervision, state in ((edge, TODAY, S.IN_PROGRESS), (TODAY, edge, S.SUBMITTED)):
            edge_row = row(len(rows) + 1, state, start, last_cycle=cycle, last_supervision=supervision, code="s3")
            rows.append(edge_row._replace(region_id=1))
    columns = Columns.of(rows)
    with app.app_context():
        db.session.execute(insert(FlowCurrentStage), kept_rows(columns, thresholds, asks))
        for scope in ("all", "region:1", "service:2", "cohort:1"):
            for weeks in (1, 4, 12):
                python = held_up(columns.within(scope), thresholds, weeks, TODAY, asks)
                sql = KeptHeldUp(scope, weeks, TODAY)
                assert len(sql) == len(python) > 0, (scope, weeks)
                assert list(sql) == list(python), (scope, weeks)
                assert sql[3:7] == python[3:7] and sql[len(sql) - 1] == python[len(python) - 1]
        db.session.rollback()
