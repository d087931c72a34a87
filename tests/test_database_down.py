"""While the database cannot be reached, every address answers 503 with Retry-After, never 500.

A second app shares the working app's SECRET_KEY but points at a database that cannot be reached:
SQLite at a path inside a folder that does not exist, or PostgreSQL on a port nothing listens on
(refused at once, so these tests stay quick). The session cookie, CSRF token, one-time links and API
token made on the working app are sent to it, as a browser or a service's system would send them
after the database went away.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
import pytest
import redis.exceptions
from flask import Flask, g
from limits.errors import StorageError
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tests.conftest import CSRF_INPUT, Client, make_app
from tests.factories import make_enrolment, make_service, make_user
from vigtrain import database_unavailable
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role, User
from vigtrain.api_tokens.models import SCOPES
from vigtrain.api_tokens.services import MARKER as TOKEN_MARKER
from vigtrain.api_tokens.services import create_token
from vigtrain.audit import AuditEvent
from vigtrain.casework.models import Case
from vigtrain.casework.services import CASE_PREFIX
from vigtrain.certificates.models import NUMBER_PREFIX
from vigtrain.codes import generate
from vigtrain.dates import today
from vigtrain.extensions import db, limiter
from vigtrain.notifications.models import OutboxMessage, OutboxStatus
from vigtrain.notifications.services import send_email
from vigtrain.organisations.models import Region
from vigtrain.supervision.models import SupervisionSession

POSTGRES = os.environ.get("VIGTRAIN_TEST_DB") == "postgres"
DEAD_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"
DEAD_REDIS = "redis://127.0.0.1:1/14"
SESSION_COOKIE = "vigtrain_session"
EMAIL = "pat@example.org"
PASSWORD = "correct horse battery staple"

# Answers that need no database, on purpose: files, the liveness check, empty forms, documents made
# from code and data files, and a pasted credential that is not even well formed.
NEEDS_NO_DATABASE = {
    ("GET", "static"),
    ("GET", "core.health"),
    ("GET", "accounts.login"),
    ("GET", "accounts.request_password_reset"),
    ("GET", "api.openapi_document"),
    ("GET", "api.show_docs"),
    ("GET", "verify.verify_number"),
    ("GET", "verify.check_credential"),
    ("POST", "verify.check_credential"),
    ("GET", "verify.key_set"),
    ("GET", "verify.issuer"),
    ("GET", "respond.thank_you"),
    ("GET", "verify.principle"),  # pathway data, not the database
    # The wallet protocol's documents, and requests refused for what they lack before any lookup.
    ("GET", "openid4vci.issuer_metadata"),
    ("GET", "openid4vci.authorization_server_metadata"),
    ("POST", "openid4vci.nonce"),
    ("POST", "openid4vci.token"),
    ("POST", "openid4vci.credential"),
}
# The public forms, filled in: anything less is refused beside its field before the database is asked.
FORMS = {
    "accounts.login": {"email": EMAIL, "password": PASSWORD},
    "accounts.request_password_reset": {"email": EMAIL},
}
# A page is "the unavailable page" by its words.
UNAVAILABLE_WORDS = "vigtrain is briefly unavailable"


def _dead_sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'vigtrain.db'}"


def dead_app(url: str, **overrides) -> Flask:
    """An app whose database cannot be reached; PostgreSQL's refusal comes at once (the timeout is a backstop)."""
    engine = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        engine["connect_args"] = {"connect_timeout": 2}
    app = make_app(url, SQLALCHEMY_ENGINE_OPTIONS=engine, **overrides)
    app.test_client_class = Client
    return app


@pytest.fixture
def dead_url(tmp_path) -> str:
    """The test database's own kind, unreachable."""
    return DEAD_POSTGRES if POSTGRES else _dead_sqlite(tmp_path)


@pytest.fixture
def other_dead_url(tmp_path) -> str:
    """The other kind, so both drivers' failures are met on every run."""
    return _dead_sqlite(tmp_path) if POSTGRES else DEAD_POSTGRES


