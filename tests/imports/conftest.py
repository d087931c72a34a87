from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_admin, make_service, make_user, pathway_version
from tests.imports.files import SERVICE
from vigtrain.accounts.models import Role
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db

TODAY = date(2026, 12, 7)


@pytest.fixture
def intake(app):
    """What the intake file refers to: its service, a held supervisor, its cohort, and an administrator."""
    make_service(SERVICE)
    version = pathway_version("vig-practitioner", "2024.1")
    db.session.add(Cohort(name="Intake 2027", pathway_version=version, starts_on=date(2027, 1, 11)))
    make_user("held.supervisor@example.org", roles=(Role.SUPERVISOR,), name="Held Supervisor")
    admin = make_admin()
    db.session.commit()
    return admin


@pytest.fixture(autouse=True)
def own_staging_folder(app, tmp_path):
    """Each test stages its files in a folder of its own, so counting them means something."""
    app.config["IMPORT_FOLDER"] = str(tmp_path / "imports")
