"""Lists are paginated one way everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from vigtrain.extensions import db

MAX_PAGE = 100_000


def _page_number(page: str | int | None) -> int:
    try:
        number = int(page or 1)
    except (TypeError, ValueError):
        number = 1
    return min(max(number, 1), MAX_PAGE)


def paginate(query: Select, page: str | int | None, per_page: int | None = None) -> Pagination:
    """A page of `query`; a missing, malformed or out-of-range page number means page 1."""
    number = _page_number(page)
    return db.paginate(
        query, page=number, per_page=per_page or current_app.config["PAGE_SIZE"], error_out=False, count=True
    )


class ListPagination(Pagination):
    """The same pages over a list already in memory (an import's preview), for the same macro."""

    def _query_items(self) -> list[Any]:
        items = self._query_args["items"]
        return list(items[self._query_offset : self._query_offset + self.per_page])

    def _query_count(self) -> int:
        return len(self._query_args["items"])


class UncountedPage:
    """A page of a list too long to count on every view (the audit trail holds millions of events):
    it knows whether there is a next page, by reading one row more than it shows, not how many pages
    there are. `total` and `pages` are None; the pagination macro then offers previous and next."""

    total = None
    pages = None

    def __init__(self, items: list[Any], page: int, per_page: int, has_next: bool) -> None:
        self.items, self.page, self.per_page, self.has_next = items, page, per_page, has_next
        self.has_prev = page > 1
        self.prev_num = page - 1 if self.has_prev else None
        self.next_num = page + 1 if has_next else None
        self.first = (page - 1) * per_page + 1 if items else 0
        self.last = (page - 1) * per_page + len(items)


def paginate_uncounted(query: Select, page: str | int | None, per_page: int | None = None) -> UncountedPage:
    """A page of `query` without counting it; a page past the end means page 1, as `paginate` does."""
    number = _page_number(page)
    per_page = per_page or current_app.config["PAGE_SIZE"]
    rows = list(db.session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)))
    if not rows and number > 1:
        return paginate_uncounted(query, 1, per_page)
    return UncountedPage(rows[:per_page], number, per_page, len(rows) > per_page)


def paginate_list(items: Sequence[Any], page: str | int | None, per_page: int | None = None) -> Pagination:
    """A page of `items`; a missing, malformed or out-of-range page number means page 1."""
    number = _page_number(page)
    per_page = per_page or current_app.config["PAGE_SIZE"]
    if (number - 1) * per_page >= len(items):
        number = 1
    return ListPagination(page=number, per_page=per_page, max_per_page=None, error_out=False, items=items)


def query_args(**overrides: Any) -> dict[str, Any]:
    """This request's query arguments, safe to pass to `url_for` when linking to another page of it.

    Keys that `url_for` treats as its own (`endpoint`, `_scheme`, `_external`, ...) or that clash
    with the view's own arguments are dropped: passed on, a crafted query string would break the
    link building and the page with it.
    """
    reserved = set(request.view_args or {}) | {"endpoint"}
    kept = {
        key: values
        for key, values in request.args.to_dict(flat=False).items()
        if key not in reserved and not key.startswith("_")
    }
    return {**kept, **overrides}
