"""The renewal rule as a number: every shipped file states it as its text does, versions loaded before
the number existed are brought to it by the migration (so sync still finds them unchanged), and a
version from a file without it keeps loading."""

from __future__ import annotations

import os
import re
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from vigtrain import create_app
from vigtrain.audit import AuditEvent
from vigtrain.extensions import db
from vigtrain.pathways.definitions import load_pathway_files, pathway_from_json
from vigtrain.pathways.models import PathwayVersion
from vigtrain.pathways.services import sync_pathways

BEFORE = "d7f9b1c3e5a8"  # the last revision before the number


def test_each_shipped_file_states_the_hours_its_text_gives():
    for pathway in load_pathway_files():
        stated = re.search(r"At least (\d+(?:\.\d+)?) hours", pathway.renewal_evidence)
        assert stated, pathway.code
        assert pathway.renewal_supervision_hours == float(stated.group(1)), (pathway.code, pathway.version)
    hours = {(p.code, p.version): p.renewal_supervision_hours for p in load_pathway_files()}
    assert hours[("verp-practitioner", "2024.1")] == 4 and hours[("vig-practitioner", "2024.1")] == 6


def test_a_definition_without_the_number_keeps_its_checksum(app):
    """A version loaded from a file that predates the number reads back with none, and the same
    file syncs again unchanged."""
    shipped = load_pathway_files()[0]
    older = shipped.model_copy(update={"code": "older-pathway", "renewal_supervision_hours": None})
    assert "renewal_supervision_hours" not in older.canonical_json()
    added, _ = sync_pathways([older])
    db.session.commit()
    assert added[0].definition.renewal_supervision_hours is None
    assert sync_pathways([older]) == ([], added)


def _as_stored_before(pathway) -> str:
    """The definition as vigtrain stored it before the field existed."""
    return pathway.model_copy(update={"renewal_supervision_hours": None}).canonical_json()


def _check_migration(url: str) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(revision=BEFORE)
        files = load_pathway_files()
        custom = files[0].model_copy(update={"code": "custom-pathway", "renewal_supervision_hours": None})
        with db.engine.begin() as connection:
            for pathway in [*files, custom]:
                stored = _as_stored_before(pathway)
                connection.execute(
                    sa.insert(PathwayVersion.__table__).values(
                        code=pathway.code,
                        version=pathway.version,
                        name=pathway.name,
                        credential=pathway.credential,
                        provisional=pathway.is_provisional,
                        definition_json=stored,
                        checksum=pathway.model_copy(update={"renewal_supervision_hours": None}).checksum(),
                        loaded_at=sa.func.now(),
                    )
                )
        upgrade()
        added, unchanged = sync_pathways([*files, custom])
        assert added == [] and len(unchanged) == len(files) + 1  # the same files sync as unchanged
        hours = {(v.code, v.version): v.definition.renewal_supervision_hours for v in unchanged}
        assert hours[("verp-practitioner", "2024.1")] == 4 and hours[("custom-pathway", custom.version)] is None
        recorded = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "pathway.renewal_hours_recorded")
        ).all()
        assert len(recorded) == len(files) and recorded[0].after["renewal_supervision_hours"] in (4.0, 6.0)
        db.session.rollback()

        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            stored = connection.execute(sa.select(PathwayVersion.definition_json)).scalars().all()
        assert all("renewal_supervision_hours" not in text for text in stored)
        assert {pathway_from_json(text).checksum() for text in stored} == {
            pathway.model_copy(update={"renewal_supervision_hours": None}).checksum() for pathway in [*files, custom]
        }
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_the_migration_adds_the_number_to_stored_versions_on_sqlite(tmp_path):
    _check_migration(f"sqlite:///{tmp_path / 'renewal.db'}")


@pytest.mark.postgres
def test_the_migration_adds_the_number_to_stored_versions_on_postgresql():
    server = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"vigtrain_renewal_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        _check_migration(server.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
