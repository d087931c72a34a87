"""vigtrain: VIG training records, supervision, outcome data and certificates for AVIGuk."""

from __future__ import annotations

import logging
import re
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import suppress
from functools import wraps
from typing import Any

import psycopg
import redis.exceptions
from flask import Flask, abort, current_app, g, has_request_context, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from jinja2.bccache import Bucket
from limits.errors import StorageError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from vigtrain.config import INSTANCE_DIR, PROJECT_ROOT, Config, load_config
from vigtrain.extensions import IdConverter, csrf, db, limiter, login_manager, migrate

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# SQLite's primary result codes for a database file that cannot be used just now: busy past the busy
# timeout, locked, an I/O error, a file that cannot be opened, a failed locking protocol.
SQLITE_UNAVAILABLE = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL}
)
# PostgreSQL's SQLSTATEs for the same: any connection exception (class 08), the server shutting down
# or starting up, and no connection slot free.
POSTGRES_UNAVAILABLE = ("08", "57P01", "57P02", "57P03", "53300")
_REDIS_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# What failing to reach the database (or the rate limits' Redis) is raised as; `database_unavailable`
# tells those failures from the mistakes the same classes also carry.
UNAVAILABLE_ERRORS = (DBAPIError, DisconnectionError, PoolTimeout, StorageError, *_REDIS_UNREACHABLE)


def database_unavailable(error: BaseException | None) -> bool:
    """True when `error` says the database (or the rate limits' Redis) cannot be reached just now.

    That is no fault of the request, so it is answered 503 with Retry-After rather than 500: a refused,
    lost or timed-out connection, a pool with no connection free, a database file that cannot be
    opened, SQLite still busy after its busy timeout. A mistaken statement or a broken constraint is not.
    """
    if isinstance(error, StorageError):  # the rate limiter's storage, when it wraps what it raised
        error = error.storage_error
    if isinstance(error, (DisconnectionError, PoolTimeout, *_REDIS_UNREACHABLE)):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:  # SQLAlchemy saw the connection drop
        return True
    if not isinstance(error, OperationalError):
        return False
    original = error.orig
    if isinstance(original, sqlite3.Error):
        code = getattr(original, "sqlite_errorcode", None)
        return code is not None and (code & 0xFF) in SQLITE_UNAVAILABLE
    if isinstance(original, psycopg.Error):
        # psycopg's own errors carry no SQLSTATE: the server was never reached, or stopped answering.
        return original.sqlstate is None or original.sqlstate.startswith(POSTGRES_UNAVAILABLE)
    return False


def answering_unavailable(error: BaseException) -> dict[str, str]:
    """Before a 503: roll back what can be, log one line, and return the Retry-After header.

    One line and no traceback: while the database is away every request fails the same way, and the
    log should still be readable. Only the driver's first line is logged, never the statement or its
    values.
    """
    with suppress(*UNAVAILABLE_ERRORS):
        db.session.rollback()
    original = getattr(error, "orig", None) or getattr(error, "storage_error", None) or error
    reason = (str(original).strip().splitlines() or [""])[0][:200]
    logging.getLogger("vigtrain.errors").warning(
        "database unavailable, answered 503 (request %s): %s: %s",
        g.get("request_id"),
        type(original).__name__,
        reason,
    )
    g.retry_after = str(current_app.config["DATABASE_RETRY_AFTER"])
    return {"Retry-After": g.retry_after}