@contextmanager
def rate_limits_in(database_url: str, storage_uri: str) -> Iterator[Flask]:
    """An app keeping its rate limits in `storage_uri`; the limiter is one object per process, so the
    next app gets it back in memory whatever happens."""
    try:
        yield make_app(database_url, RATELIMIT_STORAGE_URI=storage_uri)
    finally:
        make_app(database_url)


@dataclass(frozen=True)
class Credentials:
    """What a browser and a service's system hold: a session cookie, a form's CSRF token, an API token."""

    cookie: str
    csrf_token: str
    api_token: str | None = None


def _credentials(app: Flask, email: str | None) -> Credentials:
    client = app.test_client()
    if email is not None:
        assert client.login(email).status_code == 302
    page = client.get("/account/details" if email else "/login").get_data(as_text=True)
    csrf_token = CSRF_INPUT.search(page).group(1)
    cookie = client.get_cookie(SESSION_COOKIE).value
    if email is None:
        return Credentials(cookie, csrf_token)
    return Credentials(cookie, csrf_token, _api_token(db.session.scalar(select(User).where(User.email == email))))


def _api_token(user: User) -> str:
    _row, token = create_token(None, user, "Monitoring", SCOPES, today() + timedelta(days=30), today())
    db.session.commit()
    return token


@pytest.fixture
def people(app):
    """Pat (practitioner, trainee and supervisor) signed in, and someone not signed in, while the database was up."""
    make_service("Riverside Family Service")
    pat = make_user(EMAIL, roles=(Role.PRACTITIONER, Role.TRAINEE, Role.SUPERVISOR), name="Pat Practitioner")
    links = {
        "accounts.accept_invitation": accounts.make_token(pat, accounts.INVITATION),
        "accounts.reset_password": accounts.make_token(pat, accounts.PASSWORD_RESET),
    }
    return {"signed_in": _credentials(app, EMAIL), "anonymous": _credentials(app, None), "links": links}


def _client(app: Flask, credentials: Credentials) -> Client:
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, credentials.cookie)
    return client


# --- every rule, filled in ------------------------------------------------------------------------


def _value(endpoint: str, name: str, converter, links: dict[str, str]) -> str | int:
    kind = type(converter).__name__
    if kind == "IdConverter":
        return 1
    if kind == "AnyConverter":
        return sorted(converter.items)[0]
    if kind == "PathConverter":
        return "css/vigtrain.min.css"
    if name == "number":
        return generate(NUMBER_PREFIX)
    if name == "token":
        return links.get(endpoint, "k" * 43)
    if name == "code":
        if endpoint == "openid4vci.credential_offer":
            return "k" * 43  # well formed, so the offer is looked up
        if endpoint.startswith(("pathways.", "verify.")):
            return "vig-practitioner"
        if endpoint in ("dcs.show_measure", "api.show_measure", "wording.add_wording"):
            return "phq-9"
        return generate(CASE_PREFIX)
    return {
        "version": "2024.1",
        "stage_code": "stage-1",
        "measure": "phq-9",
        "timepoint": "pre",
        "kind": "self",
        "name": "expire-certificates",
        "key": "0" * 32,
    }[name]


