"""Schemathesis: requests generated from the OpenAPI document, every answer checked against it.

For each operation it sends valid and invalid requests (examples, boundary values, missing and
wrong-typed fields, other methods, no token) with a token holding every scope, and checks that the
app never answers 5xx, answers only statuses the document lists, with the documented content type
and a body that matches the documented schema. The token's owner is a trainee who is also a
practitioner and a supervisor, with cases, outcome data, sessions to confirm and a certificate to
look up, and a link for a case's client, so that generated requests reach the happy paths as well as the refusals.

A refused request (any 4xx) must also have written nothing: the database's fingerprint (every
table's row count and versions, the audit trail included; see tests/fuzz/fingerprint.py) is the
same after it as before. Each operation gets VIGTRAIN_FUZZ_EXAMPLES examples: 200 in CI, 25 locally.
"""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import issue_token
from tests.certificate_factories import insert_certificate
from tests.factories import make_case, make_cycles, make_enrolment, make_service, make_supervision, make_user
from tests.fuzz import EXAMPLES
from tests.fuzz.fingerprint import changes, fingerprint
from vigtrain import create_app
from vigtrain.accounts.models import Role
from vigtrain.api.openapi import document
from vigtrain.dcs.invitations import create_invitation
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.services import record_administration
from vigtrain.extensions import db

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# The document depends on the code only, so it is loaded once, from an app with no database.
with create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://").app_context():
    schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def seeded(app) -> dict:
    """Records the token's owner can reach: generated ids and codes are swapped for these half the time."""
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    service = make_service("Riverside Family Service", region_code="E12000007")
    owner = make_user(
        "tom@example.org", roles=(Role.PRACTITIONER, Role.TRAINEE, Role.SUPERVISOR), service_id=service.id
    )
    own_supervisor = make_user("sian@example.org", roles=(Role.SUPERVISOR,))
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,))
    own = make_enrolment(owner, own_supervisor, start=date(2025, 9, 1))
    supervised = make_enrolment(trainee, owner, start=date(2025, 9, 1))
    sessions = [make_supervision(supervised, owner, 1, date(2025, 10, day), confirmed=False) for day in (1, 8)]
    (case,) = make_cycles(owner, 2, 1, date(2025, 10, 1))
    case.started_on = date(2025, 9, 15)
    case.consent_dcs, case.consent_dcs_on = True, date(2025, 9, 15)
    record_administration(
        owner, case, "GAD-7", Timepoint.PRE, date(2025, 9, 20), dict.fromkeys("1234567", 2), date.today()
    )
    invitation, _token = create_invitation(owner, case, ["GAD-7"], Timepoint.POST)
    make_case(owner)
    certificate = insert_certificate()
    db.session.commit()
    return {
        "token": issue_token(owner),
        "paths": {
            "code": case.code,
            "enrolment_id": own.id,
            "session_id": sessions[0].id,
            "number": certificate.number,
            "invitation_id": invitation.id,
        },
    }


def _reach_seeded_records(case, known: dict) -> None:
    for name, value in known.items():
        parameters = case.path_parameters or {}
        if name in parameters and len(str(parameters[name])) % 2 == 0:
            parameters[name] = value


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case, app, seeded):
    _reach_seeded_records(case, seeded["paths"])
    # Read afresh each time: a request that succeeded may have changed the world, as it should.
    before = fingerprint()
    response = case.call_and_validate(app=app, headers={"Authorization": f"Bearer {seeded['token']}"}, checks=CHECKS)
    if 400 <= response.status_code < 500:
        moved = changes(before, fingerprint())
        assert not moved, f"{case.method} {case.formatted_path} was refused ({response.status_code}) but wrote {moved}"
