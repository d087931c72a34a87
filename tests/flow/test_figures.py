"""The per-scope figures on hand-built facts: six trainees on a two-stage pathway, as of 31 January 2026.

A  accredited 30 Jan; stage 1 straight through (work 10, sign-off 3, asking 2, meeting 7),
   stage 2 (work 1, sign-off 1, asking 1, meeting 1, ratification 3)
B  active; stage 1 returned once, submitted again, waiting for sign-off (work 10 + 7, sign-off 3 + 10)
C  paused since 21 Jan, stage 1 in progress (work 30 - 10 paused = 20)
D  active, stage 1 exempted on 11 Jan after a pause of 5-9 Jan
E  active, started 11 Jan, stage 1 in progress (work 20)
F  withdrawn 20 Jan after a pause of 10-20 Jan, stage 1 in progress (work 19 - 10 = 9)
"""

from __future__ import annotations

from datetime import date

import pytest

from vigtrain.flow.figures import (
    EnrolmentFacts,
    Facts,
    StageFacts,
    VersionInfo,
    by_scope,
    headline,
    scope_figures,
    scopes_of,
    spread,
)
from vigtrain.flow.history import Move, Step, stage_times
from vigtrain.pathways.models import EnrolmentStatus, StageState

S = StageState
TODAY = date(2026, 1, 31)
VERSION = VersionInfo(1, "VIG Practitioner (2024)", (("s1", "Stage 1", True), ("s2", "Stage 2", True)))
NOBODY_ON_IT = VersionInfo(2, "VIG Practitioner (2015)", (("x", "Stage X", False),))


def jan(day: int) -> date:
    return date(2026, 1, day)


def enrolment(id, status, service=None, region=None, cohort=None, start=None, **fields) -> EnrolmentFacts:
    values = {"accredited_on": None, "withdrawn_on": None} | fields
    return EnrolmentFacts(id, 1, service, region, cohort, start or jan(1), status, **values)


A = enrolment(1, EnrolmentStatus.COMPLETED, 10, 1, 100, accredited_on=jan(30), supervision_minutes=1380, meetings=4)
B = enrolment(2, EnrolmentStatus.ACTIVE, 11, 1, supervision_minutes=600)
C = enrolment(3, EnrolmentStatus.PAUSED, 20, 2, 100, paused_spells=((jan(21), None),))
D = enrolment(4, EnrolmentStatus.ACTIVE, 20, 2, paused_spells=((jan(5), jan(9)),))
E = enrolment(5, EnrolmentStatus.ACTIVE, start=jan(11))
F = enrolment(
    6,
    EnrolmentStatus.WITHDRAWN,
    10,
    1,
    101,
    withdrawn_on=jan(20),
    paused_spells=((jan(10), jan(20)),),
    supervision_minutes=330,
    meetings=1,
)


def stage(record_id, who, code, state, started, steps, is_final=False) -> StageFacts:
    moves = [Move(on, from_state, to_state) for on, from_state, to_state in steps]
    times = stage_times(started, state, is_final, moves, TODAY, who.paused_spells, who.withdrawn_on)
    return StageFacts(record_id, who, code, 1 if code == "s1" else 2, is_final, state, times)


STAGES = [
    stage(
        1,
        A,
        "s1",
        S.ACCREDITED,
        jan(1),
        [
            (jan(11), S.IN_PROGRESS, S.SUBMITTED),
            (jan(14), S.SUBMITTED, S.SIGNED_OFF),
            (jan(16), S.SIGNED_OFF, S.WITH_ACCREDITOR),
            (jan(23), S.WITH_ACCREDITOR, S.ACCREDITED),
        ],
    ),
    stage(
        2,
        A,
        "s2",
        S.RATIFIED,
        jan(23),
        [
            (jan(24), S.IN_PROGRESS, S.SUBMITTED),
            (jan(25), S.SUBMITTED, S.SIGNED_OFF),
            (jan(26), S.SIGNED_OFF, S.WITH_ACCREDITOR),
            (jan(27), S.WITH_ACCREDITOR, S.ACCREDITED),
            (jan(30), S.ACCREDITED, S.RATIFIED),
        ],
        is_final=True,
    ),
    stage(
        3,
        B,
        "s1",
        S.SUBMITTED,
        jan(1),
        [(jan(11), S.IN_PROGRESS, S.SUBMITTED), (jan(14), S.SUBMITTED, S.RETURNED), (jan(21), S.RETURNED, S.SUBMITTED)],
    ),
    stage(4, C, "s1", S.IN_PROGRESS, jan(1), []),
    stage(5, D, "s1", S.EXEMPT, jan(1), [(jan(11), S.IN_PROGRESS, S.EXEMPT)]),
    stage(6, E, "s1", S.IN_PROGRESS, jan(11), []),
    stage(7, F, "s1", S.IN_PROGRESS, jan(1), []),
]


