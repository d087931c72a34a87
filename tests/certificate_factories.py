"""Builders for certificate tests, quickly.

`make_earned_record` sets stage states directly (the sign-off chain has its own tests) and
`make_certificate` issues through the certificate service; `insert_certificate` writes a
certificate in any state straight to the database, with the facts issuing would copy, for the
verification, register and credential tests. Each builder commits.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, insert, select

from tests.factories import make_enrolment, make_service, make_supervision, make_user, pathway_version
from vigtrain import codes
from vigtrain.accounts.models import Role, User
from vigtrain.certificates import services
from vigtrain.certificates.models import (
    NUMBER_PREFIX,
    Certificate,
    CertificateKind,
    CertificateStatus,
    ReplacementReason,
)
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


def make_accredited(
    admin: User,
    supervisor: User | None = None,
    accredited_on: date = ISSUE_DAY,
    email: str | None = None,
    name: str = "Nadia Hussain",
    code: str = "vig-practitioner",
    version: str = "2024.1",
) -> Certificate:
    """An accredited practitioner: their record ratified on `accredited_on`, as ratifying does it
    (completed that day, so it carries on as their continuing record, with `supervisor` as their
    personal supervisor), and the accreditation issued that day."""
    practitioner = make_user(email, roles=(Role.TRAINEE,), name=name)
    enrolment = make_enrolment(
        practitioner, supervisor, code=code, version=version, start=accredited_on - timedelta(days=540), actor=admin
    )
    practitioner.set_roles({Role.PRACTITIONER})  # a trainee when enrolled, accredited since
    for record in enrolment.stages:
        if record.is_final:
            record.state, record.ended_on = StageState.RATIFIED, accredited_on
        else:
            record.state = StageState.ACCREDITED if record.position else StageState.COMPLETE
    enrolment.status, enrolment.completed_on = EnrolmentStatus.COMPLETED, accredited_on
    enrolment.mark_current_stage()
    db.session.commit()
    return issue(next(r for r in enrolment.stages if r.is_final), admin, accredited_on)


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


# --- certificates written straight to the database (verification, register, credentials) -------


VALID_UNTIL = date(2029, 3, 1)


def make_holder(name: str = "Hana Holder", region_code: str = "E12000003", listed: bool = False, **fields):
    service = make_service(region_code=region_code)
    return make_user(name=name, service_id=service.id, register_opt_in=listed, **fields)


def insert_certificate(
    holder=None,
    *,
    kind: CertificateKind = CertificateKind.ACCREDITATION,
    status: CertificateStatus = CertificateStatus.VALID,
    issued_on: date = ISSUE_DAY,
    valid_until: date | None = VALID_UNTIL,
    reason: str | None = None,
    replaces: Certificate | None = None,
    code: str = "vig-practitioner",
    version: str = "2024.1",
    stage_number: int = 2,
    enrolment=None,
) -> Certificate:
    holder = holder or make_holder()
    enrolment = enrolment or (replaces.enrolment if replaces else make_enrolment(holder, code=code, version=version))
    pathway = enrolment.pathway
    if kind is CertificateKind.STAGE:
        stage = pathway.stages[stage_number - 1]
        credential, stage_name, valid_until = f"{stage.name} of the {pathway.name} pathway", stage.name, None
        record = enrolment.stage_record(stage.code)
    else:
        credential, stage_name, stage_number = pathway.credential, None, None
        record = enrolment.stage_record(pathway.final_stage.code)
    index = (db.session.scalar(select(func.max(Certificate.status_index))) or 0) + 1
    certificate = Certificate(
        number=codes.generate(NUMBER_PREFIX),
        kind=kind,
        issue_key=f"reissue:{replaces.id}" if replaces else f"stage:{record.id}",
        holder_id=holder.id,
        holder_name=holder.display_name,
        credential=credential,
        pathway_code=code,
        pathway_version=version,
        pathway_title=pathway.name,
        stage_number=stage_number,
        stage_name=stage_name,
        enrolment_id=enrolment.id,
        stage_record_id=record.id,
        issued_on=issued_on,
        valid_until=valid_until,
        status=status,
        status_reason=reason,
        replaces_id=replaces.id if replaces else None,
        replacement_reason=ReplacementReason.NAME_CHANGE if replaces else None,
        status_index=index,
    )
    db.session.add(certificate)
    if replaces is not None:
        replaces.status = CertificateStatus.SUPERSEDED
    db.session.commit()
    return certificate
