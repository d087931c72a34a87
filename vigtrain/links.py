"""Addresses sent outside a page (emails, QR codes, credentials) are built from BASE_URL.

A request's Host header is chosen by whoever sends the request; a link built from it could send a
password-reset token to an address an attacker controls.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def path_for(endpoint: str, **values: object) -> str:
    """The path of `endpoint` inside vigtrain, in a request or not (a scheduled job has none)."""
    if has_request_context():
        return url_for(endpoint, **values)
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public_url(endpoint: str, **values: object) -> str:
    """The absolute address of `endpoint` at vigtrain's configured public address."""
    return current_app.config["BASE_URL"] + path_for(endpoint, **values)
