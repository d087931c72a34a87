"""One app and one world for the whole fuzzing module, and the server errors it logs.

The root conftest's `app` empties every table after each test, so the module keeps its own app
(built by the same `running_app`, which empties them once the module is done) and never asks
for `app` or `client`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.conftest import running_app
from tests.fuzz.world import build_world
from vigtrain.extensions import db

# Limits that would answer 429 long before the fuzzer is done with a form; their own tests cover them.
RATE_LIMITS = (
    "LOGIN_ACCOUNT_LIMIT",
    "LOGIN_IP_LIMIT",
    "TOKEN_REQUEST_LIMIT",
    "VERIFY_RATE_LIMIT",
    "VERIFY_DOCUMENT_RATE_LIMIT",
    "RESPOND_RATE_LIMIT",
    "RESPOND_MISS_LIMIT",
    "API_RATE_LIMIT",
)


class ServerErrors(logging.Handler):
    """Keeps the tracebacks the app logs when it answers 500, to show beside a failing example."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.tracebacks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.tracebacks.append(logging.Formatter().formatException(record.exc_info))

    def __repr__(self) -> str:
        return "<server errors>"

    def last(self) -> str:
        return self.tracebacks[-1] if self.tracebacks else "(no traceback logged)"


@pytest.fixture(scope="module")
def fuzz_app(database_url):
    with running_app(database_url) as app:
        app.config.update(dict.fromkeys(RATE_LIMITS, "100000 per minute"))
        # Issued within the request, so its writes land before the next example reads the database.
        app.config["BULK_ISSUE_IN_BACKGROUND"] = False
        # The half-finished sign-in the security code form needs must outlast a long run.
        app.config["SECOND_FACTOR_PENDING_MAX_AGE"] = timedelta(hours=12)
        yield app


@pytest.fixture(scope="module")
def world(fuzz_app):
    with fuzz_app.test_request_context():
        built = build_world()
        db.session.commit()
    return built


@pytest.fixture(scope="module")
def server_errors():
    handler = ServerErrors()
    logger = logging.getLogger("vigtrain.errors")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
