"""Where the bench keeps each scale's database, on SQLite and on a PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bench import seed
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service, ServiceKind
from vigtrain.organisations.services import ensure_regions


def test_each_scale_has_its_own_database_named_for_the_seed(tmp_path):
    key = seed.seed_key()
    assert seed.database_url(tmp_path, 10) == f"sqlite:///{tmp_path.resolve()}/bench-x10-{key}.db"
    server = "postgresql+psycopg://bench:secret@127.0.0.1:5432/test"
    url = make_url(seed.database_url(tmp_path, 100, server))
    assert (url.database, url.password, url.host) == (f"vigtrain_bench_x100_{key}", "secret", "127.0.0.1")
    assert seed.is_postgresql(server)
    assert not seed.is_postgresql(seed.database_url(tmp_path, 1))


def test_a_sqlite_seed_exists_once_its_file_does(tmp_path):
    url = seed.database_url(tmp_path, 1)
    assert not seed.exists(url)
    seed.database_path(tmp_path, 1).write_bytes(b"")
    assert seed.exists(url)


def test_after_a_seed_with_explicit_ids_the_app_inserts_after_them(app, database_url):
    """PostgreSQL's sequences do not move when a row brings its own id: without the restart, the
    app's next insert would take id 1 again and fail on the primary key."""
    if not seed.is_postgresql(database_url):
        pytest.skip("SQLite takes the next id from the table itself")
    with app.app_context():
        ensure_regions()
        region = db.session.scalar(select(Region.id).limit(1))
        db.session.execute(
            insert(Service).values(id=500, name="Seeded", kind=ServiceKind.NHS_TRUST, region_id=region, is_active=True)
        )
        seed._restart_sequences(db.session.connection())
        added = Service(name="Added later", kind=ServiceKind.NHS_TRUST, region_id=region)
        db.session.add(added)
        db.session.flush()
        assert added.id == 501
        db.session.rollback()
