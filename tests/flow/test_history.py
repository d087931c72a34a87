"""Where a stage's days went, on hand-built histories; every answer is counted by hand in January 2026."""

from __future__ import annotations

from datetime import date

from vigtrain.flow.history import Move, Step, stage_times
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.pathways.spells import StatusChange, paused_spells, withdrawn_on

S = StageState


def jan(day: int) -> date:
    return date(2026, 1, day)


def moves(*steps: tuple[date, StageState, StageState]) -> list[Move]:
    return [Move(on, from_state, to_state) for on, from_state, to_state in steps]


STRAIGHT_RUN = moves(
    (jan(1), S.NOT_STARTED, S.IN_PROGRESS),  # the chain's own "started" move: no new step
    (jan(11), S.IN_PROGRESS, S.SUBMITTED),
    (jan(14), S.SUBMITTED, S.SIGNED_OFF),
    (jan(16), S.SIGNED_OFF, S.WITH_ACCREDITOR),
    (jan(23), S.WITH_ACCREDITOR, S.ACCREDITED),
)


def test_a_straight_run_through_a_stage_with_a_meeting():
    times = stage_times(jan(1), S.ACCREDITED, False, STRAIGHT_RUN, today=jan(31))
    # Work 1→11 = 10, sign-off 11→14 = 3, asking 14→16 = 2, meeting 16→23 = 7; accredited (not final) ends it.
    assert times.days == {Step.WORK: 10, Step.SIGN_OFF: 3, Step.ACCREDITOR: 2, Step.MEETING: 7}
    assert (times.doing, times.waiting, times.paused_days) == (10, 12, 0)
    assert (times.submitted, times.signed_off, times.accreditor_asked, times.accredited) == (
        jan(11),
        jan(14),
        jan(16),
        jan(23),
    )
    assert times.ratified is None
    assert times.finished and times.current is None and not times.exempt and times.returns == 0
    assert all(times.completed(step) for step in (Step.WORK, Step.SIGN_OFF, Step.ACCREDITOR, Step.MEETING))
    assert not times.completed(Step.RATIFICATION)


def test_a_final_stage_waits_for_ratification_until_it_is_ratified():
    ratified = [*STRAIGHT_RUN, Move(jan(30), S.ACCREDITED, S.RATIFIED)]
    times = stage_times(jan(1), S.RATIFIED, True, ratified, today=date(2026, 2, 20))
    # As above, plus accredited 23 → ratified 30 = 7 days; ratified ends it, so today adds nothing.
    assert times.days == {Step.WORK: 10, Step.SIGN_OFF: 3, Step.ACCREDITOR: 2, Step.MEETING: 7, Step.RATIFICATION: 7}
    assert times.waiting == 19 and times.ratified == jan(30) and times.finished
    assert times.completed(Step.RATIFICATION)


def test_an_accredited_final_stage_counts_its_ratification_wait_to_today():
    times = stage_times(jan(1), S.ACCREDITED, True, STRAIGHT_RUN, today=jan(28))
    # Accredited 23 Jan, still not ratified on 28 Jan: 5 days so far.
    assert times.days[Step.RATIFICATION] == 5
    assert times.current is Step.RATIFICATION and not times.finished
    assert times.completed(Step.MEETING) and not times.completed(Step.RATIFICATION)


def test_a_stage_with_no_meeting_is_complete_at_sign_off():
    history = moves((jan(5), S.IN_PROGRESS, S.SUBMITTED), (jan(8), S.SUBMITTED, S.COMPLETE))
    times = stage_times(jan(1), S.COMPLETE, False, history, today=jan(31))
    # Work 1→5 = 4, sign-off 5→8 = 3; complete is no step, so 8→31 counts nowhere.
    assert times.days == {Step.WORK: 4, Step.SIGN_OFF: 3}
    assert times.signed_off == jan(8) and times.finished and times.current is None
    assert times.completed(Step.SIGN_OFF) and not times.completed(Step.ACCREDITOR)


def test_a_return_by_the_supervisor_adds_to_doing_the_work():
    history = moves(
        (jan(11), S.IN_PROGRESS, S.SUBMITTED),
        (jan(14), S.SUBMITTED, S.RETURNED),
        (jan(20), S.RETURNED, S.SUBMITTED),
        (jan(22), S.SUBMITTED, S.SIGNED_OFF),
        (jan(25), S.SIGNED_OFF, S.WITH_ACCREDITOR),
        (jan(30), S.WITH_ACCREDITOR, S.ACCREDITED),
    )
    times = stage_times(jan(1), S.ACCREDITED, False, history, today=jan(31))
    # Work 1→11 = 10 and, after the return, 14→20 = 6: 16. Sign-off 11→14 = 3 and 20→22 = 2: 5.
    # Asking 22→25 = 3, meeting 25→30 = 5.
    assert times.days == {Step.WORK: 16, Step.SIGN_OFF: 5, Step.ACCREDITOR: 3, Step.MEETING: 5}
    assert times.submitted == jan(20)  # the last submission
    assert times.signed_off == jan(22) and times.returns == 1


