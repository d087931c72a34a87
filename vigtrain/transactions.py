"""The one way a change is run and committed, for web views, API views, CLI commands and jobs.

Services flush and never commit; whoever calls them hands the call to `run`, which commits it or,
on any failure at all, rolls it back, so no caller can forget either half. Around that core:

- `submit` (web forms): a broken rule becomes a message beside its field and nothing is saved;
- `command` (the CLI): a broken rule becomes the command's error message and exit status 1;
- the API passes `refusal=` to turn a broken rule into its problem document (see `vigtrain.api.problems`).

A stale version, seen by the service (`Conflict`) or by the database when two people save at once
(`StaleDataError`), always escapes as `Conflict`, which pages and the API answer with 409; a refused
permission (`PermissionDenied`) and a missing thing (`NotFound`) escape as themselves (403, 404).

Retrying is opt-in, because only the caller knows that running its change again is safe: the
change must read everything afresh (a rollback expires what the session held) and be idempotent
by a unique key, as certificate issue is. Then a unique value taken first by a concurrent request,
a PostgreSQL serialisation failure or a deadlock rolls back and runs the change again. A unique
value taken first that is not retried escapes as `Conflict` (409): the other request won.

A creating form with no natural unique key carries a one-time key (`vigtrain.submissions`); `submit`
with `once=` claims it before the change, so the same form sent twice saves once, and the repeat is
answered with the first one's outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import click
from flask import flash
from flask_wtf import FlaskForm
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from vigtrain import submissions
from vigtrain.errors import STALE, Conflict, DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db
from vigtrain.forms import OUT_OF_DATE, add_error

log = logging.getLogger("vigtrain.transactions")

T = TypeVar("T")
# PostgreSQL's "try again" states: serialization_failure and deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# Errors that are answered as themselves (409, 403, 404), never as a message beside a field.
ESCALATED = (Conflict, PermissionDenied, NotFound)
CLASH = (
    "Someone else saved the same thing at the same moment, so this was not saved. "
    "Check the latest and try again if it is still needed."
)


def _retryable(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        return True
    # psycopg 3 names the state `sqlstate`; SQLite's driver has none, and never asks for a retry.
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run(
    change: Callable[[], T],
    *,
    retries: int = 0,
    keep_refused: bool = False,
    refusal: Callable[[DomainError], Exception] | None = None,
) -> T:
    """Run `change` and commit; roll back on any failure, then re-raise it.

    `retries`: how many more times to run a change that lost a race in the database (see the
    module's note on when that is safe). `keep_refused`: commit what the service flushed before it
    refused (a failed sign-in's count must survive its refusal). `refusal`: turns a broken rule
    (not a conflict, permission or missing thing) into the exception the caller's world expects.
    """
    attempt = 0
    while True:
        try:
            result = change()
            db.session.commit()
            return result
        except StaleDataError:
            db.session.rollback()
            raise Conflict(STALE) from None
        except ESCALATED:
            db.session.rollback()
            raise
        except DomainError as error:
            if keep_refused:
                _commit_or_roll_back()
            else:
                db.session.rollback()
            if refusal is not None:
                raise refusal(error) from None
            raise
        except DBAPIError as error:
            db.session.rollback()
            if attempt < retries and _retryable(error):
                attempt += 1
                log.info("retrying a change that lost a race (%s), attempt %d", type(error).__name__, attempt + 1)
                continue
            if _retryable(error):
                raise Conflict(CLASH) from error
            raise
        except BaseException:
            db.session.rollback()
            raise


def run_unless_taken(change: Callable[[], T]) -> T | None:
    """Run and commit a change that inserts a unique value; None (rolled back) if someone else took
    it first. For claims, where losing the race is an answer, not an error: a job's period, the
    scheduler's lease."""
    try:
        return run(change)
    except Conflict as clash:
        if isinstance(clash.__cause__, IntegrityError):
            return None
        raise


def _commit_or_roll_back() -> None:
    """Commit what a refused change kept; if even that fails, roll back like any other failure."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise Conflict(STALE) from None
    except BaseException:
        db.session.rollback()
        raise


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What `submit` did: `ok` (truthy) with the service's result, or refused with nothing saved.

    `repeat`, when set, is where the first copy of a form sent twice led: nothing was saved this time
    because it was saved then, and the view answers by going there too.
    """

    ok: bool
    value: T | None = None
    repeat: str | None = None

    def __bool__(self) -> bool:
        return self.ok


REPEATED = "This was already saved, so it was not saved again."


def submit(
    form: FlaskForm | None,
    change: Callable[[], T],
    *,
    once: str | None = None,
    outcome_url: Callable[[T], str] | None = None,
    **options,
) -> Outcome[T]:
    """Run a web form's change; a broken rule goes beside its field (or is flashed if no form).

    `once`: the form's one-time key (see `vigtrain.submissions`); `outcome_url` turns the change's
    result into the address its answer leads to, kept for a repeat. Conflicts, refused permissions
    and missing things escape to the app's handlers (409, 403, 404).
    """
    if once is not None:
        if not once:
            add_error(form, OUT_OF_DATE) if form is not None else flash(OUT_OF_DATE, "error")
            return Outcome(False)
        change = _claiming(once, change, outcome_url)
    try:
        return Outcome(True, run(change, **options))
    except ESCALATED as error:
        if once and isinstance(error, Conflict) and (first := submissions.earlier(once)) is not None:
            db.session.rollback()
            flash(REPEATED, "info")
            return Outcome(False, repeat=first.outcome_url or "/")
        raise
    except DomainError as error:
        if form is None:
            flash(error.message, "error")
        else:
            add_error(form, error.message, error.field)
        return Outcome(False)


def _claiming(key: str, change: Callable[[], T], outcome_url: Callable[[T], str] | None) -> Callable[[], T]:
    def claimed() -> T:
        submission = submissions.claim(key)
        result = change()
        if outcome_url is not None:
            submission.outcome_url = outcome_url(result)[:500]
        return result

    return claimed


def command(change: Callable[[], T], *, prefix: str = "", refuse: tuple[type[Exception], ...] = (), **options) -> T:
    """Run a CLI command's change; a broken rule (or one of `refuse`) stops it with its message."""
    try:
        return run(change, **options)
    except (DomainError, *refuse) as error:
        raise click.ClickException(f"{prefix}{getattr(error, 'message', error)}") from None