def facts() -> Facts:
    return Facts(TODAY, {1: VERSION, 2: NOBODY_ON_IT}, [A, B, C, D, E, F], list(STAGES))


@pytest.fixture
def version() -> dict:
    figures = scope_figures(facts(), "all")
    assert figures["scope"] == "all" and figures["as_of"] == "2026-01-31"
    (only,) = figures["versions"]  # the 2015 version has nobody on it, so it is left out
    return only


def test_the_hand_built_stage_times_are_as_described():
    assert [row.times.days.get(Step.WORK) for row in STAGES] == [10, 1, 17, 20, 6, 20, 9]
    assert STAGES[2].times.days[Step.SIGN_OFF] == 13 and STAGES[2].times.current is Step.SIGN_OFF


def test_spread_uses_inclusive_quartiles():
    # Inclusive: position 1 + p(n - 1). q1 at 1.75 → 10 + 0.75·10 = 17.5; q3 at 3.25 → 32.5;
    # median (20 + 30)/2 = 25; p90 at 3.7 → 30 + 0.7·10 = 37.
    assert spread([40, 10, 30, 20]) == {"n": 4, "median": 25, "q1": 17.5, "q3": 32.5, "p90": pytest.approx(37)}
    assert spread([5]) == {"n": 1, "median": 5, "q1": 5, "q3": 5, "p90": 5}
    assert spread([]) is None


def test_step_figures_count_only_completed_steps_and_only_active_trainees_now(version):
    stage1, stage2 = version["stages"]
    steps = {step["step"]: step for step in stage1["steps"]}
    assert list(steps) == ["work", "sign_off", "accreditor", "meeting"]
    # Work completed by A (10) and B (17, now waiting for sign-off); C, E and F are still in it, D exempt.
    # Inclusive quartiles of [10, 17]: q1 = 10 + 0.25·7 = 11.75, q3 = 15.25, p90 = 10 + 0.9·7 = 16.3.
    assert steps["work"]["done"] == pytest.approx({"n": 2, "median": 13.5, "q1": 11.75, "q3": 15.25, "p90": 16.3})
    # In the work now: E (20 days); C is paused and F withdrawn, so neither is counted.
    assert (steps["work"]["now"], steps["work"]["now_median"]) == (1, 20)
    assert steps["sign_off"]["done"]["median"] == 3 and steps["sign_off"]["done"]["n"] == 1  # A only
    assert (steps["sign_off"]["now"], steps["sign_off"]["now_median"]) == (1, 13)  # B, 3 + 10 days
    assert steps["accreditor"]["done"]["median"] == 2 and steps["accreditor"]["now"] == 0
    assert steps["accreditor"]["now_median"] is None
    assert steps["meeting"]["done"]["median"] == 7
    assert [step["step"] for step in stage2["steps"]] == ["work", "sign_off", "accreditor", "meeting", "ratification"]
    assert stage2["steps"][-1]["done"]["median"] == 3


