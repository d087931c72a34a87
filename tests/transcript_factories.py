"""A small, realistic training record for transcript tests (web and browser): builds and commits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.certificate_factories import insert_certificate
from tests.factories import make_admin, make_enrolment, make_supervision, make_user
from vigtrain.accounts.models import Role
from vigtrain.certificates.models import CertificateKind
from vigtrain.extensions import db
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Assessment, AssessmentKind, StageState, StageTransition


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def make_training_record() -> dict:
    """Tara: the course done, Stage 1 accredited (dated steps, confirmed and unconfirmed supervision,
    both assessments), Stage 2 under way with a self-assessment still open, a stage certificate."""
    admin = make_admin()
    supervisor = make_user(roles=(Role.SUPERVISOR, Role.PRACTITIONER), name="Sian Supervisor")
    tara = make_user("tara@example.org", name="Tara Trainee")
    enrolment = make_enrolment(tara, supervisor, start=date(2025, 9, 1), actor=admin)
    itc, stage_1, stage_2 = (enrolment.stage_record(code) for code in ("itc", "stage-1", "stage-2"))
    itc.state, itc.started_on, itc.ended_on = StageState.COMPLETE, date(2025, 9, 1), date(2025, 10, 1)
    stage_1.state, stage_1.started_on, stage_1.ended_on = StageState.ACCREDITED, date(2025, 10, 1), date(2026, 3, 1)
    stage_1.submitted_at, stage_1.signed_off_at = at(date(2026, 2, 2)), at(date(2026, 2, 9))
    stage_1.accredited_at = at(date(2026, 2, 27))
    stage_2.state, stage_2.started_on = StageState.IN_PROGRESS, date(2026, 3, 1)
    # The course's end is recorded only in its history.
    db.session.add(
        StageTransition(
            stage_record=itc,
            from_state=StageState.IN_PROGRESS,
            to_state=StageState.COMPLETE,
            actor_id=admin.id,
            occurred_at=at(date(2025, 9, 30)),
        )
    )
    codes = principles().codes

    def assessment(record, kind, assessor, rating: int, evidence: str = "") -> Assessment:
        """Every principle rated alike."""
        ratings = {code: {"rating": rating, "evidence": evidence} for code in codes}
        return Assessment(
            stage_record_id=record.id, kind=kind, assessor_id=assessor.id, ratings=ratings, principles_version=1
        )

    db.session.add_all(
        [
            assessment(stage_1, AssessmentKind.SUPERVISOR, supervisor, 4, "Case ABC-123 went well"),
            assessment(stage_1, AssessmentKind.SELF, tara, 3),
            assessment(stage_2, AssessmentKind.SELF, tara, 2),
        ]
    )
    db.session.commit()
    for day, hours in ((date(2025, 10, 13), 1), (date(2025, 11, 10), 1.5), (date(2026, 1, 12), 1)):
        make_supervision(enrolment, supervisor, hours, day)
    make_supervision(enrolment, supervisor, 2, date(2026, 2, 16), confirmed=False)  # not confirmed: not counted
    make_supervision(enrolment, supervisor, 1, date(2026, 3, 5))
    certificate = insert_certificate(
        tara, kind=CertificateKind.STAGE, stage_number=2, enrolment=enrolment, issued_on=date(2026, 3, 6)
    )
    return {"admin": admin, "tara": tara, "supervisor": supervisor, "certificate": certificate}