class _ProcessBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app built in this process (tests and CLI build many)."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self._store.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = _ProcessBytecodeCache()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Every SQLite connection: WAL, enforced foreign keys and a busy timeout."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_app(config: str | Config | dict[str, Any] | None = None, **overrides: Any) -> Flask:
    """Build the application: `config` names a configuration (or is one); overrides win."""
    if isinstance(config, Config):
        settings = config
    elif isinstance(config, dict):
        settings, overrides = load_config(None), {**config, **overrides}
    else:
        settings = load_config(config)

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.from_object(settings)
    app.config.update(overrides)
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    if proxies := int(app.config.get("PROXY_FIX_X_FOR") or 0):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    _init_logging(app)
    _init_extensions(app)
    app.url_map.converters["int"] = IdConverter
    _register_blueprints(app)
    _connect_domain_answers()
    _register_request_hooks(app)
    _register_error_handlers(app)
    _register_template_helpers(app)

    from vigtrain.cli import register_cli

    register_cli(app)
    return app


def _init_logging(app: Flask) -> None:
    if not app.testing and not logging.getLogger("vigtrain").handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger("vigtrain").addHandler(handler)
        logging.getLogger("vigtrain").setLevel(logging.INFO)


def _init_extensions(app: Flask) -> None:
    from vigtrain import models  # noqa: F401  (every model registered before migrations look)
    from vigtrain.dates import render_migration_item

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # An unreachable server must fail fast (503), not hold a worker until the kernel gives up.
        options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
        options["connect_args"] = {
            "connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT"],
            **options.get("connect_args", {}),
        }
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    csrf.init_app(app)

    # Registered before the limiter so it runs after the limiter has added its headers.
    @app.after_request
    def retry_after_only_when_refused(response):
        """Flask-Limiter adds Retry-After to every response; it only means "wait" on 429 and 503."""
        if response.status_code not in (429, 503):
            response.headers.pop("Retry-After", None)
        elif response.status_code == 503 and "retry_after" in g:
            # Flask-Limiter puts the end of its counting window there, which says nothing about an outage.
            response.headers["Retry-After"] = g.retry_after
        return response

    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"


def _register_blueprints(app: Flask) -> None:
    import vigtrain.training.capacity_views  # noqa: F401  (its routes join the training blueprint)
    from vigtrain.accounts.views import admin_bp as users_bp
    from vigtrain.accounts.views import bp as accounts_bp
    from vigtrain.api import bp as api_bp
    from vigtrain.api_tokens.views import bp as api_tokens_bp
    from vigtrain.casework.views import bp as casework_bp
    from vigtrain.certificates import transcript_views  # noqa: F401  (its routes join the certificate blueprints)
    from vigtrain.certificates.public_views import bp as verify_bp
    from vigtrain.certificates.views import admin_bp as certificate_admin_bp
    from vigtrain.certificates.views import bp as certificates_bp
    from vigtrain.certificates.wallet_views import bp as openid4vci_bp  # its holder pages join certificates_bp
    from vigtrain.cohorts.views import bp as cohorts_bp
    from vigtrain.core.views import bp as core_bp
    from vigtrain.dcs.invitation_views import bp as invitations_bp
    from vigtrain.dcs.report_views import bp as reports_bp
    from vigtrain.dcs.respond_views import bp as respond_bp
    from vigtrain.dcs.views import bp as dcs_bp
    from vigtrain.dcs.wording_views import bp as wording_bp
    from vigtrain.flow.views import bp as flow_bp
    from vigtrain.imports.views import bp as imports_bp
    from vigtrain.jobs.views import bp as jobs_bp
    from vigtrain.notifications.inbox_views import bp as inbox_bp
    from vigtrain.notifications.views import bp as notifications_bp
    from vigtrain.organisations.views import bp as organisations_bp
    from vigtrain.pathways.views import bp as pathways_bp
    from vigtrain.privacy.access_views import bp as subject_access_bp
    from vigtrain.privacy.erasure_views import bp as erasure_bp
    from vigtrain.privacy.retention_views import bp as retention_bp
    from vigtrain.supervision.views import bp as supervision_bp
    from vigtrain.training.views import bp as training_bp

    for blueprint in (
        core_bp,
        accounts_bp,
        users_bp,
        api_tokens_bp,
        organisations_bp,
        notifications_bp,
        inbox_bp,
        jobs_bp,
        pathways_bp,
        training_bp,
        cohorts_bp,
        flow_bp,
        casework_bp,
        verify_bp,
        certificates_bp,
        certificate_admin_bp,
        openid4vci_bp,
        dcs_bp,
        invitations_bp,
        respond_bp,
        reports_bp,
        wording_bp,
        supervision_bp,
        imports_bp,
        subject_access_bp,
        erasure_bp,
        retention_bp,
        api_bp,
    ):
        app.register_blueprint(blueprint)


