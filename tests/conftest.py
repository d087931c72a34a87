"""Fixtures: a clean database per test, an app, a client that sends CSRF tokens, logins.

The database is SQLite unless VIGTRAIN_TEST_DB=postgres (then TEST_DATABASE_URL). Tiers whose
tools are missing skip with a reason locally; under CI=true they fail instead.
"""

from __future__ import annotations

import contextvars
import copy
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from vigtrain import create_app
from vigtrain.extensions import db, limiter
from vigtrain.organisations.services import ensure_regions

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = "/usr/bin/chromium"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SUBMISSION_KEY_INPUT = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')


def _test_database() -> str:
    return os.environ.get("VIGTRAIN_TEST_DB", "sqlite")


def pytest_report_header(config) -> str:
    return f"vigtrain test database: {_test_database()}"


def _missing_tier_reasons() -> dict[str, str | None]:
    return {
        "browser": None if Path(CHROMIUM).exists() else f"Debian's chromium is not installed at {CHROMIUM}",
        "postgres": None if os.environ.get("TEST_DATABASE_URL") else "TEST_DATABASE_URL is not set",
        "redis": None if os.environ.get("TEST_REDIS_URL") else "TEST_REDIS_URL is not set",
    }


def pytest_collection_modifyitems(config, items) -> None:
    if _test_database() == "postgres":
        _only_database_tests(config, items)
    missing = _missing_tier_reasons()
    for item in items:
        for tier, reason in missing.items():
            if reason and tier in item.keywords:
                if IN_CI:
                    item.user_properties.append(("missing", f"{tier}: {reason}"))
                else:
                    item.add_marker(pytest.mark.skip(reason=f"{tier} tier skipped: {reason}"))


def _only_database_tests(config, items) -> None:
    """The PostgreSQL tier runs the tests that use the test database (`database_url`): the others
    (scoring, disclosure control, parsers, the bench's own tests, checks against PostgreSQL by its
    own address) read no database of the tier's, and the SQLite tier has run them already."""
    kept = [item for item in items if "database_url" in getattr(item, "fixturenames", ())]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in set(kept)])
        items[:] = kept


def pytest_runtest_setup(item) -> None:
    """Under CI=true a tier whose tools are missing fails instead of skipping."""
    reasons = [value for key, value in item.user_properties if key == "missing"]
    if reasons:
        pytest.fail(f"required in CI but unavailable: {'; '.join(reasons)}")


def _worker_index() -> int | None:
    """This process's number when pytest-xdist runs the suite in several (gw0, gw1, ...), else None."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None


def _worker_postgres_database(url: str) -> str:
    """Each parallel worker gets its own database on the server (`<name>_gw<N>`, made when missing),
    because every test empties every table."""
    index = _worker_index()
    if index is None:
        return url
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    server = make_url(url)
    name = f"{server.database}_gw{index}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).scalar():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """TEST_REDIS_URL, with a database number of its own for each parallel worker (15, 14, ...)."""
    url = os.environ["TEST_REDIS_URL"]
    index = _worker_index()
    base, _, number = url.rpartition("/")
    if index is None or not number.isdigit():
        return url
    return f"{base}/{(int(number) - index) % 16}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """Build the schema once per run; each test then starts from empty tables."""
    if _test_database() == "postgres":
        url = _worker_postgres_database(os.environ["TEST_DATABASE_URL"])
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'vigtrain-test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        db.create_all()
        db.engine.dispose()
    return url


RESTART_SEQUENCES = (
    "SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
)


def _empty_all_tables() -> None:
    """DELETE every table, children first, then restart the id counters.

    On PostgreSQL this is about ten times quicker than TRUNCATE for the nearly empty tables a test
    leaves, which matters when it runs after each of three thousand tests.
    """
    tables = db.metadata.sorted_tables
    with db.engine.begin() as connection:
        for table in reversed(tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            connection.execute(text(RESTART_SEQUENCES))
        elif _has_sqlite_sequence(connection):
            connection.execute(text("DELETE FROM sqlite_sequence"))


def _has_sqlite_sequence(connection) -> bool:
    return bool(connection.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


class Client(FlaskClient):
    """A test client that fills in the CSRF token from the page, as a browser would.

    Each request runs in an empty context, so it gets its own application context, `g` and
    database session even though the test holds one open: requests share nothing but cookies.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self, page: str) -> str:
        return self.hidden_fields(page)["csrf_token"]

    def hidden_fields(self, page: str) -> dict[str, str]:
        """The CSRF token and (on a creating form) the one-time submission key the page renders."""
        html = self.get(page).get_data(as_text=True)
        match = CSRF_INPUT.search(html)
        assert match, f"no CSRF token on {page}"
        fields = {"csrf_token": match.group(1)}
        if key := SUBMISSION_KEY_INPUT.search(html):
            fields["submission_key"] = key.group(1)
        return fields

    def submit(self, url: str, data: dict | None = None, page: str | None = None, **kwargs):
        """POST a form to `url` with the hidden CSRF token and submission key from `page` (default: `url`)."""
        data = dict(data or {})
        if "csrf_token" not in data:
            for name, value in self.hidden_fields(page or url).items():
                data.setdefault(name, value)
        # Browsers send a same-origin Referer; over HTTPS the CSRF check requires it.
        scheme = self.application.config["PREFERRED_URL_SCHEME"]
        kwargs.setdefault("headers", {"Referer": f"{scheme}://localhost{page or url}"})
        return self.post(url, data=data, **kwargs)

    def login(self, email: str, password: str = "correct horse battery staple"):
        return self.submit("/login", {"email": email, "password": password})


def make_app(database_url: str, **overrides):
    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **overrides)


@contextmanager
def running_app(database_url: str, app: Flask | None = None):
    """An app (`app`, or a new one) with the regions loaded; on the way out every table is emptied,
    limits reset and the configuration put back as it was, so a shared app starts each test the same."""
    if app is None:
        app = make_app(database_url)
        app.test_client_class = Client
    config = copy.deepcopy(dict(app.config))
    try:
        with app.app_context():
            ensure_regions()
            db.session.commit()
            yield app
            db.session.remove()
            _empty_all_tables()
            limiter.reset()
            db.engine.dispose()
    finally:
        app.config.clear()
        app.config.update(config)


@pytest.fixture(scope="session")
def shared_app(database_url) -> Flask:
    """One app per test process: building one compiles some two hundred URL rules (about 0.16 s),
    which three thousand tests would otherwise pay each time."""
    app = make_app(database_url)
    app.test_client_class = Client
    return app


@pytest.fixture
def app(database_url, shared_app):
    with running_app(database_url, shared_app) as app:
        yield app


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not installed")
    return CHROMIUM


@pytest.fixture
def clock():
    """Frozen time for the whole test (sessions, tokens and TOTP all agree); `clock.tick(s)` moves it."""
    from freezegun import freeze_time

    # pytest's own clock (_pytest.timing) stays real, so --durations reports true figures.
    with freeze_time("2026-03-02 10:00:00", ignore=["_pytest.timing"]) as frozen:
        yield frozen
