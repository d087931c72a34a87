"""Certificates made directly in the database, for the public verification and register tests.

Issuing through the sign-off chain is tested elsewhere; these tests need certificates in every
state quickly, so they insert them with the facts issuing would copy.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.factories import make_enrolment, make_service, make_user
from vigtrain import codes
from vigtrain.certificates.models import (
    NUMBER_PREFIX,
    Certificate,
    CertificateKind,
    CertificateStatus,
    ReplacementReason,
)
from vigtrain.extensions import db

ISSUED = date(2026, 3, 2)
VALID_UNTIL = date(2029, 3, 1)


def make_holder(name: str = "Hana Holder", region_code: str = "E12000003", listed: bool = False, **fields):
    service = make_service(region_code=region_code)
    return make_user(name=name, service_id=service.id, register_opt_in=listed, **fields)


def make_certificate(
    holder=None,
    *,
    kind: CertificateKind = CertificateKind.ACCREDITATION,
    status: CertificateStatus = CertificateStatus.VALID,
    issued_on: date = ISSUED,
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
