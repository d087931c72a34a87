"""The API tier: a client that speaks JSON with a bearer token, and tokens for any person and scopes."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from vigtrain.api_tokens.models import SCOPES, PersonalAccessToken
from vigtrain.api_tokens.services import create_token, revoke_token
from vigtrain.dates import today
from vigtrain.extensions import db

ALL_SCOPES = tuple(SCOPES)
_names = itertools.count(1)


def issue_token(user, *scopes: str, expires_on: date | None = None, issued_on: date | None = None) -> str:
    """A working token for `user` (every scope unless some are named); committed."""
    issued_on = issued_on or today()
    _row, plaintext = create_token(
        None,
        user,
        f"Test token {next(_names)}",
        scopes or ALL_SCOPES,
        expires_on or issued_on + timedelta(30),
        issued_on,
    )
    db.session.commit()
    return plaintext


def expired_token(user, *scopes: str) -> str:
    """A token whose last day was a year ago."""
    issued = today() - timedelta(days=400)
    return issue_token(user, *scopes, issued_on=issued, expires_on=issued + timedelta(days=30))


def revoked_token(user, *scopes: str) -> str:
    plaintext = issue_token(user, *scopes)
    row = db.session.scalars(db.select(PersonalAccessToken).order_by(PersonalAccessToken.id.desc())).first()
    revoke_token(None, row)
    db.session.commit()
    return plaintext


class Api:
    """The test client, sending `Authorization: Bearer <token>` (or whatever header is given)."""

    def __init__(self, client, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def _headers(self, token, authorization, headers) -> dict:
        sent = dict(headers or {})
        if authorization is not None:
            sent["Authorization"] = authorization
        elif (token or self.token) is not None:
            sent["Authorization"] = f"Bearer {token or self.token}"
        return sent

    def get(self, path, token=None, authorization=None, headers=None, **kwargs):
        return self.client.get(path, headers=self._headers(token, authorization, headers), **kwargs)

    def post(self, path, json=None, token=None, authorization=None, headers=None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(token, authorization, headers), **kwargs)

    def delete(self, path, token=None, authorization=None, headers=None, **kwargs):
        return self.client.delete(path, headers=self._headers(token, authorization, headers), **kwargs)

    def request(self, method, path, json=None, **kwargs):
        if method == "POST":
            return self.post(path, json=json, **kwargs)
        return self.delete(path, **kwargs) if method == "DELETE" else self.get(path, **kwargs)

    def as_user(self, user, *scopes: str) -> Api:
        return Api(self.client, issue_token(user, *scopes))


@pytest.fixture
def api(client) -> Api:
    return Api(client)
