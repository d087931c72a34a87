"""Lists come a page at a time, with links to the other pages in the body and in the Link header."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import ceil
from typing import Any, TypeVar

from flask import request, url_for
from sqlalchemy import Select

from vigtrain.api.schemas import PageLinks, Paging
from vigtrain.pagination import paginate

Item = TypeVar("Item")
DEFAULT_PER_PAGE = Paging.model_fields["per_page"].default


def _links(paging: Paging, total: int, filters: dict[str, Any]) -> PageLinks:
    last = max(1, ceil(total / paging.per_page))
    arguments = {name: value for name, value in filters.items() if value is not None}
    if paging.per_page != DEFAULT_PER_PAGE:
        arguments["per_page"] = paging.per_page

    def link(number: int) -> str:
        return url_for(request.endpoint, **(request.view_args or {}), **arguments, page=number)

    return PageLinks(
        self=link(paging.page),
        first=link(1),
        last=link(last),
        prev=link(min(paging.page - 1, last)) if paging.page > 1 else None,
        next=link(paging.page + 1) if paging.page < last else None,
    )


def link_header(links: PageLinks) -> str:
    """RFC 8288: `<url>; rel="next", ...` for the neighbours that exist."""
    found = links.model_dump(exclude={"self"})
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in found.items() if url is not None)


def page_of(
    query: Select,
    paging: Paging,
    render: Callable[[list], Sequence[Any]],
    filters: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of a query: the page's fields (items rendered together, so a page costs a few queries)."""
    page = paginate(query, paging.page, paging.per_page)
    return _page(list(render(list(page.items))), page.total or 0, paging, filters or {})


def page_of_list(
    items: Sequence[Item], paging: Paging, render: Callable[[Item], Any], filters: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """One page of a short list held in memory (the measure library)."""
    start = (paging.page - 1) * paging.per_page
    chosen = [render(item) for item in items[start : start + paging.per_page]]
    return _page(chosen, len(items), paging, filters or {})


def _page(items: list, total: int, paging: Paging, filters: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    links = _links(paging, total, filters)
    fields = {"items": items, "total": total, "page": paging.page, "per_page": paging.per_page, "links": links}
    return fields, {"Link": link_header(links)}