def every_request(app: Flask, links: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, path) for every rule in the URL map and every method it takes."""
    adapter = app.url_map.bind("localhost")
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        values = {name: _value(rule.endpoint, name, converter, links) for name, converter in rule._converters.items()}
        methods = sorted(rule.methods & {"GET", "POST", "DELETE"})
        path = adapter.build(rule.endpoint, values, method=methods[0])
        for method in methods:
            yield rule.endpoint, method, path


def send(client: Client, endpoint: str, method: str, path: str, credentials: Credentials):
    headers = {}
    if path.startswith("/api/") and credentials.api_token:
        headers["Authorization"] = f"Bearer {credentials.api_token}"
    if method != "POST":
        return client.open(path, method=method, headers=headers)
    if path.startswith("/api/"):
        return client.post(path, json={}, headers=headers)
    return client.post(path, data={"csrf_token": credentials.csrf_token, **FORMS.get(endpoint, {})}, headers=headers)


def is_unavailable(response, path: str) -> str | None:
    """What is wrong with a 503 (or that it is not one); None when it is the right answer."""
    if response.status_code != 503:
        return f"{response.status_code}"
    if not response.headers.get("Retry-After", "").isdigit():
        return "503 without Retry-After in seconds"
    if path == "/readyz":
        return (
            None if response.get_json()["checks"]["database"] == "unavailable" else "readyz did not name the database"
        )
    if path.startswith("/api/"):
        problem = response.get_json(silent=True) or {}
        if response.mimetype != "application/problem+json" or problem.get("status") != 503:
            return "503 that is not a problem document"
        return None if problem["type"].endswith("#problem-unavailable") else "503 problem of the wrong type"
    return None if UNAVAILABLE_WORDS in response.get_data(as_text=True) else "503 that is not the unavailable page"


def _wrong_answers(app: Flask, credentials: Credentials, links: dict[str, str], signed_in: bool) -> list[str]:
    client = _client(app, credentials)
    wrong = []
    for endpoint, method, path in every_request(app, links):
        where = f"{method} {path} ({endpoint})"
        try:
            response = send(client, endpoint, method, path, credentials)
        except Exception as error:  # the testing app lets it escape; a server would answer 500
            wrong.append(f"{where}: raised {type(error).__name__}")
            continue
        if (problem := is_unavailable(response, path)) is None:
            continue
        if (method, endpoint) in NEEDS_NO_DATABASE and response.status_code < 500:
            continue
        # Pages for signed-in people send anyone else to sign in, and the API asks for a token:
        # neither needs the database.
        if not signed_in and response.status_code == 302 and response.headers["Location"].startswith("/login"):
            continue
        if not signed_in and path.startswith("/api/") and response.status_code == 401:
            continue
        wrong.append(f"{where}: {problem}")
    return wrong


def test_every_address_answers_503_with_retry_after(app, people, dead_url):
    down = dead_app(dead_url)
    wrong = _wrong_answers(down, people["signed_in"], people["links"], signed_in=True)
    wrong += _wrong_answers(down, people["anonymous"], people["links"], signed_in=False)
    assert not wrong, "\n".join(wrong)


# Pages and API operations whose views ask the database at once, anonymous or not.
PUBLIC = ["/register", "/status/revocation", "/achievements/vig-practitioner/2024.1"]


def test_the_other_database_driver_is_unavailable_the_same_way(app, people, other_dead_url):
    down = dead_app(other_dead_url)
    signed_in = _client(down, people["signed_in"])
    token = {"Authorization": f"Bearer {people['signed_in'].api_token}"}
    number = generate(NUMBER_PREFIX)
    answers = {
        "/home": signed_in.get("/home"),
        "/login": signed_in.post(
            "/login", data={"csrf_token": people["signed_in"].csrf_token, **FORMS["accounts.login"]}
        ),
        f"/verify/{number}": down.test_client().get(f"/verify/{number}"),
        "/api/v1/me": down.test_client().get("/api/v1/me", headers=token),
        **{path: down.test_client().get(path) for path in PUBLIC},
    }
    assert {path: is_unavailable(response, path) for path, response in answers.items()} == dict.fromkeys(answers)


# --- public pages and the API ---------------------------------------------------------------------


def test_verify_and_the_register_answer_503_to_anyone(dead_url):
    client = dead_app(dead_url).test_client()
    number = generate(NUMBER_PREFIX)
    for path in (f"/verify/{number}", f"/verify/{number}.json", "/register", "/register?q=Smith"):
        response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "30"
    page = client.get("/register").get_data(as_text=True)
    assert UNAVAILABLE_WORDS in page and "Nothing you sent was saved" in page and "Try again in a minute" in page


def test_the_api_answers_a_problem_document(dead_url):
    client = dead_app(dead_url).test_client()
    # A well-formed token has to be looked up before anything else.
    response = client.post("/api/v1/cases", json={}, headers={"Authorization": f"Bearer {TOKEN_MARKER}{'A' * 43}"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "30"
    problem = response.get_json()
    assert problem["type"] == "http://localhost/api/v1/docs#problem-unavailable"
    assert problem["title"] == "vigtrain is briefly unavailable"
    assert problem["status"] == 503 and problem["instance"] == "/api/v1/cases"
    assert "nothing was saved" in problem["detail"]
    assert problem["request_id"] == response.headers["X-Request-ID"]


def test_every_api_operation_documents_its_503(dead_url):
    client = dead_app(dead_url).test_client()  # the document and its explanations need no database
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method, details in methods.items():
            answer = details["responses"]["503"]
            assert "Retry-After" in answer["headers"], f"{method} {path}"
            assert "application/problem+json" in answer["content"], f"{method} {path}"
    docs = client.get("/api/v1/docs").get_data(as_text=True)
    assert 'id="problem-unavailable"' in docs


# --- the unavailable page itself ------------------------------------------------------------------


def test_the_unavailable_page_is_drawn_without_the_database_and_keeps_the_sign_in(app, people, dead_url, caplog):
    down = dead_app(dead_url)
    client = _client(down, people["signed_in"])
    with caplog.at_level(logging.WARNING, logger="vigtrain"):
        response = client.get("/home", headers={"X-Request-ID": "ref-down-0001"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert UNAVAILABLE_WORDS in page and "ref-down-0001" in page
    assert "Signed in as" not in page  # who is signed in would have to be asked of the database
    assert "Content-Security-Policy" in response.headers and response.headers["Cache-Control"] == "no-store"
    # One warning naming the request, with no traceback, and nothing that says where the database is.
    (record,) = [record for record in caplog.records if record.name == "vigtrain.errors"]
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert "ref-down-0001" in record.getMessage()
    for secret in ("127.0.0.1", "no-such-folder", "OperationalError", "Traceback"):
        assert secret not in page
    # Error pages that would ask who is signed in become the unavailable page too: the CSRF check's
    # refusal (before any view) and routing's 404 (no view at all).
    assert is_unavailable(client.post("/account/details", data={}), "/account/details") is None
    assert is_unavailable(client.get("/no-such-page"), "/no-such-page") is None
    # When the database is back, the browser's cookie (as the 503s left it) is still signed in.
    back = _client(app, Credentials(client.get_cookie(SESSION_COOKIE).value, ""))
    assert back.get("/home").status_code == 200


def test_an_outage_met_after_the_view_is_a_503_too(dead_url):
    """As a server runs it: an error in an after-request hook reaches the handlers wrapped in a 500."""
    down = dead_app(dead_url, PROPAGATE_EXCEPTIONS=False)

    @down.after_request
    def reads_the_database_late(response):
        if not g.get("read_late"):
            g.read_late = True
            db.session.execute(text("SELECT 1"))
        return response

    client = down.test_client()
    for path in ("/healthz", "/api/v1/openapi.json"):
        assert is_unavailable(client.get(path), path) is None


def test_a_mistake_is_still_a_500_and_not_an_outage(database_url, caplog):
    broken = make_app(database_url)

    @broken.route("/constraint")
    def constraint():
        raise IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    @broken.route("/typo")
    def typo():
        db.session.execute(text("SELECT * FROM no_such_table"))

    client = broken.test_client()
    for path in ("/constraint", "/typo"):
        with caplog.at_level(logging.ERROR, logger="vigtrain.errors"):
            response = client.get(path)
        assert response.status_code == 500, path
        assert "Retry-After" not in response.headers
    assert all(record.exc_info for record in caplog.records if record.name == "vigtrain.errors")


# --- health checks --------------------------------------------------------------------------------


def test_liveness_and_readiness(app, people, dead_url):
    up = app.test_client()
    response = up.get("/readyz")
    assert response.status_code == 200 and "Retry-After" not in response.headers
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "redis": "not configured"}}
    # A signed-in browser gets the same: the probe never looks at the cookie.
    assert _client(app, people["signed_in"]).get("/readyz").get_json()["status"] == "ready"

    down = dead_app(dead_url)
    for client in (down.test_client(), _client(down, people["signed_in"])):
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz").get_json() == {"status": "ok"}
        response = client.get("/readyz")
        assert response.status_code == 503 and response.headers["Retry-After"] == "30"
        assert response.get_json() == {
            "status": "unavailable",
            "checks": {"database": "unavailable", "redis": "not configured"},
        }
        body = response.get_data(as_text=True)
        for secret in ("127.0.0.1", "no-such-folder", "sqlite", "postgres", "refused", "unable"):
            assert secret not in body


def test_probes_are_never_rate_limited(database_url):
    """Even were every address given a limit, the probes would have none."""
    limited = make_app(database_url, RATELIMIT_DEFAULT="2 per minute")
    try:
        client = limited.test_client()
        assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]
        assert {client.get(path).status_code for path in ("/healthz", "/readyz") * 5} == {200}
        assert "X-RateLimit-Limit" not in client.get("/readyz").headers
    finally:
        limiter.limit_manager.set_default_limits([])  # the limiter is one object per process


def test_readiness_names_an_unreachable_redis(database_url):
    with rate_limits_in(database_url, DEAD_REDIS) as limited:
        response = limited.test_client().get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json() == {"status": "unavailable", "checks": {"database": "ok", "redis": "unavailable"}}
    assert "127.0.0.1" not in response.get_data(as_text=True)


@pytest.mark.redis
def test_readiness_checks_a_reachable_redis(database_url, redis_url):
    with rate_limits_in(database_url, redis_url) as limited:
        response = limited.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_an_unreachable_rate_limit_store_is_an_outage_too(database_url):
    with rate_limits_in(database_url, DEAD_REDIS) as limited:
        limited.test_client_class = Client
        client = limited.test_client()
        # The sign-in form is limited only when it is sent.
        page = client.post("/login", data={"csrf_token": client.csrf_token("/login"), **FORMS["accounts.login"]})
        api = client.get("/api/v1/me", headers={"Authorization": "Bearer x"})
    assert is_unavailable(page, "/login") is None
    assert is_unavailable(api, "/api/v1/me") is None


# --- a change cut off half way --------------------------------------------------------------------


def _lost_connection(dialect_name: str) -> Exception:
    """What the driver raises when the server goes away under it."""
    if dialect_name == "postgresql":
        return psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = sqlite3.SQLITE_IOERR
    return error


@contextmanager
def database_goes_away(at: str) -> Iterator[None]:
    """The database stops answering once, part way through the first change that writes anything:
    at its COMMIT (`at="commit"`) or at its second INSERT (`at="second insert"`)."""
    engine = db.engine
    real_commit = engine.dialect.do_commit
    seen = {"inserts": 0, "failed": False}

    def go_away() -> None:
        seen["failed"] = True
        raise _lost_connection(engine.dialect.name)

    def count_inserts(cursor, statement, parameters, context):
        if statement.lstrip().upper().startswith("INSERT") and not seen["failed"]:
            seen["inserts"] += 1
            if at == "second insert" and seen["inserts"] == 2:
                go_away()
        return False  # not handled here: the driver runs it

    def commit(dbapi_connection) -> None:
        if at == "commit" and seen["inserts"] and not seen["failed"]:
            go_away()
        real_commit(dbapi_connection)

    event.listen(engine, "do_execute", count_inserts)
    event.listen(engine, "do_executemany", count_inserts)
    engine.dialect.do_commit = commit  # an instance attribute over the dialect's method, removed below
    try:
        yield
    finally:
        del engine.dialect.do_commit
        event.remove(engine, "do_execute", count_inserts)
        event.remove(engine, "do_executemany", count_inserts)
    assert seen["failed"], f"the database never went away at {at}"


def _count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


CASE = {
    "relationship_type": "parent_infant",
    "child_age_band": "0-11m",
    "population": "perinatal",
    "started_on": ["2", "2", "2026"],
    "consent_filming": "no",
    "consent_supervision": "no",
    "consent_dcs": "no",
}


def test_a_case_cut_off_at_commit_leaves_nothing_and_can_be_sent_again(app, client, clock):
    service = make_service("Riverside Family Service", region_code="E12000007")
    make_user("pat@example.org", roles=(Role.PRACTITIONER,), service_id=service.id)
    client.login("pat@example.org")
    region = db.session.scalar(select(Region).where(Region.code == "E12000003"))
    form = {**CASE, "region": str(region.id)}
    before = _count(AuditEvent)
    with database_goes_away(at="commit"):
        response = client.submit("/cases/new", form)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert UNAVAILABLE_WORDS in response.get_data(as_text=True)
    assert _count(Case) == 0 and _count(AuditEvent) == before
    # The database is back: the same form is saved once, with its audit event.
    assert client.submit("/cases/new", form).status_code == 302
    assert _count(Case) == 1
    assert _count(AuditEvent, AuditEvent.action == "case.created") == 1


def test_a_supervision_session_cut_off_after_its_first_insert_leaves_nothing(app, client, clock):
    supervisor = make_user("sian@example.org", roles=(Role.SUPERVISOR,), name="Sian Supervisor")
    trainee = make_user("tia@example.org", roles=(Role.TRAINEE,), name="Tia Trainee")
    make_enrolment(trainee, supervisor, start=date(2026, 1, 5))
    token = _api_token(trainee)
    before = _count(AuditEvent)
    session = {"session_date": "2026-02-10", "start_time": "14:00", "duration_minutes": 90}
    headers = {"Authorization": f"Bearer {token}"}
    with database_goes_away(at="second insert"):
        response = client.post("/api/v1/supervision-sessions", json=session, headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert response.get_json()["status"] == 503
    assert _count(SupervisionSession) == 0 and _count(AuditEvent) == before
    response = client.post("/api/v1/supervision-sessions", json=session, headers=headers)
    assert response.status_code == 201
    assert _count(SupervisionSession) == 1


def test_queued_email_waits_for_the_scheduler_when_the_database_goes_away(app, database_url, caplog):
    mailing = make_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=1)

    @mailing.route("/queue")
    def queue():
        send_email("sam@example.org", "Hello", "A message")
        db.session.commit()
        return "queued"

    with mailing.app_context():
        with database_goes_away(at="commit"):
            # The view fails at COMMIT: 503, and the delivery after it does not try again.
            failed = mailing.test_client().get("/queue")
        with caplog.at_level(logging.WARNING, logger="vigtrain.errors"):
            delivered_later = _outage_during_delivery(mailing)
    assert failed.status_code == 503 and "Content-Security-Policy" in failed.headers
    # The view committed; the delivery could not read the outbox: the view's answer stands.
    assert delivered_later.status_code == 200 and delivered_later.get_data(as_text=True) == "queued"
    assert "Content-Security-Policy" in delivered_later.headers
    assert any("left for the scheduler" in record.getMessage() for record in caplog.records)
    assert _count(OutboxMessage, OutboxMessage.status == OutboxStatus.QUEUED) == 1


def _outage_during_delivery(app: Flask):
    """The view commits its message; the delivery's first read of the outbox finds the database gone."""
    engine = db.engine

    def fail_outbox_read(cursor, statement, parameters, context):
        if statement.lstrip().upper().startswith("SELECT") and "outbox_message" in statement:
            raise _lost_connection(engine.dialect.name)
        return False

    event.listen(engine, "do_execute", fail_outbox_read)
    try:
        return app.test_client().get("/queue")
    finally:
        event.remove(engine, "do_execute", fail_outbox_read)


