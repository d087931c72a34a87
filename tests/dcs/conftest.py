"""Fixtures the DCS tests share."""

from __future__ import annotations

import pytest


@pytest.fixture
def sign_in(app):
    """A fresh client signed in as `email` (each person has their own browser)."""

    def signed_in(email: str):
        client = app.test_client()
        client.login(email)
        return client

    return signed_in
