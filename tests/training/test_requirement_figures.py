"""Requirement figures read naturally either side of the target, and a pathway may ask for cycles
reviewed in supervision (no shipped pathway does)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_case, make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.casework.models import Cycle
from vigtrain.extensions import db
from vigtrain.pathways import definitions
from vigtrain.pathways.definitions import Requirement, RequirementKind, load_pathway_files
from vigtrain.supervision import sessions
from vigtrain.supervision.sessions import SessionFacts
from vigtrain.training import signoff
from vigtrain.training.progress import RequirementStatus, progress_for

TODAY = date(2026, 3, 2)  # the clock fixture's day


@pytest.mark.parametrize(
    ("kind", "target", "value", "figure"),
    [
        (RequirementKind.NEW_CLIENTS, 2, 1, "1 of 2 clients"),
        (RequirementKind.NEW_CLIENTS, 2, 3, "2 clients needed: 3 so far, done"),
        (RequirementKind.NEW_CLIENTS, 1, 1, "1 client needed: 1 so far, done"),
        (RequirementKind.CYCLES, 6, 6, "6 cycles needed: 6 so far, done"),
        (RequirementKind.SUPERVISION_HOURS, 7, 5, "5 h of 7 h confirmed"),
        (RequirementKind.SUPERVISION_HOURS, 7, 12.5, "7 h needed: 12.5 h confirmed, done"),
        (RequirementKind.CYCLES_REVIEWED, 3, 1, "1 of 3 cycles"),
    ],
)
def test_a_figure_reads_naturally_short_of_and_past_its_target(kind, target, value, figure):
    status = RequirementStatus(Requirement(kind=kind, target=target), value, met=value >= target)
    assert status.figure == figure


def test_no_shipped_pathway_asks_for_cycles_reviewed():
    kinds = {
        requirement.kind
        for pathway in load_pathway_files()
        for stage in pathway.stages
        for requirement in stage.active_requirements
    }
    assert RequirementKind.CYCLES_REVIEWED not in kinds and RequirementKind.CYCLES in kinds


def test_a_pathway_that_asks_counts_each_cycle_reviewed_in_confirmed_supervision_once(app, clock, monkeypatch):
    trainee = make_user("tara@example.org", name="Tara Trainee")
    supervisor = make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor")
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    signoff.sign_off_stage(supervisor, itc, None, date(2026, 2, 1), itc.version)
    stage_code = enrolment.stages[1].stage_code
    asked = Requirement(kind=RequirementKind.CYCLES_REVIEWED, target=2)
    plain = definitions.Stage.active_requirements.fget
    monkeypatch.setattr(
        definitions.Stage,
        "active_requirements",
        property(lambda stage: plain(stage) + ((asked,) if stage.code == stage_code else ())),
    )
    case = make_case(trainee)
    cycles = [
        Cycle(case=case, filmed_on=day, shared_review_on=day, clips_count=2, principles=[])
        for day in (date(2026, 1, 20), date(2026, 2, 3), date(2026, 2, 4))
    ]
    db.session.add_all(cycles)
    db.session.flush()

    def log(day: date, *reviewed: Cycle, confirm: bool = True) -> None:
        session = sessions.log_session(
            trainee, enrolment, SessionFacts(session_date=day, cycle_ids=tuple(c.id for c in reviewed)), TODAY
        )
        if confirm:
            sessions.confirm_session(supervisor, session, session.version)

    log(date(2026, 1, 27), cycles[0])  # before the stage began: counts in the initial course
    log(date(2026, 2, 10), cycles[0], cycles[1])
    log(date(2026, 2, 17), cycles[1])  # the same cycle again: counted once
    log(date(2026, 2, 24), cycles[2], confirm=False)  # awaiting confirmation: not counted
    db.session.commit()

    def status() -> RequirementStatus:
        stage = next(p for p in progress_for([enrolment])[enrolment.id] if p.record.stage_code == stage_code)
        return stage.status_for(RequirementKind.CYCLES_REVIEWED)

    assert (status().value, status().met, status().figure) == (2, True, "2 cycles needed: 2 so far, done")
    assert status().left is None