# --- which failures are outages -------------------------------------------------------------------


def _sqlite_error(sql: str) -> sqlite3.Error:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute(sql)
    except sqlite3.Error as error:
        return error
    raise AssertionError(f"{sql} did not fail")


def _sqlite_busy(tmp_path) -> sqlite3.Error:
    """A real "database is locked": a second writer with no busy timeout meets the first one's lock."""
    path = tmp_path / "busy.db"
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("BEGIN EXCLUSIVE")
    try:
        sqlite3.connect(path, timeout=0, isolation_level=None).execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as error:
        return error
    finally:
        first.execute("ROLLBACK")
    raise AssertionError("the second writer was not refused")


def _wrapped(kind: type[DBAPIError], original: Exception, invalidated: bool = False) -> DBAPIError:
    return kind("SELECT 1", {}, original, connection_invalidated=invalidated)


def test_outages_are_told_from_mistakes(tmp_path):
    cannot_open = _sqlite_error("ATTACH DATABASE '/no-such-folder/x.db' AS elsewhere")
    outages = {
        "SQLite file cannot be opened": _wrapped(OperationalError, cannot_open),
        "SQLite database is locked": _wrapped(OperationalError, _sqlite_busy(tmp_path)),
        "PostgreSQL refused": _wrapped(
            OperationalError, psycopg.OperationalError("connection failed: Connection refused")
        ),
        "PostgreSQL shutting down": _wrapped(OperationalError, psycopg.errors.AdminShutdown("terminating connection")),
        "PostgreSQL starting up": _wrapped(
            OperationalError, psycopg.errors.CannotConnectNow("the database system is starting up")
        ),
        "PostgreSQL full": _wrapped(OperationalError, psycopg.errors.TooManyConnections("too many clients")),
        "dropped connection": _wrapped(InterfaceError, psycopg.InterfaceError("connection closed"), invalidated=True),
        "pool disconnect": DisconnectionError("gone"),
        "pool exhausted": PoolTimeout("QueuePool limit reached"),
        "Redis refused": redis.exceptions.ConnectionError("Connection refused"),
        "Redis timed out": redis.exceptions.TimeoutError("Timeout"),
        "Redis, wrapped by the limiter": StorageError(redis.exceptions.ConnectionError("Connection refused")),
    }
    mistakes = {
        "SQLite no such table": _wrapped(OperationalError, _sqlite_error("SELECT * FROM nowhere")),
        "SQLite syntax": _wrapped(OperationalError, _sqlite_error("SELEC 1")),
        "SQLite constraint": _wrapped(IntegrityError, sqlite3.IntegrityError("UNIQUE constraint failed")),
        "SQLite bad parameter": _wrapped(InterfaceError, sqlite3.InterfaceError("Error binding parameter 1")),
        "PostgreSQL no such table": _wrapped(
            ProgrammingError, psycopg.errors.UndefinedTable("relation does not exist")
        ),
        "PostgreSQL serialisation": _wrapped(
            OperationalError, psycopg.errors.SerializationFailure("could not serialize")
        ),
        "PostgreSQL deadlock": _wrapped(OperationalError, psycopg.errors.DeadlockDetected("deadlock detected")),
        "PostgreSQL statement timeout": _wrapped(OperationalError, psycopg.errors.QueryCanceled("canceling statement")),
        "PostgreSQL constraint": _wrapped(IntegrityError, psycopg.errors.UniqueViolation("duplicate key")),
        "a bug": ValueError("bug"),
        "nothing": None,
    }
    assert [name for name, error in outages.items() if not database_unavailable(error)] == []
    assert [name for name, error in mistakes.items() if database_unavailable(error)] == []


def test_a_postgresql_server_that_never_answers_gets_503_within_the_connect_timeout():
    """Without a connect timeout, a server that drops packets holds a worker for minutes; with one, 503 soon."""
    import time

    # 10.255.255.1 is a private address nothing here answers: packets to it are dropped or refused.
    app = make_app("postgresql+psycopg://postgres@10.255.255.1:5432/test", DATABASE_CONNECT_TIMEOUT=1)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 1}
    started = time.monotonic()
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert time.monotonic() - started < 5
    assert "connect_args" not in make_app("sqlite://").config["SQLALCHEMY_ENGINE_OPTIONS"]
