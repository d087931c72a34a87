"""The forecast for the current stage: its arithmetic and wording on hand-built figures, and the
enrolment page showing it to the trainee and their personal supervisor only.

Hand working: a pace is done / days of work; the days still needed are left * days / done; the
range uses the rates ((sqrt(k) -/+ 0.6408)^2) / days; one more a month adds 1 / 30.4375 a day.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest

from tests.factories import count_statements, make_cycles, make_enrolment, make_supervision
from vigtrain.extensions import db
from vigtrain.pathways.definitions import Requirement, RequirementKind, Stage
from vigtrain.pathways.models import EnrolmentStatus, EnrolmentStatusChange, StageRecord, StageState
from vigtrain.pathways.spells import StatusChange
from vigtrain.training import signoff
from vigtrain.training.forecast import Forecast, Voice, Work, paused_days, stage_forecast
from vigtrain.training.progress import RequirementStatus, StageProgress

CYCLES, HOURS = RequirementKind.CYCLES, RequirementKind.SUPERVISION_HOURS
DECEMBER = date(2026, 12, 1)


def _forecast(cycles=(3, 9), hours=(4, 8), days=90, on=DECEMBER, waiting=0, other_left=(), ends_with="transition"):
    works = []
    if cycles:
        works.append(Work(CYCLES, *cycles))
    if hours:
        works.append(Work(HOURS, *hours))
    return Forecast("Stage 2", on, tuple(works), days, waiting, tuple(other_left), ends_with)


# --- pace, binding requirement, range -------------------------------------------------------------


def test_pace_estimate_and_range_when_cycles_set_the_date():
    # Cycles: 3 in 90 days is 1.01 a month ("1 cycle"); 6 left take 6 * 90 / 3 = 180 days, to 30 May 2027.
    # Hours: 4 in 90 days is 1.35 a month; 4 left take 90 days: cycles bind.
    # Range, cycles: high (1.7321 + 0.6408)^2 = 5.6304, 540 / 5.6304 = 95.9 days (7 March 2027);
    # low (1.7321 - 0.6408)^2 = 1.1908, 540 / 1.1908 = 453.5 days (27 February 2028). The hours'
    # own ends (51.6 and 194.9 days) are sooner, so the cycles' ends stand.
    forecast = _forecast()
    assert forecast.binding.kind is CYCLES
    assert forecast.days_needed() == pytest.approx(180)
    assert forecast.finish() == date(2027, 5, 30)
    assert forecast.finish(bound=1) == date(2027, 3, 7)
    assert forecast.finish(bound=-1) == date(2028, 2, 27)
    words = forecast.wording(Voice())
    assert words.summary == [
        "At your pace so far in Stage 2 (1 cycle and 1.4 confirmed hours of supervision a month), you would "
        "finish its work around May 2027, most likely between March 2027 and February 2028."
    ]
    # One more cycle a month: 3/90 + 1/30.4375 = 0.066188 a day, 6 / 0.066188 = 90.65 days, still
    # after the hours' 90 days, so cycles still bind: 2 March 2027.
    assert words.forward == [
        "Cycles set the date: 6 more are needed, at about 1 a month.",
        "One more cycle a month would bring it to March 2027.",
    ]
    assert (
        words.note == "The date is for the work; submitting the stage, sign-off and the transition meeting follow it."
    )


def test_the_supervisor_reads_it_in_the_third_person():
    words = _forecast().wording(Voice("Tara Trainee"))
    assert words.summary[0].startswith(
        "At their pace so far in Stage 2 (1 cycle and 1.4 confirmed hours of supervision a month), "
        "Tara Trainee would finish its work around May 2027"
    )


def test_hours_bind_and_one_more_hour_hands_the_date_to_cycles():
    # Hours: 2 in 90 days (0.68 a month, "0.7"); 6 left take 270 days, to 28 August 2027; cycles 180 days.
    # One more hour a month: 2/90 + 1/30.4375 = 0.055076 a day, 6 / 0.055076 = 108.9 days, sooner
    # than the cycles' 180 days (30 May 2027), so cycles would then set the date. One more of each:
    # cycles 90.65 days, hours 108.9 days, so 109 days, 20 March 2027.
    forecast = _forecast(hours=(2, 8))
    assert forecast.binding.kind is HOURS
    assert forecast.finish() == date(2027, 8, 28)
    # High end: hours (1.4142 + 0.6408)^2 = 4.2231, 540 / 4.2231 = 127.9 days (8 April 2027); low end:
    # (1.4142 - 0.6408)^2 = 0.5982, 540 / 0.5982 = 902.7 days (22 May 2029).
    assert forecast.finish(bound=1) == date(2027, 4, 8)
    assert forecast.finish(bound=-1) == date(2029, 5, 22)
    words = forecast.wording(Voice())
    assert "around August 2027, most likely between April 2027 and May 2029." in words.summary[0]
    assert words.forward == [
        "Confirmed supervision sets the date: 6 more hours are needed, at about 0.7 hours a month.",
        "One more confirmed hour of supervision a month would bring it to May 2027; cycles would then set "
        "the date, and one more cycle a month as well would bring it to March 2027.",
    ]


def test_the_early_end_waits_for_the_other_requirement():
    # Cycles 1 of 3 in 90 days: 2 left take 180 days; hours 20 of 50: 30 left take 135 days. Cycles
    # bind. At the high rates cycles take 180 / (1 + 0.6408)^2 = 66.9 days but hours take
    # 2700 / (4.4721 + 0.6408)^2 = 103.3 days: the early end is the hours' 103.3, not the cycles' 66.9.
    forecast = _forecast(cycles=(1, 3), hours=(20, 50))
    assert forecast.binding.kind is CYCLES
    assert forecast.days_needed(bound=1) == pytest.approx(103.28, abs=0.01)
    # At the low rates the cycles, 180 / (1 - 0.6408)^2 = 1395.1 days, are later than the hours' 183.9.
    assert forecast.days_needed(bound=-1) == pytest.approx(1395.1, abs=0.1)


def test_the_range_is_one_month_or_within_a_year_in_plain_words():
    # 100 cycles in 300 days, 10 left: 30 days (31 January 2027); high (10 + 0.6408)^2 = 113.23,
    # 3000 / 113.23 = 26.5 days (27 January); low (10 - 0.6408)^2 = 87.59, 3000 / 87.59 = 34.2 days
    # (4 February).
    forecast = _forecast(cycles=(100, 110), hours=None, days=300, on=date(2027, 1, 1), ends_with="none")
    words = forecast.wording(Voice())
    assert words.summary == [
        "At your pace so far in Stage 2 (10.1 cycles a month), you would finish its work around January 2027, "
        "most likely between January and February 2027."
    ]
    # One more a month: 100/300 + 1/30.4375 = 0.36619 a day, 10 / 0.36619 = 27.3 days: still January.
    assert words.forward[1] == "One more cycle a month would bring it forward a little, still within January 2027."
    assert words.note == "The date is for the work; submitting the stage and sign-off follow it."


@pytest.mark.parametrize(
    ("days", "month"),
    [
        (60, "January 2027"),  # 1 left * 60 / 2 = 30 days: 31 January
        (62, "February 2027"),  # 31 days: 1 February
    ],
)
def test_the_month_is_the_month_of_the_day_it_lands_on(days, month):
    forecast = _forecast(cycles=(2, 3), hours=None, days=days, on=date(2027, 1, 1))
    assert f"around {month}," in forecast.wording(Voice()).summary[0]


def test_a_slow_pace_says_when_the_range_runs_past_ten_years():
    # 1 cycle in 100 days, 11 left: 1100 days (5 December 2029). High (1.6408)^2 = 2.6922,
    # 1100 / 2.6922 = 408.6 days (14 January 2028); low (1 - 0.6408)^2 = 0.129, 1100 / 0.129 = 8526
    # days: past ten years (3653 days).
    forecast = _forecast(cycles=(1, 12), hours=None, days=100)
    assert forecast.finish() == date(2029, 12, 5)
    assert forecast.finish(bound=-1) is None
    words = forecast.wording(Voice())
    assert words.summary[0].endswith(
        "(0.3 cycles a month), you would finish its work around December 2029, most likely not before "
        "January 2028, and possibly more than ten years away."
    )
    # One more a month: 1/100 + 1/30.4375 = 0.042854 a day, 11 / 0.042854 = 256.7 days: 15 August 2027.
    assert words.forward[1] == "One more cycle a month would bring it to August 2027."


def test_a_pace_that_would_take_over_ten_years_gives_no_month():
    # 1 cycle in 3650 days, 11 left: 40,150 days.
    words = _forecast(cycles=(1, 12), hours=None, days=3650).wording(Voice())
    assert words.summary == [
        "At your pace so far in Stage 2 (less than 0.1 cycles a month), "
        "its work would take more than ten years to finish."
    ]
    assert words.forward[0] == "Cycles set the date: 11 more are needed, at less than 0.1 a month."


def test_the_lowest_count_is_floored():
    # Half an hour in 90 days: sqrt(0.5) - 0.6408 = 0.0663, squared 0.0044, floored to 0.1; 7.5 hours
    # left at 0.1 / 90 a day take 6750 days.
    forecast = _forecast(cycles=None, hours=(0.5, 8))
    assert forecast.days_needed(bound=-1) == pytest.approx(6750)


# --- too early, done, waiting sessions -----------------------------------------------------------


def test_too_early_before_four_weeks_in_the_stage():
    # 10 days of work on 1 December: four weeks (28 days) are reached 18 days later.
    words = _forecast(days=10).wording(Voice())
    assert words.summary == [
        "It is too early to estimate when you will finish the work of Stage 2.",
        "We can estimate from 19 December 2026, after four weeks of work in this stage.",
    ]
    assert words.note is None


def test_too_early_while_a_requirement_has_nothing_done_in_the_stage():
    assert _forecast(cycles=(0, 9)).wording(Voice()).summary[1] == (
        "We can estimate once you have logged a cycle in this stage."
    )
    assert _forecast(cycles=(0, 9), hours=(0, 8)).wording(Voice("Tara Trainee")).summary == [
        "It is too early to estimate when Tara Trainee will finish the work of Stage 2.",
        "We can estimate once Tara Trainee has logged a cycle and had a supervision session confirmed in this stage.",
    ]
    assert _forecast(hours=(0, 8), days=20).wording(Voice()).summary[1] == (
        "We can estimate from 9 December 2026 at the earliest, once you have had a supervision session "
        "confirmed in this stage."
    )


def test_nothing_done_is_fine_where_the_target_is_met():
    # A met requirement needs no pace; the other sets the date (hours: 4 left, 90 days, 1 March 2027).
    forecast = _forecast(cycles=(9, 9))
    assert not forecast.too_early
    assert forecast.finish() == date(2027, 3, 1)


def test_met_says_so_and_lists_what_else_is_left():
    left = (
        "Write or upload your reflective statement",
        "Complete your self-assessment against the attunement principles",
    )
    words = _forecast(cycles=(9, 9), hours=(8.5, 8), days=5, waiting=2, other_left=left).wording(Voice())
    assert words.summary == [
        "The cycles and confirmed hours of supervision that Stage 2 asks for are done, "
        "so there is no date to estimate.",
        "Still to do:",
    ]
    assert words.still_to_do == list(left)
    assert words.forward == [] and words.note is None
    assert _forecast(cycles=(9, 9), hours=(8, 8)).wording(Voice()).summary[1] == (
        "Every other requirement is met too, so the stage can be submitted."
    )


def test_unconfirmed_sessions_are_pointed_out_while_hours_are_short():
    assert _forecast(waiting=2).wording(Voice()).forward[-1] == (
        "2 supervision sessions are logged and waiting for confirmation: once confirmed they count."
    )
    assert _forecast(waiting=1, days=10).wording(Voice()).forward == [
        "1 supervision session is logged and waiting for confirmation: once confirmed it counts."
    ]
    # Hours already met: they would not move the date.
    assert "waiting" not in " ".join(_forecast(hours=(8, 8), waiting=3).wording(Voice()).forward)


# --- paused days and building from a stage's progress ---------------------------------------------


def test_paused_days_count_only_the_spells_inside_the_window():
    start, end = date(2026, 3, 1), date(2026, 6, 1)
    paused, active = EnrolmentStatus.PAUSED, EnrolmentStatus.ACTIVE
    change, withdrawn = StatusChange, EnrolmentStatus.WITHDRAWN
    # 10 to 20 March: 10 days.
    assert paused_days([change(date(2026, 3, 10), paused), change(date(2026, 3, 20), active)], start, end) == 10
    # 20 February to 5 March: only 1 to 5 March, 4 days.
    assert paused_days([change(date(2026, 2, 20), paused), change(date(2026, 3, 5), active)], start, end) == 4
    # Paused on 22 May and not yet resumed: to 1 June, 10 days.
    assert paused_days([change(date(2026, 5, 22), paused)], start, end) == 10
    # Before the window, or withdrawn rather than paused: none.
    assert paused_days([change(date(2026, 1, 1), paused), change(date(2026, 2, 1), active)], start, end) == 0
    assert (
        paused_days(
            [change(date(2026, 4, 1), withdrawn), change(date(2026, 4, 9), active)],
            start,
            end,
        )
        == 0
    )


def _stage(*requirements: Requirement) -> Stage:
    return Stage(
        code="stage-2",
        name="Stage 2",
        typical_months=6,
        ends_with="transition",
        meeting_name="Transition meeting",
        requirements=requirements,
    )


def test_a_forecast_is_built_from_the_stage_progress():
    cycles, hours = Requirement(kind=CYCLES, target=9), Requirement(kind=HOURS, target=8)
    clients, statement = (
        Requirement(kind=RequirementKind.NEW_CLIENTS, target=3),
        Requirement(kind=RequirementKind.REFLECTIVE_STATEMENT),
    )
    record = StageRecord(stage_code="stage-2", started_on=date(2026, 9, 1), state=StageState.IN_PROGRESS)
    progress = StageProgress(
        record=record,
        stage=_stage(cycles, clients, hours, statement),
        requirements=[
            RequirementStatus(cycles, 3, False),
            RequirementStatus(clients, 1, False),
            RequirementStatus(hours, 4, False),
            RequirementStatus(statement, 0, False),
        ],
    )
    forecast = stage_forecast(progress, DECEMBER, paused=1, waiting=2)
    # 1 September to 1 December is 91 days, one of them paused.
    assert forecast.days == 90
    assert forecast.works == (Work(CYCLES, 3, 9), Work(HOURS, 4, 8))
    assert forecast.other_left == (
        "2 more new clients (a client new in this stage)",
        "Write or upload your reflective statement",
    )
    assert forecast.waiting == 2 and forecast.ends_with == "transition"


def test_a_stage_counting_neither_cycles_nor_hours_has_no_forecast():
    attendance = Requirement(kind=RequirementKind.COURSE_ATTENDANCE, target=4)
    record = StageRecord(stage_code="itc", started_on=date(2026, 9, 1), state=StageState.IN_PROGRESS)
    progress = StageProgress(record, _stage(attendance), [RequirementStatus(attendance, 0, False)])
    assert stage_forecast(progress, DECEMBER) is None


# --- the enrolment page ----------------------------------------------------------------------------

ITC_SIGNED_OFF = date(2026, 2, 1)  # Stage 1 starts; the clock says 2 March 2026: 29 days
WORK_DAY = date(2026, 2, 10)


def _client(app, user):
    client = app.test_client()
    client.login(user.email)
    return client


def _plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


@pytest.fixture
def on_stage_1(people):
    """Tara on Stage 1 since 1 February: 2 cycles and 3 confirmed hours, and 1 hour logged unconfirmed."""
    enrolment = make_enrolment(people["trainee"], people["supervisor"], start=date(2026, 1, 5), actor=people["admin"])
    itc = enrolment.stages[0]
    signoff.confirm_attendance(people["supervisor"], itc, 4, itc.version)
    signoff.submit_stage(people["trainee"], itc, itc.version)
    signoff.sign_off_stage(people["supervisor"], itc, None, ITC_SIGNED_OFF, itc.version)
    db.session.commit()
    make_cycles(people["trainee"], 2, 2, WORK_DAY)
    make_supervision(enrolment, people["supervisor"], 3, WORK_DAY)
    make_supervision(enrolment, people["supervisor"], 1, date(2026, 2, 20), confirmed=False)
    return enrolment


# Cycles: 2 in 29 days, 2.1 a month; 4 left take 4 * 29 / 2 = 58 days, to 29 April 2026. Hours: 3 in
# 29 days, 3.1 a month; 4 left take 38.7 days. Cycles bind. High: (1.4142 + 0.6408)^2 = 4.2231,
# 116 / 4.2231 = 27.5 days (29 March); low: (1.4142 - 0.6408)^2 = 0.5982, 116 / 0.5982 = 193.9 days
# (12 September).
TRAINEE_SENTENCE = (
    "At your pace so far in Stage 1 (2.1 cycles and 3.1 confirmed hours of supervision a month), you would "
    "finish its work around April 2026, most likely between March and September 2026."
)
SUPERVISOR_SENTENCE = (
    "At their pace so far in Stage 1 (2.1 cycles and 3.1 confirmed hours of supervision a month), Tara Trainee "
    "would finish its work around April 2026, most likely between March and September 2026."
)
WAITING = "1 supervision session is logged and waiting for confirmation: once confirmed it counts."


def test_the_trainee_sees_their_forecast(app, people, on_stage_1):
    page = _plain(_client(app, people["trainee"]).get(f"/enrolments/{on_stage_1.id}"))
    assert "Forecast for Stage 1" in page
    assert TRAINEE_SENTENCE in page
    assert "What would bring it forward" in page
    assert "Cycles set the date: 4 more are needed, at about 2.1 a month." in page
    # One more a month: 2/29 + 1/30.4375 = 0.10182 a day, 4 / 0.10182 = 39.3 days: 10 April.
    assert "One more cycle a month would bring it forward a little, still within April 2026." in page
    assert WAITING in page
    assert "submitting the stage, sign-off and the transition meeting follow it." in page


def test_the_personal_supervisor_sees_it_in_the_third_person(app, people, on_stage_1):
    page = _plain(_client(app, people["supervisor"]).get(f"/enrolments/{on_stage_1.id}"))
    assert "Forecast for Stage 1" in page
    assert SUPERVISOR_SENTENCE in page and WAITING in page


def test_an_administrator_reads_the_record_without_the_forecast(app, people, on_stage_1):
    response = _client(app, people["admin"]).get(f"/enrolments/{on_stage_1.id}")
    assert response.status_code == 200
    page = _plain(response)
    assert "What is left in Stage 1" in page
    assert "Forecast for" not in page and "would finish its work" not in page


def test_someone_not_on_the_enrolment_sees_nothing(app, people, on_stage_1):
    assert _client(app, people["stranger"]).get(f"/enrolments/{on_stage_1.id}").status_code == 404


def test_a_pause_is_left_out_of_the_days_of_work(app, people, on_stage_1):
    # Paused 5 to 8 February: 29 - 3 = 26 days of work, two short of four weeks (4 March).
    for day, status in ((5, EnrolmentStatus.PAUSED), (8, EnrolmentStatus.ACTIVE)):
        on_stage_1.status_changes.append(
            EnrolmentStatusChange(status=status, occurred_at=datetime(2026, 2, day, 12, tzinfo=UTC))
        )
    db.session.commit()
    page = _plain(_client(app, people["trainee"]).get(f"/enrolments/{on_stage_1.id}"))
    assert "It is too early to estimate when you will finish the work of Stage 1." in page
    assert "We can estimate from 4 March 2026, after four weeks of work in this stage." in page
    assert WAITING in page


def test_no_forecast_while_the_enrolment_is_paused(app, people, on_stage_1):
    on_stage_1.status = EnrolmentStatus.PAUSED
    on_stage_1.status_reason = "Leave"
    db.session.commit()
    page = _plain(_client(app, people["trainee"]).get(f"/enrolments/{on_stage_1.id}"))
    assert "This enrolment is paused" in page and "Forecast for" not in page


def test_no_forecast_once_the_stage_is_submitted(app, people, on_stage_1):
    stage1 = on_stage_1.stages[1]
    stage1.state = StageState.SUBMITTED
    db.session.commit()
    page = _plain(_client(app, people["supervisor"]).get(f"/enrolments/{on_stage_1.id}"))
    assert "What is left in Stage 1" in page and "Forecast for" not in page


def test_the_forecast_costs_the_same_statements_however_much_there_is(app, people, on_stage_1):
    client = _client(app, people["trainee"])
    url = f"/enrolments/{on_stage_1.id}"
    before = count_statements(client, url)
    make_cycles(people["trainee"], 3, 3, WORK_DAY)
    for day in (11, 12, 13):
        make_supervision(on_stage_1, people["supervisor"], 1, date(2026, 2, day), confirmed=False)
    # A one-day pause leaves 28 days of work: still enough for an estimate.
    for day, status in ((3, EnrolmentStatus.PAUSED), (4, EnrolmentStatus.ACTIVE)):
        on_stage_1.status_changes.append(
            EnrolmentStatusChange(status=status, occurred_at=datetime(2026, 2, day, 12, tzinfo=UTC))
        )
    db.session.commit()
    page = _plain(client.get(url))
    assert "would finish its work" in page and "4 supervision sessions are logged" in page
    assert count_statements(client, url) == before
