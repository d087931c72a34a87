"""Settings from environment variables, with embedded defaults that need no setup."""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

from vigtrain.encryption import KEYS_FILENAME, KEYS_VARIABLE, load_data_keys

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("VIGTRAIN_INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _whole_number(name: str, default: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def database_url() -> str:
    """DATABASE_URL if given (PostgreSQL via psycopg 3), else SQLite in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'vigtrain.db'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret(filename: str, nbytes: int = 48) -> str:
    """Read a secret kept in the instance folder, generating it (mode 0600) on first use."""
    path = INSTANCE_DIR / filename
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


DEFAULT_CRISIS_SIGNPOSTING = "\n".join(
    [
        "If you are in danger now, or might act on thoughts of harming yourself, call 999 or go to A&E.",
        "For urgent help with your mental health, call NHS 111 and choose the mental health option "
        "(option 2 in England and Wales), or contact your GP.",
        "You can talk to Samaritans for free, day or night: call 116 123.",
    ]
)


class Config:
    """Shared settings; subclasses change what differs between environments."""

    ENV_NAME = "base"
    # hide_parameters: a failed statement's error (and so the log) never carries the values it was sent.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # Seconds to wait for a PostgreSQL server to accept a connection before answering 503.
    DATABASE_CONNECT_TIMEOUT = int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    SQLALCHEMY_RECORD_QUERIES = False

    SESSION_COOKIE_NAME = "vigtrain_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    # How long a saved form's one-time key is kept (see vigtrain.submissions): longer than a CSRF
    # token lives, so any repeat that could still be accepted is recognised.
    FORM_SUBMISSION_RETENTION = timedelta(days=2)
    # Reminders and escalations (see vigtrain.reminders): how long something may wait before the
    # person it waits for is reminded, and before an administrator is told. Settings, so a service
    # that agrees other figures with AVIGuk changes them here, not in code.
    REMIND_SUPERVISION_LAPSE = timedelta(weeks=6)
    REMIND_SESSION_UNCONFIRMED = timedelta(days=7)
    ESCALATE_SESSION_UNCONFIRMED = timedelta(days=14)
    REMIND_STAGE_WAITING = timedelta(days=14)
    ESCALATE_STAGE_WAITING = timedelta(days=28)
    REMIND_POST_MEASURE_AFTER = timedelta(weeks=12)
    REMIND_CERTIFICATE_EXPIRY_DAYS = (90, 30)
    # How long the record of each frequent job run (every minute) and of daily runs is kept.
    JOB_RUN_RETENTION_FREQUENT = timedelta(days=7)
    JOB_RUN_RETENTION = timedelta(days=400)
    # The retention schedule (vigtrain.privacy.retention; the README's "Retention schedule"). A deployment
    # may lengthen a period, never shorten it below what AVIGuk agreed. Years and months are counted in
    # days with every leap day they can span added (6 years = 6 * 365 + 2 days), so nothing goes a day early.
    RETENTION_DEACTIVATED_ACCOUNT = timedelta(days=6 * 365 + 2)
    RETENTION_UNACCEPTED_INVITATION = timedelta(days=366)
    RETENTION_ERASED_CERTIFICATE = timedelta(days=6 * 365 + 2)
    RETENTION_AUDIT_EVENT = timedelta(days=7 * 365 + 2)
    RETENTION_READ_NOTIFICATION = timedelta(days=366)
    RETENTION_UNREAD_NOTIFICATION = timedelta(days=2 * 365 + 1)
    RETENTION_OUTBOX_MESSAGE = timedelta(days=90)
    RETENTION_MEASURE_INVITATION = timedelta(days=90)
    RETENTION_WALLET_OFFER = timedelta(days=90)
    RETENTION_ERASURE_REASON = timedelta(days=6 * 365 + 2)
    # At most this many rows per rule per daily run (people: erasures), so a first run over years of
    # history holds no lock for minutes; the next day's run carries on where this one stopped.
    RETENTION_BATCH_LIMIT = 5000
    RETENTION_ERASURE_LIMIT = 25
    # Uploaded files (reflective statements) are at most 10 MB; the request may be a little larger.
    UPLOAD_MAX_BYTES = 10 * 1024 * 1024
    MAX_CONTENT_LENGTH = 11 * 1024 * 1024

    # Rate limits: counters live in Redis when configured so every worker shares them.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # A Redis that cannot be reached fails a request (503) within seconds rather than hanging it.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "vigtrain")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    LOGIN_ACCOUNT_LIMIT = "5 per minute"
    LOGIN_IP_LIMIT = "30 per minute"
    TOKEN_REQUEST_LIMIT = "5 per 15 minutes"  # noqa: S105 (a rate, not a secret)
    LOGIN_LOCK_THRESHOLD = 10
    LOGIN_LOCK_DURATION = timedelta(minutes=15)

    # argon2id; the defaults are the RFC 9106 "second recommended" profile (64 MiB, t=3).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 64 * 1024
    ARGON2_PARALLELISM = 4

    INVITATION_MAX_AGE = timedelta(days=7)
    PASSWORD_RESET_MAX_AGE = timedelta(hours=1)
    SECOND_FACTOR_PENDING_MAX_AGE = timedelta(minutes=5)
    REQUIRE_ADMIN_SECOND_FACTOR = True
    TOTP_ISSUER = "vigtrain"

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_TIMEOUT = 10
    MAIL_FROM = os.environ.get("MAIL_FROM", "vigtrain <no-reply@vigtrain.invalid>")

    # Seconds a 503 asks people and load balancers to wait while the database cannot be reached.
    DATABASE_RETRY_AFTER = int(os.environ.get("DATABASE_RETRY_AFTER", "30"))

    PAGE_SIZE = 25
    DEMO_BANNER = False

    # Certificates: the issuer named in every credential, and limits on the public verification pages.
    CERTIFICATE_ISSUER_NAME = "Association for Video Interaction Guidance UK (AVIGuk)"
    CERTIFICATE_ISSUER_URL = "https://www.videointeractionguidance.net"
    CERTIFICATE_ISSUER_DESCRIPTION = (
        "The UK charity that regulates training in Video Interaction Guidance (VIG) and accredits its "
        "practitioners and supervisors."
    )
    # Shown by wallets and verifiers beside the issuer's name; left out of credentials until set.
    CERTIFICATE_ISSUER_EMAIL = os.environ.get("CERTIFICATE_ISSUER_EMAIL", "")
    CERTIFICATE_ISSUER_IMAGE = os.environ.get("CERTIFICATE_ISSUER_IMAGE", "")  # an https URL of AVIGuk's logo
    VERIFY_RATE_LIMIT = "30 per minute"
    # Verifiers' software fetches the key set, status list and issuer profile for every check.
    VERIFY_DOCUMENT_RATE_LIMIT = "120 per minute"
    # Digital wallets (OpenID4VCI): how long an offer's code works, and the access token and nonce it
    # leads to. Short, because whoever holds the code collects the credential.
    WALLET_OFFER_MINUTES = int(os.environ.get("WALLET_OFFER_MINUTES", "10"))
    WALLET_ACCESS_TOKEN_SECONDS = 300
    WALLET_NONCE_SECONDS = 300
    # Who signs the certificate PDFs (printed under the signature line).
    CERTIFICATE_SIGNATORY = os.environ.get("CERTIFICATE_SIGNATORY", "AVIGuk Accreditation Panel")
    CERTIFICATE_SIGNATORY_TITLE = os.environ.get(
        "CERTIFICATE_SIGNATORY_TITLE", "On behalf of the Association for Video Interaction Guidance UK"
    )
    # Bulk issue runs on a background thread of the web process (tests run it in the request).
    BULK_ISSUE_IN_BACKGROUND = True
    # Bulk import of people writes on a background thread of the web process too (tests run it in the
    # request); an uploaded file waits for its import this long, then the retention schedule deletes it.
    IMPORT_IN_BACKGROUND = True
    IMPORT_STAGING_RETENTION = timedelta(days=1)
    # JSON API: requests per token (per address without one), counted in RATELIMIT_STORAGE_URI.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")

    # Clients answering outcome measures on their own phone: how long a link works, in days from the
    # day it is made (it works until the end of the last day, UK time).
    SELF_COMPLETION_DAYS = int(os.environ.get("SELF_COMPLETION_DAYS", "14"))
    # What the client is shown when they answer a risk item (one paragraph a line); services replace it
    # with their own crisis contacts.
    CRISIS_SIGNPOSTING = os.environ.get("CRISIS_SIGNPOSTING", DEFAULT_CRISIS_SIGNPOSTING)
    # The public answer pages, per address: every request, and (far fewer) links that match nothing,
    # so nobody can try tokens until one works.
    RESPOND_RATE_LIMIT = "60 per minute"
    RESPOND_MISS_LIMIT = "10 per hour"

    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = database_url()
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or instance_secret("secret_key")
        # Encrypt the secrets the database holds (vigtrain/encryption.py); never kept in the database.
        self.DATA_KEYS = load_data_keys(os.environ.get(KEYS_VARIABLE), INSTANCE_DIR / KEYS_FILENAME)
        # Outside the web root; served only as attachments to people allowed to read them.
        self.UPLOAD_FOLDER = os.environ.get("UPLOAD_FOLDER") or str(INSTANCE_DIR / "uploads")
        self.IMPORT_FOLDER = os.environ.get("IMPORT_FOLDER") or str(INSTANCE_DIR / "imports")
        # The public address: it is written into signed credentials and QR codes, so it never comes
        # from a request's Host header.
        self.BASE_URL = os.environ.get("VIGTRAIN_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        # How many reverse proxies stand in front (their X-Forwarded-For/-Proto/-Host are trusted):
        # without it, behind a proxy every person shares the proxy's address and its rate limits.
        self.PROXY_FIX_X_FOR = _whole_number("PROXY_FIX_X_FOR")
        # Every host must sign with the same key: point this at one shared file when there are several.
        self.CERTIFICATE_SIGNING_KEY_FILE = os.environ.get("CERTIFICATE_SIGNING_KEY_FILE") or str(
            INSTANCE_DIR / "certificate-signing-key.pem"
        )


class DevelopmentConfig(Config):
    """What `make run` uses: demo data, and administrators may skip second-factor enrolment."""

    ENV_NAME = "development"
    REQUIRE_ADMIN_SECOND_FACTOR = False
    DEMO_BANNER = True


class ProductionConfig(Config):
    """Deployed behind HTTPS: secure cookies, HSTS and a second factor for administrators."""

    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-vigtrain_session"
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    HSTS = True


class TestConfig(Config):
    """Fast hashing and an isolated database; CSRF stays on so tests meet it as users do."""

    ENV_NAME = "testing"
    TESTING = True
    REQUIRE_ADMIN_SECOND_FACTOR = False
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    RATELIMIT_STORAGE_URI = "memory://"
    IMPORT_IN_BACKGROUND = False

    def __init__(self) -> None:
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
        self.SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105 (tests only)
        # Fixed, so tests never write to instance/ and every worker of a parallel run agrees.
        self.DATA_KEYS = ("dmlndHJhaW4gdGVzdHMgb25seTsgbm90IHNlY3JldCE=",)  # "vigtrain tests only; not secret!"
        self.UPLOAD_FOLDER = os.path.join(tempfile.gettempdir(), f"vigtrain-test-uploads-{os.getpid()}")
        self.IMPORT_FOLDER = os.path.join(tempfile.gettempdir(), f"vigtrain-test-imports-{os.getpid()}")
        self.BASE_URL = "http://localhost"
        self.CERTIFICATE_SIGNING_KEY_FILE = os.path.join(
            tempfile.gettempdir(), f"vigtrain-test-signing-key-{os.getpid()}.pem"
        )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestConfig,
}


def load_config(name: str | None = None) -> Config:
    """Instantiate the named configuration (VIGTRAIN_CONFIG, default production)."""
    name = name or os.environ.get("VIGTRAIN_CONFIG", "production")
    try:
        return CONFIGS[name]()
    except KeyError:
        raise ValueError(f"Unknown configuration {name!r}; choose one of {', '.join(CONFIGS)}") from None