def test_stage_counts_and_waiting_share_over_finished_stages(version):
    stage1, stage2 = version["stages"]
    assert (stage1["code"], stage1["name"]) == ("s1", "Stage 1")
    # Six started stage 1; only A's finished (D's exemption is counted apart); B was returned.
    assert (stage1["started"], stage1["finished"], stage1["exempt"], stage1["returned"]) == (6, 1, 1, 1)
    # A's stage 1: doing 10, waiting 3 + 2 + 7 = 12.
    assert (stage1["doing_days"], stage1["waiting_days"]) == (10, 12)
    assert stage1["waiting_share"] == pytest.approx(12 / 22)
    # A's stage 2: doing 1, waiting 1 + 1 + 1 + 3 = 6.
    assert (stage2["started"], stage2["finished"], stage2["doing_days"], stage2["waiting_days"]) == (1, 1, 1, 6)
    assert stage2["waiting_share"] == pytest.approx(6 / 7)


def test_the_bottleneck_is_the_waiting_step_with_the_longest_median(version):
    # Waiting medians: stage 1 sign-off 3, asking 2, meeting 7; stage 2 1, 1, 1, ratification 3.
    # Stage 1's work (13.5) is longer, but doing the work is not waiting.
    assert version["bottleneck"] == {"stage": "Stage 1", "step": "meeting", "median": 7, "n": 1}


def test_thresholds_are_each_steps_90th_percentile(version):
    thresholds = version["thresholds"]
    assert thresholds["s1:work"] == pytest.approx(16.3)
    assert (thresholds["s1:sign_off"], thresholds["s1:meeting"], thresholds["s2:ratification"]) == (3, 7, 3)


def test_exempt_stages_stay_out_of_the_step_figures():
    exempt_only = Facts(TODAY, {1: VERSION}, [D], [STAGES[4]])
    (version,) = scope_figures(exempt_only, "all")["versions"]
    stage1 = version["stages"][0]
    assert (stage1["started"], stage1["exempt"], stage1["finished"]) == (1, 1, 0)
    assert all(step["done"] is None and step["now"] == 0 for step in stage1["steps"])
    assert stage1["waiting_share"] is None and version["bottleneck"] is None


def test_statuses(version):
    statuses = version["statuses"]
    assert {key: statuses[key] for key in ("total", "active", "paused", "withdrawn", "completed", "ever_paused")} == {
        "total": 6,
        "active": 3,  # B, D, E
        "paused": 1,
        "withdrawn": 1,
        "completed": 1,
        "ever_paused": 3,  # C, D, F
    }
    assert statuses["pause_rate"] == 0.5 and statuses["withdrawal_rate"] == pytest.approx(1 / 6)
    # Pauses: C 21→31 Jan (open, to today) = 10, D 5→9 = 4, F 10→20 = 10. Sorted [4, 10, 10]:
    # median 10, q1 at position 1.5 → 4 + 0.5·6 = 7, q3 at 2.5 → 10.
    assert statuses["pause_days"] == pytest.approx({"n": 3, "median": 10, "q1": 7, "q3": 10, "p90": 10})


def test_survival_censors_everyone_not_accredited(version):
    survival = version["survival"]
    assert (survival["subjects"], survival["events"], survival["censored"]) == (6, 1, 5)
    # F withdrawn on day 19 (1→20 Jan); E censored today on day 20 (11→31 Jan); A accredited on day 29;
    # B, C and D censored today on day 30. S(29) = 1 - 1/4 = 0.75, so no median.
    assert [point[:5] for point in survival["points"]] == [
        [19, 6, 0, 1, 1.0],
        [20, 5, 0, 1, 1.0],
        [29, 4, 1, 0, 0.75],
        [30, 3, 0, 3, 0.75],
    ]
    assert survival["median"] is None and survival["median_upper"] is None
    # The band's lower curve on day 29: Σ = 1/(4·3), spread = 1.96 · 0.28868 / |ln 0.75| = 1.9668,
    # 0.75^exp(1.9668) = 0.75^7.147 = 0.128, already below one half: the interval starts on day 29.
    assert survival["points"][2][5] == pytest.approx(0.128, abs=5e-4)
    assert survival["median_lower"] == 29


def test_observations():
    assert A.observation(TODAY) == (29, True)
    assert F.observation(TODAY) == (19, False)  # censored on the day of withdrawal, not today
    assert E.observation(TODAY) == (20, False)
    assert enrolment(9, EnrolmentStatus.ACTIVE, start=date(2026, 2, 5)).observation(TODAY) == (0, False)


