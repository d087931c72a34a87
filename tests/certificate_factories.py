"""Builders for certificate tests: stage records that have earned a certificate, quickly.

Stage states are set directly (the sign-off chain has its own tests); each builder commits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select

from tests.factories import make_enrolment, make_supervision, make_user, pathway_version
from vigtrain.accounts.models import Role, User
from vigtrain.certificates import services
from vigtrain.certificates.models import Certificate
from vigtrain.extensions import db
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord, StageState

ISSUE_DAY = date(2026, 3, 2)


def make_supervisor(name: str = "Sian Supervisor") -> User:
    return make_user(roles=(Role.SUPERVISOR, Role.PRACTITIONER), name=name)


def make_earned_record(
    trainee: User | None = None, final: bool = True, code: str = "vig-practitioner", version: str = "2024.1"
) -> StageRecord:
    """A ratified final stage (or an accredited Stage 1) of a fresh enrolment."""
    trainee = trainee or make_user(roles=(Role.TRAINEE,))
    enrolment = make_enrolment(trainee, code=code, version=version)
    for record in enrolment.stages:
        if record.is_final:
            record.state = StageState.RATIFIED if final else StageState.IN_PROGRESS
        elif record.position == 0:
            record.state = StageState.COMPLETE
        else:
            record.state = StageState.ACCREDITED
    if final:
        enrolment.status = EnrolmentStatus.COMPLETED
    db.session.commit()
    return next(r for r in enrolment.stages if r.is_final) if final else enrolment.stages[1]


def issue(record: StageRecord, admin: User, on: date = ISSUE_DAY) -> Certificate:
    certificate = services.issue_certificate(admin, record, on)
    db.session.commit()
    return certificate


def make_certificate(admin: User, trainee: User | None = None, on: date = ISSUE_DAY) -> Certificate:
    return issue(make_earned_record(trainee), admin, on)


def supervise(certificate: Certificate, on: date, hours: float = 1.0, confirmed: bool = True):
    """Supervision for the holder dated `on` (on the enrolment the certificate came from)."""
    supervisor = make_supervisor()
    return make_supervision(certificate.enrolment, supervisor, hours, on, confirmed=confirmed)


def insert_ratified_records(count: int) -> list[int]:
    """`count` trainees with a ratified final stage, inserted in bulk (for the bulk issue tests)."""
    version = pathway_version()
    stages = version.definition.stages
    start = len(db.session.scalars(select(User.id)).all())
    users = [
        {
            "email": f"bulk{start + n}@example.org",
            "display_name": f"Bulk Trainee {start + n}",
            "session_version": 1,
            "security_stamp": f"{start + n:032d}",
            "failed_login_count": 0,
            "is_active": True,
            "register_opt_in": False,
        }
        for n in range(count)
    ]
    user_ids = list(db.session.scalars(insert(User).returning(User.id), users))
    enrolment_ids = list(
        db.session.scalars(
            insert(Enrolment).returning(Enrolment.id),
            [
                {
                    "trainee_id": user_id,
                    "pathway_version_id": version.id,
                    "start_date": date(2024, 1, 1),
                    "status": EnrolmentStatus.COMPLETED,
                    "version": 1,
                }
                for user_id in user_ids
            ],
        )
    )
    rows = []
    for enrolment_id in enrolment_ids:
        for position, stage in enumerate(stages):
            final = position == len(stages) - 1
            rows.append(
                {
                    "enrolment_id": enrolment_id,
                    "stage_code": stage.code,
                    "position": position,
                    "state": StageState.RATIFIED if final else StageState.EXEMPT,
                    "is_final": final,
                    "course_sessions_attended": 0,
                    "version": 1,
                }
            )
    db.session.execute(insert(StageRecord), rows)
    db.session.commit()
    return list(
        db.session.scalars(
            select(StageRecord.id).where(StageRecord.enrolment_id.in_(enrolment_ids), StageRecord.is_final.is_(True))
        )
    )
