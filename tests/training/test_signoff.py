"""The sign-off chain as a state machine: every move, every refusal, version pinning."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import (
    complete_assessments,
    make_cycles,
    make_enrolment,
    make_supervision,
    make_user,
    pathway_version,
)
from vigtrain.accounts.models import Role
from vigtrain.errors import Conflict, DomainError, PermissionDenied
from vigtrain.extensions import db
from vigtrain.pathways import services as pathway_versions
from vigtrain.pathways.models import EnrolmentStatus, StageState
from vigtrain.training import services as training
from vigtrain.training import signoff
from vigtrain.training.progress import stage_progress

TODAY = date(2026, 11, 1)


@pytest.fixture
def people(app):
    trainee = make_user("trainee@example.org", roles=(Role.TRAINEE,), name="Tara Trainee")
    supervisor = make_user("sup@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Sue Sup")
    accreditor = make_user("acc@example.org", roles=(Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), name="Al Acc")
    admin = make_user("boss@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin")
    return trainee, supervisor, accreditor, admin


def _finish_itc(enrolment, supervisor, trainee):
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    signoff.sign_off_stage(supervisor, itc, None, date(2026, 2, 1), itc.version)
    db.session.commit()
    return enrolment.stages[1]


def _ready_stage(record, trainee, supervisor, enrolment, cycles, clients, hours, on):
    make_cycles(trainee, cycles, clients, on)
    make_supervision(enrolment, supervisor, hours, on)
    training.save_statement_text(trainee, record, "What I learned about receiving initiatives this stage.")
    complete_assessments(record, trainee, supervisor)


def test_walk_from_itc_to_ratified(people):
    trainee, supervisor, accreditor, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    assert enrolment.stages[0].state is StageState.COMPLETE
    assert stage1.state is StageState.IN_PROGRESS and stage1.started_on == date(2026, 2, 1)

    windows = [(6, 2, 7, date(2026, 3, 1)), (9, 3, 8, date(2026, 6, 1)), (12, 3, 8, date(2026, 9, 1))]
    meeting_days = [date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)]
    for record, (cycles, clients, hours, on), meeting in zip(enrolment.stages[1:], windows, meeting_days, strict=True):
        _ready_stage(record, trainee, supervisor, enrolment, cycles, clients, hours, on)
        progress = stage_progress(record)
        assert progress.all_met, [s.left for s in progress.unmet]
        signoff.submit_stage(trainee, record, record.version)
        signoff.sign_off_stage(supervisor, record, "Well done", TODAY, record.version)
        signoff.request_accreditor(admin, record, accreditor, record.version)
        signoff.accredit_stage(accreditor, record, meeting, "Accredited", TODAY, record.version)
        db.session.commit()
    final = enrolment.stages[-1]
    assert final.state is StageState.ACCREDITED
    signoff.ratify_stage(admin, final, TODAY, final.version)
    db.session.commit()
    assert final.state is StageState.RATIFIED
    assert enrolment.status is EnrolmentStatus.COMPLETED
    assert [t.to_state for t in final.transitions][-1] is StageState.RATIFIED


def test_cycles_count_in_the_stage_current_on_their_shared_review_date(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    make_cycles(trainee, 2, 1, date(2026, 1, 20))  # during the ITC: not stage 1
    make_cycles(trainee, 4, 2, date(2026, 2, 10))
    progress = stage_progress(stage1)
    cycles = progress.status_for(progress.requirements[0].kind)
    assert cycles.figure == "4 of 6 cycles"
    assert cycles.left == "2 more VIG cycles with a shared review"
    clients = progress.requirements[1]
    assert clients.figure == "2 clients needed: 2 so far, done" and clients.met


def test_only_confirmed_supervision_counts(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    make_supervision(enrolment, supervisor, 5, date(2026, 2, 10))
    make_supervision(enrolment, supervisor, 2, date(2026, 2, 11), confirmed=False)
    hours = stage_progress(stage1).requirements[2]
    assert hours.figure == "5 h of 7 h confirmed"


def test_submit_refused_until_requirements_met(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    version = stage1.version
    with pytest.raises(DomainError, match="not ready to submit"):
        signoff.submit_stage(trainee, stage1, version)
    assert stage1.state is StageState.IN_PROGRESS


def test_nobody_signs_their_own_work(people):
    trainee, supervisor, accreditor, admin = people
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    itc = enrolment.stages[0]
    with pytest.raises(PermissionDenied):
        signoff.confirm_attendance(trainee, itc, 4, itc.version)
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    with pytest.raises(PermissionDenied):
        signoff.submit_stage(supervisor, itc, itc.version)
    signoff.submit_stage(trainee, itc, itc.version)
    for wrong in (trainee, accreditor, admin):
        with pytest.raises(PermissionDenied):
            signoff.sign_off_stage(wrong, itc, None, TODAY, itc.version)


def test_accreditor_must_hold_the_role_and_not_be_the_personal_supervisor(people):
    trainee, supervisor, accreditor, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    _ready_stage(stage1, trainee, supervisor, enrolment, 6, 2, 7, date(2026, 3, 1))
    signoff.submit_stage(trainee, stage1, stage1.version)
    signoff.sign_off_stage(supervisor, stage1, None, TODAY, stage1.version)
    with pytest.raises(DomainError, match="must not be the trainee's personal supervisor"):
        signoff.request_accreditor(admin, stage1, supervisor, stage1.version)
    plain = make_user("plain@example.org", roles=(Role.SUPERVISOR,))
    with pytest.raises(DomainError, match="accrediting supervisor role"):
        signoff.request_accreditor(admin, stage1, plain, stage1.version)
    with pytest.raises(PermissionDenied):
        signoff.request_accreditor(trainee, stage1, accreditor, stage1.version)
    signoff.request_accreditor(supervisor, stage1, accreditor, stage1.version)
    with pytest.raises(PermissionDenied):
        signoff.accredit_stage(supervisor, stage1, date(2026, 4, 1), None, TODAY, stage1.version)


def test_returned_stage_carries_comments_back_and_can_be_resubmitted(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    _ready_stage(stage1, trainee, supervisor, enrolment, 6, 2, 7, date(2026, 3, 1))
    signoff.submit_stage(trainee, stage1, stage1.version)
    with pytest.raises(DomainError, match="Write comments"):
        signoff.return_stage(supervisor, stage1, "  ", stage1.version)
    signoff.return_stage(supervisor, stage1, "Add more on deepening discussion.", stage1.version)
    assert stage1.state is StageState.RETURNED
    assert stage1.transitions[-1].comments == "Add more on deepening discussion."
    signoff.submit_stage(trainee, stage1, stage1.version)
    assert stage1.state is StageState.SUBMITTED


def test_stale_version_is_a_conflict_and_changes_nothing(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    itc = enrolment.stages[0]
    seen = itc.version
    signoff.confirm_attendance(supervisor, itc, 4, seen)
    db.session.commit()
    with pytest.raises(Conflict):
        signoff.submit_stage(trainee, itc, seen)
    assert itc.state is StageState.IN_PROGRESS


def test_exemption_recognises_prior_learning(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    itc = enrolment.stages[0]
    with pytest.raises(DomainError, match="reason"):
        signoff.record_exemption(admin, itc, "short", TODAY, itc.version)
    with pytest.raises(PermissionDenied):
        signoff.record_exemption(supervisor, itc, "Completed equivalent VIG course in 2019", TODAY, itc.version)
    signoff.record_exemption(admin, itc, "Completed the equivalent Dutch VIB course in 2019", TODAY, itc.version)
    assert itc.state is StageState.EXEMPT
    assert enrolment.stages[1].state is StageState.IN_PROGRESS


def test_enrolment_stays_on_its_version(people):
    trainee, supervisor, _, admin = people
    old = make_enrolment(trainee, supervisor, version="2015.1", actor=admin)
    assert [s.stage_code for s in old.stages] == ["itc", "first-half", "second-half"]
    assert old.pathway_version.version == "2015.1"
    assert pathway_version("vig-practitioner", "2024.1").id != old.pathway_version_id
    assert stage_progress(old.stages[1]).requirements[0].requirement.target == 9


def test_paused_enrolment_cannot_move(people):
    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, actor=admin)
    training.set_enrolment_status(admin, enrolment, EnrolmentStatus.PAUSED, "Maternity leave", enrolment.version)
    itc = enrolment.stages[0]
    signoff.confirm_attendance(supervisor, itc, 4, itc.version)
    with pytest.raises(DomainError, match="paused"):
        signoff.submit_stage(trainee, itc, itc.version)


def test_version_ordering_is_numeric():
    assert pathway_versions.version_key("2024.10") > pathway_versions.version_key("2024.9")
    assert pathway_versions.version_key("2025.1") > pathway_versions.version_key("2024.12")


def test_deactivated_people_cannot_be_enrolled(people):
    trainee, supervisor, _, admin = people
    trainee.is_active_flag = False
    with pytest.raises(DomainError, match="deactivated"):
        make_enrolment(trainee, supervisor, actor=admin)


def test_cycle_in_a_submitted_or_finished_stage_cannot_be_deleted(people):
    from vigtrain.casework.services import delete_cycle

    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    (itc_case,) = make_cycles(trainee, 1, 1, date(2026, 1, 10))  # during the ITC, which then finishes
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    _ready_stage(stage1, trainee, supervisor, enrolment, 6, 2, 7, date(2026, 3, 1))
    (open_case,) = make_cycles(trainee, 1, 1, date(2026, 3, 2))
    delete_cycle(trainee, open_case.cycles[0])  # stage 1 still open: allowed
    signoff.submit_stage(trainee, stage1, stage1.version)
    (_, stage1_case) = make_cycles(trainee, 2, 2, date(2026, 3, 3))
    for cycle in (itc_case.cycles[0], stage1_case.cycles[0]):
        with pytest.raises(DomainError, match="cannot be deleted"):
            delete_cycle(trainee, cycle)


def test_whoever_acts_next_is_told_by_email(people):
    from sqlalchemy import select

    from vigtrain.notifications.models import OutboxMessage

    trainee, supervisor, _, admin = people
    enrolment = make_enrolment(trainee, supervisor, start=date(2026, 1, 5), actor=admin)
    stage1 = _finish_itc(enrolment, supervisor, trainee)
    _ready_stage(stage1, trainee, supervisor, enrolment, 6, 2, 7, date(2026, 3, 1))
    signoff.submit_stage(trainee, stage1, stage1.version)
    signoff.return_stage(supervisor, stage1, "Please add your clip choices.", stage1.version)
    db.session.commit()
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    to_supervisor = [m for m in messages if m.to_address == supervisor.email]
    to_trainee = [m for m in messages if m.to_address == trainee.email]
    assert any("has submitted Stage 1" in m.subject for m in to_supervisor)
    returned = next(m for m in to_trainee if "returned" in m.subject)
    assert "Please add your clip choices." in returned.body