def _connect_domain_answers() -> None:
    """Import the modules whose receivers answer lower domains' signals (casework asks dcs, organisations
    asks accounts). The blueprints import them too; naming them here keeps that from being an accident,
    and the signals refuse to run unanswered."""
    import vigtrain.accounts.services
    import vigtrain.dcs.invitation_views  # (the case page's links for the client)
    import vigtrain.dcs.services
    import vigtrain.dcs.views  # noqa: F401  (the case page's outcome figures)


def _register_request_hooks(app: Flask) -> None:
    from vigtrain.accounts.views import enforce_second_factor_enrolment
    from vigtrain.notifications.services import deliver_outbox, email_sender

    def assign_request_id() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex
        g.client_ip = request.remote_addr

    # First of all, so that a refusal by the CSRF check or the rate limiter (whose storage may be
    # unreachable) is logged and answered with its request id too.
    app.before_request_funcs.setdefault(None, []).insert(0, assign_request_id)
    app.before_request(enforce_second_factor_enrolment)

    @app.before_request
    def nothing_is_named_with_a_nul() -> None:
        """No address holds a NUL character, and PostgreSQL cannot compare text holding one: 404, not 500.

        Query strings and forms are left to their fields, which say what is wrong beside the field.
        """
        if "\x00" in request.path:
            abort(404)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers["X-Request-ID"] = g.get("request_id", "")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # One-time links carry their token in the path: never send it to another site. Same-origin
        # referrers stay, because CSRF protection over HTTPS checks them. (The client's answer pages
        # send none at all, and check their forms' tokens without it: see dcs/respond_views.py.)
        headers.setdefault("Referrer-Policy", "same-origin")
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if app.config.get("HSTS"):
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static":
            headers["Cache-Control"] = _cache_control(app, response)
            if headers["Cache-Control"] != "no-store":
                headers.add("Vary", "Cookie")
        return response

    @app.after_request
    def deliver_queued_email(response):
        from vigtrain import transactions

        pending = db.session.info.pop("outbox_pending", False)
        # A 503 means the database is away: there is nothing to deliver from.
        if pending and email_sender().configured and response.status_code != 503:
            try:
                # Kept outside `transactions`: the view has committed or refused by now, so anything
                # still uncommitted was meant to be discarded, not committed along with the delivery.
                db.session.rollback()
                transactions.run(deliver_outbox)
            except UNAVAILABLE_ERRORS as error:
                if not database_unavailable(error):
                    raise
                # The view's answer stands (what it committed is kept); the queued message waits in
                # the outbox for the scheduler's delivery job.
                logging.getLogger("vigtrain.errors").warning(
                    "queued email left for the scheduler: database unavailable (request %s)", g.get("request_id")
                )
        return response


def _cache_control(app: Flask, response: Any) -> str:
    """Every page is `no-store` but what a view marks shareable (`g.shareable_seconds`, public
    verification): that is shared only when it is the same for everyone who asks, so a 200 to a
    GET from a browser holding no session, that set none."""
    seconds = g.get("shareable_seconds")
    shareable = (
        seconds
        and request.method == "GET"
        and response.status_code == 200
        and app.config["SESSION_COOKIE_NAME"] not in request.cookies
        and not session.modified
        and "Set-Cookie" not in response.headers
    )
    return f"public, max-age={seconds}" if shareable else "no-store"


