"""Asking the app one cell of the matrix: a request as one actor, its answer in the table's words,
and whether the database changed.

Each actor has one signed-in client for the whole run (nobody signs in per request), and each API
actor one token. Every request runs with the actor's cookies as they were after signing in, and
they are put back afterwards, so no request leaves anything (a flashed message, a half-finished
second-factor set-up, a signed-out session) for the next one.

Requests the table expects to be answered (anything but a refusal) run "dry": the app's commits
roll back instead, so an empty-bodied button that would act (revoke, unlock, sign out) leaves the
shared world as it was and the next request sees the same one. Requests the table expects to be
refused run for real, and the database's fingerprint before and after must match: a refusal that
changed anything is a failure whatever its status.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session
from sqlalchemy import Integer, event, func, literal_column, select, union_all

from tests.access.matrix import API_BODIES, Row
from tests.access.world import World
from vigtrain.api.openapi import OPERATIONS
from vigtrain.extensions import db

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Where each client finds a CSRF token for its session: any page with a form.
CSRF_PAGE = {True: "/account/details", False: "/login"}


def classify(status: int, location: str) -> str:
    """The table's word for an answer (see the vocabulary in tests/access/matrix.py)."""
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 400:
        return "in" if urlsplit(location).path == "/login" else "go"
    return str(status)


@dataclass(frozen=True)
class Answer:
    code: str
    status: int
    location: str
    changed: tuple[str, ...]  # tables whose fingerprint moved during the request

    def describe(self) -> str:
        where = f" to {self.location}" if self.location else ""
        return f"{self.code} ({self.status}{where})"


@contextlib.contextmanager
def commits_roll_back() -> Iterator[None]:
    """While inside, a commit flushes (so the database still checks what it would) and rolls back."""

    def dry_commit(self: Session) -> None:
        self.flush()
        self.rollback()

    real = Session.commit
    Session.commit = dry_commit  # type: ignore[method-assign]
    try:
        yield
    finally:
        Session.commit = real  # type: ignore[method-assign]


def _fingerprint_statement():
    """One statement: for every table its row count, highest id and the sum of its `version` column.

    Every change the app makes is audited (a new audit_event row) and every record that can be
    edited concurrently carries a version, so a change slips past this only if it is neither. (An
    API token's last-used time, noted on its own connection whatever the answer, is left out.)
    """
    parts = []
    for index, table in enumerate(db.metadata.sorted_tables):
        identity = table.c.get("id")
        version = table.c.get("version")
        parts.append(
            select(
                literal_column(str(index)).label("tbl"),
                func.count().label("n"),
                func.coalesce(func.max(identity), 0).label("i")
                if identity is not None and isinstance(identity.type, Integer)
                else literal_column("0").label("i"),
                func.coalesce(func.sum(version), 0).label("v")
                if version is not None and isinstance(version.type, Integer)
                else literal_column("0").label("v"),
            ).select_from(table)
        )
    return union_all(*parts)


class Prober:
    """Sends the matrix's requests, one actor at a time, and says what came back."""

    def __init__(self, app: Flask, world: World, web_actors: tuple[str, ...]) -> None:
        self.app = app
        self.world = world
        self.clients = {}
        self.csrf = {}
        for actor in web_actors:
            client = app.test_client()
            if actor != "anon":
                response = client.login(world.emails[actor])
                assert response.status_code == 302, f"{actor} could not sign in ({response.status_code})"
            page = client.get(CSRF_PAGE[actor != "anon"])
            match = CSRF_INPUT.search(page.get_data(as_text=True))
            assert match, f"no CSRF token for {actor}"
            self.clients[actor], self.csrf[actor] = client, match.group(1)
        self.bare = app.test_client()  # API requests: no cookies at all
        self.tables = [table.name for table in db.metadata.sorted_tables]
        self.statement = _fingerprint_statement()
        self.last = self.fingerprint()

    def fingerprint(self) -> dict[str, tuple]:
        with db.engine.connect() as connection:
            rows = connection.execute(self.statement).all()
        return {self.tables[int(row.tbl)]: (row.n, row.i, row.v) for row in rows}

    def ask(self, row: Row, actor: str, dry: bool) -> Answer:
        """Send `row`'s request as `actor`; `dry`: let nothing it commits stay."""
        url = row.url(self.world.values)
        client, kwargs = self._request(row, actor, urlsplit(url).path)
        saved = dict(client._cookies)
        with commits_roll_back() if dry else contextlib.nullcontext():
            # Buffered: a streamed body (a CSV export) is produced inside the request, as sent.
            response = client.open(url, method=row.method, buffered=True, **kwargs)
        client._cookies.clear()
        client._cookies.update(saved)
        status, location = response.status_code, response.headers.get("Location", "")
        now = self.fingerprint()
        changed = tuple(name for name in self.tables if now[name] != self.last[name])
        self.last = now
        return Answer(classify(status, location), status, location, changed)

    def statements(self, row: Row, actor: str) -> tuple[int, list[str]]:
        """Send `row`'s request as `actor` dry; its status and the SQL statements it issued."""
        url = row.url(self.world.values)
        client, kwargs = self._request(row, actor, urlsplit(url).path)
        saved = dict(client._cookies)
        issued: list[str] = []

        def count(_connection, _cursor, statement, *_args) -> None:
            issued.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            with commits_roll_back():
                response = client.open(url, method=row.method, buffered=True, **kwargs)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        client._cookies.clear()
        client._cookies.update(saved)
        return response.status_code, issued

    def _request(self, row: Row, actor: str, path: str) -> tuple[FlaskClient, dict]:
        """The client to send with (the actor's own, or a cookieless one for a token) and its arguments."""
        if not row.api:
            data = {"csrf_token": self.csrf[actor]} if row.method == "POST" else None
            return self.clients[actor], {"data": data}
        headers = {}
        if actor == "sess":
            return self.clients["tr"], {"headers": headers}
        if actor == "scope":
            endpoint, _ = self.app.url_map.bind("localhost").match(path, row.method)
            operation = OPERATIONS.get(endpoint.split(".", 1)[1])
            needed = operation.scope if operation is not None and operation.scope else "cases:read"
            headers["Authorization"] = f"Bearer {self.world.tokens_without[needed]}"
        elif actor != "none":
            headers["Authorization"] = f"Bearer {self.world.tokens[actor]}"
        kwargs: dict = {"headers": headers}
        body = API_BODIES.get(f"{row.method} {row.template}")
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        return self.bare, kwargs