def test_cost_counts_accredited_trainees_and_what_withdrawals_used(version):
    cost = version["cost"]
    # Only A is accredited: 1,380 minutes = 23 h, 4 meetings of an hour: 27 chargeable hours. B's 10 h do not count.
    assert cost["accreditations"] == 1
    assert cost["supervision_hours"]["median"] == 23 and cost["meetings"]["median"] == 4
    assert cost["chargeable_hours"] == {"n": 1, "median": 27, "q1": 27, "q3": 27, "p90": 27}
    # F withdrew having used 330 minutes (5.5 h) and one meeting: 6.5 h.
    assert (cost["withdrawn"], cost["withdrawn_hours"]) == (1, 6.5)


def test_in_scope():
    assert all(person.in_scope("all") for person in (A, E))
    assert A.in_scope("region:1") and A.in_scope("service:10") and A.in_scope("cohort:100")
    assert not A.in_scope("region:10") and not A.in_scope("region:2") and not A.in_scope("cohort:101")
    # E has no service, region or cohort: "None" must not match it.
    assert not E.in_scope("service:None") and not E.in_scope("region:")
    assert not A.in_scope("team:10")


def test_a_scope_keeps_only_its_own_people():
    (version,) = scope_figures(facts(), "region:1")["versions"]  # A, B and F
    assert version["statuses"]["total"] == 3 and version["stages"][0]["started"] == 3
    assert [step["now"] for step in version["stages"][0]["steps"]] == [0, 1, 0, 0]  # B waiting; F withdrawn
    (version,) = scope_figures(facts(), "cohort:100")["versions"]  # A and C
    assert version["statuses"]["total"] == 2 and version["statuses"]["paused"] == 1
    assert scope_figures(facts(), "region:99")["versions"] == []


def test_scopes_of():
    assert scopes_of([A, B, C, D, E, F]) == [
        "all",
        "cohort:100",
        "cohort:101",
        "region:1",
        "region:2",
        "service:10",
        "service:11",
        "service:20",
    ]
    assert scopes_of([]) == ["all"]


def test_by_scope_sorts_everyone_into_each_of_their_scopes_once():
    parts = by_scope(facts())
    assert list(parts) == scopes_of([A, B, C, D, E, F])
    # region:1 holds A, B and F (as in test_a_scope_keeps_only_its_own_people) and their stages 1, 2, 3 and 7.
    assert parts["region:1"].enrolments == [A, B, F]
    assert [stage.record_id for stage in parts["region:1"].stages] == [1, 2, 3, 7]
    assert parts["all"].enrolments == [A, B, C, D, E, F] and len(parts["all"].stages) == 7
    for scope, part in parts.items():
        assert scope_figures(part, scope) == scope_figures(facts(), scope)


def test_headline():
    (line,) = headline(scope_figures(facts(), "all"))
    # Finished stages: doing 10 + 1 = 11, waiting 12 + 6 = 18.
    assert line == {
        "version": "VIG Practitioner (2024)",
        "enrolments": 6,
        "accredited": 1,
        "median": None,
        "median_lower": 29,  # see test_survival_censors_everyone_not_accredited
        "median_upper": None,
        "waiting_share": pytest.approx(18 / 29),
        "withdrawal_rate": pytest.approx(1 / 6),
    }


def test_an_unrecorded_finished_stage_counts_as_started_but_in_no_step():
    imported = stage(8, A, "s1", S.ACCREDITED, jan(1), [])  # accredited, with no move into it
    (version,) = scope_figures(Facts(TODAY, {1: VERSION}, [A], [imported]), "all")["versions"]
    stage1 = version["stages"][0]
    assert (stage1["started"], stage1["finished"], stage1["unrecorded"]) == (1, 0, 1)
    assert all(step["done"] is None for step in stage1["steps"]) and stage1["waiting_share"] is None
    # A's accreditation still counts in time to accreditation.
    assert version["survival"]["events"] == 1
