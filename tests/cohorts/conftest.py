"""People and pathway versions shared by the cohort tests."""

from __future__ import annotations

import pytest

from tests.factories import make_service, make_user, pathway_version
from vigtrain.accounts.models import Role
from vigtrain.extensions import db


@pytest.fixture
def versions(app):
    return {
        "current": pathway_version("vig-practitioner", "2024.1"),
        "old": pathway_version("vig-practitioner", "2015.1"),
    }


@pytest.fixture
def people(app):
    service = make_service("Northshire Trust")
    db.session.commit()
    here = {"service_id": service.id}
    return {
        "admin": make_user("admin@example.org", roles=(Role.ADMINISTRATOR,), name="Ada Admin"),
        "sue": make_user("sue@example.org", roles=(Role.SUPERVISOR,), name="Sue Supervisor", **here),
        "al": make_user("al@example.org", roles=(Role.ACCREDITING_SUPERVISOR,), name="Al Accreditor"),
        "tara": make_user("tara@example.org", roles=(Role.TRAINEE,), name="Tara Trainee", **here),
        "lea": make_user("lea@example.org", roles=(Role.SERVICE_LEAD,), name="Lea Lead", **here),
    }