def test_a_return_after_the_accrediting_meeting():
    history = moves(
        (jan(11), S.IN_PROGRESS, S.SUBMITTED),
        (jan(13), S.SUBMITTED, S.SIGNED_OFF),
        (jan(15), S.SIGNED_OFF, S.WITH_ACCREDITOR),
        (jan(20), S.WITH_ACCREDITOR, S.RETURNED),
        (jan(25), S.RETURNED, S.SUBMITTED),
        (jan(27), S.SUBMITTED, S.SIGNED_OFF),
        (jan(28), S.SIGNED_OFF, S.WITH_ACCREDITOR),
        (date(2026, 2, 2), S.WITH_ACCREDITOR, S.ACCREDITED),
    )
    times = stage_times(jan(1), S.ACCREDITED, False, history, today=date(2026, 2, 10))
    # Work 1→11 = 10 + 20→25 = 5: 15. Sign-off 11→13 = 2 + 25→27 = 2: 4.
    # Asking 13→15 = 2 + 27→28 = 1: 3. Meeting 15→20 = 5 + 28 Jan→2 Feb = 5: 10.
    assert times.days == {Step.WORK: 15, Step.SIGN_OFF: 4, Step.ACCREDITOR: 3, Step.MEETING: 10}
    assert (times.submitted, times.signed_off, times.accreditor_asked) == (jan(25), jan(27), jan(28))
    assert times.returns == 1


def test_a_pause_spanning_two_steps_is_taken_out_of_each():
    history = moves((jan(11), S.IN_PROGRESS, S.SUBMITTED), (jan(21), S.SUBMITTED, S.SIGNED_OFF))
    times = stage_times(jan(1), S.SIGNED_OFF, False, history, today=jan(31), paused=[(jan(8), jan(15))])
    # Paused 8→15 = 7 days: 3 of them (8→11) in the work, 4 (11→15) in the sign-off wait.
    # Work 10 - 3 = 7, sign-off 10 - 4 = 6, asking 21→31 = 10 (to today, the step it is in).
    assert times.days == {Step.WORK: 7, Step.SIGN_OFF: 6, Step.ACCREDITOR: 10}
    assert times.paused_days == 7
    assert times.current is Step.ACCREDITOR
    assert times.completed(Step.WORK) and times.completed(Step.SIGN_OFF)
    assert not times.completed(Step.ACCREDITOR) and not times.completed(Step.MEETING)


def test_an_open_pause_counts_to_today():
    times = stage_times(jan(1), S.IN_PROGRESS, False, [], today=jan(31), paused=[(jan(21), None)])
    # 1→31 is 30 days, the last 10 (21→31) paused.
    assert times.days == {Step.WORK: 20}
    assert times.paused_days == 10
    assert times.current is Step.WORK and not times.completed(Step.WORK)


def test_a_withdrawn_enrolments_stage_stops_on_the_day_it_was_withdrawn():
    history = moves((jan(11), S.IN_PROGRESS, S.SUBMITTED))
    times = stage_times(jan(1), S.SUBMITTED, False, history, today=date(2026, 3, 31), stopped_on=jan(20))
    # Work 1→11 = 10, sign-off 11→20 = 9; nothing after 20 January however late today is.
    assert times.days == {Step.WORK: 10, Step.SIGN_OFF: 9}
    # Paused on 15 January and withdrawn while paused: that spell closed on the 20th (5 days).
    paused = stage_times(
        jan(1), S.SUBMITTED, False, history, today=date(2026, 3, 31), paused=[(jan(15), jan(20))], stopped_on=jan(20)
    )
    assert paused.days == {Step.WORK: 10, Step.SIGN_OFF: 4} and paused.paused_days == 5


def test_an_exemption_in_the_middle_of_a_stage():
    history = moves((jan(11), S.IN_PROGRESS, S.EXEMPT))
    times = stage_times(jan(1), S.EXEMPT, False, history, today=jan(31))
    # The 10 days worked before the exemption are kept, but the stage counts in no step figure.
    assert times.days == {Step.WORK: 10}
    assert times.exempt and times.finished and times.current is None
    assert not times.completed(Step.WORK)