def _register_error_handlers(app: Flask) -> None:
    from sqlalchemy.orm.exc import StaleDataError

    from vigtrain.api.auth import forget_session_user
    from vigtrain.errors import Conflict, NotFound, PermissionDenied

    log = logging.getLogger("vigtrain.errors")

    def unavailable(error: BaseException):
        headers = answering_unavailable(error)
        # The page's layout shows who is signed in, which would ask the database again: this page is
        # drawn for nobody in particular. The session cookie is untouched, so they stay signed in.
        forget_session_user()
        return render_template("errors/503.html"), 503, headers

    def or_unavailable(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """An error page that cannot be drawn because the database went away is the 503 page instead."""

        @wraps(handler)
        def answer(error: Any):
            try:
                return handler(error)
            except UNAVAILABLE_ERRORS as failure:
                if not database_unavailable(failure):
                    raise
                return unavailable(failure)

        return answer

    @app.errorhandler(PermissionDenied)
    @or_unavailable
    def permission_denied(error: PermissionDenied):
        db.session.rollback()
        log.warning("access denied by a service rule: %s (request %s)", error.message, g.get("request_id"))
        return render_template("errors/403.html"), 403

    @app.errorhandler(Conflict)
    @or_unavailable
    def conflict(error: Conflict):
        db.session.rollback()
        return render_template("errors/409.html", message=error.message), 409

    @app.errorhandler(StaleDataError)
    @or_unavailable
    def stale_data(error: StaleDataError):
        db.session.rollback()
        message = "Someone else changed this while you were working on it. Nothing was saved."
        return render_template("errors/409.html", message=message), 409

    @app.errorhandler(NotFound)
    @or_unavailable
    def not_found(error: NotFound):
        db.session.rollback()
        return render_template("errors/404.html"), 404

    @app.errorhandler(CSRFError)
    @or_unavailable
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    @or_unavailable
    def http_error(error: HTTPException):
        # A failure after the view (in an after-request hook) reaches here wrapped in a 500.
        if database_unavailable(getattr(error, "original_exception", None)):
            return unavailable(error.original_exception)
        db.session.rollback()
        template = {403: "errors/403.html", 404: "errors/404.html", 429: "errors/429.html"}.get(
            error.code, "errors/generic.html"
        )
        response = error.get_response()
        response.set_data(render_template(template, error=error))
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(Exception)
    @or_unavailable
    def unexpected_error(error: Exception):
        db.session.rollback()
        log.exception("unhandled error (request %s)", g.get("request_id"))
        return render_template("errors/500.html"), 500

    def database_error(error: Exception):
        return unavailable(error) if database_unavailable(error) else unexpected_error(error)

    for kind in UNAVAILABLE_ERRORS:
        app.register_error_handler(kind, database_error)


def _register_template_helpers(app: Flask) -> None:
    from vigtrain.dates import format_date, format_datetime
    from vigtrain.forms import error_list
    from vigtrain.navigation import navigation_items
    from vigtrain.notifications.inbox import unread_count
    from vigtrain.pagination import query_args
    from vigtrain.security import is_administrator

    app.add_template_filter(format_datetime, "datetime")
    app.add_template_filter(format_date, "date")
    app.add_template_global(error_list)
    app.add_template_global(query_args)

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        """What the layout shows, worked out once per request: every form field's widget renders a
        template of its own, and each render would otherwise count the notifications again."""
        if has_request_context() and "layout_context" in g:
            return g.layout_context
        signed_in = current_user.is_authenticated
        context = {
            "navigation": navigation_items(current_user, request.endpoint or "") if signed_in else [],
            "demo_banner": app.config["DEMO_BANNER"],
            "second_factor_warning": is_administrator(current_user) and not current_user.second_factor_enabled,
            "unread_count": unread_count(current_user) if signed_in else 0,
        }
        if has_request_context():
            g.layout_context = context
        return context
