"""Lists are paginated one way everywhere."""

from __future__ import annotations

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from vigtrain.extensions import db

MAX_PAGE = 100_000


def paginate(query: Select, page: str | int | None, per_page: int | None = None) -> Pagination:
    """A page of `query`; a missing, malformed or out-of-range page number means page 1."""
    try:
        number = int(page or 1)
    except (TypeError, ValueError):
        number = 1
    number = min(max(number, 1), MAX_PAGE)
    return db.paginate(
        query, page=number, per_page=per_page or current_app.config["PAGE_SIZE"], error_out=False, count=True
    )