def test_an_exemption_ahead_of_time_has_no_days():
    # Exempted before it started: started_on and ended_on are both the day of the exemption.
    history = moves((jan(15), S.NOT_STARTED, S.EXEMPT))
    times = stage_times(jan(15), S.EXEMPT, False, history, today=jan(31))
    assert times.doing == 0 and times.waiting == 0 and times.paused_days == 0
    assert times.exempt and times.finished and not times.completed(Step.WORK)


def test_a_stage_not_started_has_nothing():
    times = stage_times(None, S.NOT_STARTED, False, [], today=jan(31))
    assert times.started is None and times.days == {} and not times.finished
    assert not times.completed(Step.WORK)


def test_completed_while_unfinished_means_only_the_steps_behind_the_current_one():
    history = moves((jan(11), S.IN_PROGRESS, S.SUBMITTED))
    times = stage_times(jan(1), S.SUBMITTED, False, history, today=jan(31))
    assert times.current is Step.SIGN_OFF
    assert [step for step in Step if times.completed(step)] == [Step.WORK]


def test_moves_dated_before_the_start_are_clamped_to_it():
    # The stage started on the 10th, but its submission is stamped the 5th (a back-dated start).
    history = moves((jan(5), S.IN_PROGRESS, S.SUBMITTED), (jan(15), S.SUBMITTED, S.SIGNED_OFF))
    times = stage_times(jan(10), S.SIGNED_OFF, False, history, today=jan(20))
    # Work 10→10 = 0 (never negative), sign-off 10→15 = 5, asking 15→20 = 5.
    assert times.days == {Step.WORK: 0, Step.SIGN_OFF: 5, Step.ACCREDITOR: 5}


def test_paused_spells_pair_each_pause_with_what_ended_it():
    changes = [
        StatusChange(jan(1), EnrolmentStatus.PAUSED),
        StatusChange(jan(5), EnrolmentStatus.ACTIVE),
        StatusChange(jan(10), EnrolmentStatus.PAUSED),
        StatusChange(jan(12), EnrolmentStatus.PAUSED),  # paused again while paused: the same spell
    ]
    assert paused_spells(changes) == [(jan(1), jan(5)), (jan(10), None)]
    withdrawn_while_paused = [
        StatusChange(jan(3), EnrolmentStatus.PAUSED),
        StatusChange(jan(9), EnrolmentStatus.WITHDRAWN),
    ]
    assert paused_spells(withdrawn_while_paused) == [(jan(3), jan(9))]
    assert paused_spells([StatusChange(jan(3), EnrolmentStatus.ACTIVE)]) == []


def test_withdrawn_on_is_the_last_withdrawal_and_only_while_withdrawn():
    changes = [
        StatusChange(jan(2), EnrolmentStatus.WITHDRAWN),
        StatusChange(jan(5), EnrolmentStatus.ACTIVE),
        StatusChange(jan(9), EnrolmentStatus.WITHDRAWN),
    ]
    assert withdrawn_on(EnrolmentStatus.WITHDRAWN, changes) == jan(9)
    # Withdrawn, then reopened: it is active again and its clock runs on.
    assert withdrawn_on(EnrolmentStatus.ACTIVE, changes[:2]) is None
    assert withdrawn_on(EnrolmentStatus.WITHDRAWN, []) is None


def test_a_finished_stage_with_no_move_into_its_state_has_no_recorded_days():
    # Entered as complete from before vigtrain: when it started is known, where its days went is not.
    times = stage_times(jan(1), S.COMPLETE, False, [], today=jan(31))
    assert (times.recorded, times.finished, times.days, times.doing, times.waiting) == (False, True, {}, 0, 0)
    assert not any(times.completed(step) for step in Step)
    # The same stage with its sign-off recorded is accounted for (work 1→5, sign-off 5→8).
    history = moves((jan(5), S.IN_PROGRESS, S.SUBMITTED), (jan(8), S.SUBMITTED, S.COMPLETE))
    assert stage_times(jan(1), S.COMPLETE, False, history, today=jan(31)).recorded


def test_a_step_with_no_recorded_days_is_not_completed_while_the_stage_is_unfinished():
    # Submitted before its history was recorded (no move into "submitted"), then signed off on the 20th.
    history = moves((jan(20), S.SUBMITTED, S.SIGNED_OFF))
    times = stage_times(jan(1), S.SIGNED_OFF, False, history, today=jan(31))
    # Work 1→20 = 19 (the wait for sign-off is not told apart from it), asking 20→31 = 11.
    assert times.days == {Step.WORK: 19, Step.ACCREDITOR: 11} and times.current is Step.ACCREDITOR
    # Sign-off is behind the current step but has no days: not a finished step with a known length.
    assert [step for step in Step if times.completed(step)] == [Step.WORK]
