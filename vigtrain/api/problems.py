"""RFC 9457 problem details: every error the API answers, in one shape, as application/problem+json.

A problem names its `type` (a link to its explanation on the API's documentation page), a short
`title` that is the same for every occurrence, the HTTP `status`, a `detail` about this occurrence
and the `instance` (the path asked for). Validation problems (422) list each field at fault in
`errors`, with a JSON Pointer into the request body where the field came from the body.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from vigtrain import UNAVAILABLE_ERRORS, answering_unavailable, database_unavailable
from vigtrain.errors import Conflict, DomainError, NotFound, PermissionDenied
from vigtrain.extensions import db

MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("vigtrain.api")


@dataclass(frozen=True)
class ProblemType:
    slug: str
    title: str
    explanation: str


# Every problem type the API uses, with the words the documentation page shows for it.
PROBLEM_TYPES: dict[str, ProblemType] = {
    problem.slug: problem
    for problem in (
        ProblemType(
            "invalid-body",
            "The request body could not be read as JSON",
            "Send the body as JSON with the header Content-Type: application/json.",
        ),
        ProblemType(
            "token-required",
            "A personal access token is needed",
            "Send the header Authorization: Bearer followed by a personal access token. "
            "Create one on your account page, under API tokens.",
        ),
        ProblemType(
            "invalid-token",
            "The token was not accepted",
            "The token is malformed, unknown, expired or revoked, or its owner's account is deactivated. "
            "The detail says which. Create a new token on your account page.",
        ),
        ProblemType(
            "insufficient-scope",
            "The token does not have the scope this needs",
            "Each operation needs one scope (shown in the reference below). Create a token with that scope.",
        ),
        ProblemType(
            "forbidden",
            "You may not do this",
            "Your token is good, but the people you act for do not include this: for example a supervisor "
            "may read a trainee's case but only the practitioner records outcome measures on it.",
        ),
        ProblemType(
            "not-found",
            "Not found",
            "There is nothing at this address that your token may see. Records you may not see answer "
            "404 too, so a reply never reveals that someone else's record exists.",
        ),
        ProblemType(
            "method-not-allowed",
            "Method not allowed",
            "This address does not accept that HTTP method; the Allow header lists the ones it does.",
        ),
        ProblemType(
            "conflict",
            "The request conflicts with the record as it is now",
            "Someone changed the record first (send the version you read), or it is no longer in a state that "
            "allows this (for example a session already confirmed, or a paused training record).",
        ),
        ProblemType(
            "validation",
            "Some fields are not valid",
            "`errors` lists each field at fault with a message; `pointer` locates it in the request body. "
            "Nothing was saved.",
        ),
        ProblemType(
            "rate-limited",
            "Too many requests",
            "Each token may make a limited number of requests a minute. Wait for the number of seconds in the "
            "Retry-After header.",
        ),
        ProblemType(
            "unavailable",
            "vigtrain is briefly unavailable",
            "vigtrain cannot reach its database just now. Nothing was saved. Wait for the number of seconds in "
            "the Retry-After header and send the request again.",
        ),
        ProblemType(
            "server-error",
            "Something went wrong on our side",
            "Nothing was saved. Try again later; if it keeps happening, quote the request_id to AVIGuk.",
        ),
    )
}
# Problems with no more meaning than their HTTP status (RFC 9457 section 4.2.1).
BLANK = "about:blank"
STATUS_TYPES = {
    400: "invalid-body",
    401: "invalid-token",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    422: "validation",
    429: "rate-limited",
    500: "server-error",
    503: "unavailable",
}
UNAVAILABLE = "vigtrain cannot reach its database just now, and nothing was saved. Try again in a minute."


class FieldError(BaseModel):
    """One field at fault: `field` names it (dotted), `pointer` locates it in the body (RFC 6901)."""

    field: str = Field(description="The field at fault, e.g. `started_on`, `responses.9` or `page`.")
    pointer: str | None = Field(
        None, description="A JSON Pointer (as a URI fragment) into the request body, e.g. `#/responses/9`."
    )
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="A link to the explanation of this kind of problem, or `about:blank`.")
    title: str
    status: int
    detail: str
    instance: str = Field(description="The path that was asked for.")
    request_id: str = Field(description="Quote this when asking AVIGuk about the request.")
    errors: list[FieldError] | None = Field(None, description="Only on 422: every field at fault.")


class ValidationProblem(Problem):
    """A 422: the request was understood, but fields break the rules. Nothing was saved."""

    model_config = ConfigDict(title="ValidationProblem")

    errors: list[FieldError]


class ApiProblem(Exception):
    """Raised anywhere in the API to answer with a problem; the blueprint's handler renders it."""

    def __init__(
        self,
        status: int,
        detail: str,
        kind: str | None = None,
        errors: Iterable[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or STATUS_TYPES.get(status)
        self.errors = list(errors)
        self.headers = dict(headers or {})


def type_uri(kind: str | None) -> str:
    """The problem type's address: its entry on the API documentation page."""
    if kind is None:
        return BLANK
    return f"{current_app.config['BASE_URL']}/api/v1/docs#problem-{kind}"


def problem_body(
    status: int, detail: str, kind: str | None = None, errors: Iterable[FieldError] | None = None
) -> dict[str, Any]:
    known = PROBLEM_TYPES.get(kind or STATUS_TYPES.get(status, ""))
    body: dict[str, Any] = {
        "type": type_uri(known.slug if known else None),
        "title": known.title if known else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id") or "",
    }
    if status == 422 or errors:
        body["errors"] = [error.model_dump() for error in errors or ()]
    return body


def problem_response(
    status: int,
    detail: str,
    kind: str | None = None,
    errors: Iterable[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = problem_body(status, detail, kind, errors)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- turning errors into problems ---------------------------------------------------------------


def pointer(location: Iterable[str | int]) -> str:
    """A JSON Pointer fragment (RFC 6901) for a location in the request body."""
    parts = [str(part).replace("~", "~0").replace("/", "~1") for part in location]
    return "#/" + "/".join(parts) if parts else "#"


def validation_errors(error: ValidationError, in_body: bool) -> list[FieldError]:
    """Pydantic's errors as field errors, in the words pydantic uses (they name the rule broken)."""
    found = []
    for item in error.errors(include_url=False, include_context=False):
        location = [part for part in item["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        found.append(
            FieldError(
                field=".".join(str(part) for part in location) or "body",
                pointer=pointer(location) if in_body else None,
                message=item["msg"],
            )
        )
    return found


def domain_problem(error: DomainError, fields: Mapping[str, str] | None = None) -> ApiProblem:
    """A broken rule from a service: 422 beside its field, or 409 when it is about the record's state.

    `fields` maps the service's field names to the request body's (e.g. administered_on → date); an
    item number from the scoring engine is a key of `responses`.
    """
    if isinstance(error, PermissionDenied):
        log.warning("API access denied by a service rule: %s (request %s)", error.message, g.get("request_id"))
        return ApiProblem(403, error.message)
    if isinstance(error, NotFound):
        return ApiProblem(404, error.message)
    if isinstance(error, Conflict) or not error.field:
        return ApiProblem(409, error.message)
    name = (fields or {}).get(error.field, error.field)
    if error.field.isdigit():
        name = f"responses.{error.field}"
    field_error = FieldError(field=name, pointer=pointer(name.split(".")), message=error.message)
    return ApiProblem(422, error.message, errors=[field_error])


def register_error_handlers(bp: Blueprint) -> None:
    """Every error raised while the API answers becomes a problem, and rolls back what was started."""

    @bp.errorhandler(ApiProblem)
    def api_problem(error: ApiProblem):
        db.session.rollback()
        return problem_response(error.status, error.detail, error.kind, error.errors, error.headers)

    @bp.errorhandler(DomainError)
    def broken_rule(error: DomainError):
        db.session.rollback()
        return api_problem(domain_problem(error))

    @bp.errorhandler(StaleDataError)
    def stale(error: StaleDataError):
        db.session.rollback()
        detail = "Someone else changed this record at the same time. Nothing was saved: read it again and retry."
        return problem_response(409, detail)

    @bp.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # A failure after the view (in an after-request hook) reaches here wrapped in a 500.
        if database_unavailable(getattr(error, "original_exception", None)):
            return unavailable(error.original_exception)
        db.session.rollback()
        return http_problem(error)

    @bp.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled API error (request %s)", g.get("request_id"))
        return problem_response(500, "Something went wrong and nothing was saved. Try again later.")

    def unavailable(error: BaseException):
        return problem_response(503, UNAVAILABLE, headers=answering_unavailable(error))

    def database_error(error: Exception):
        return unavailable(error) if database_unavailable(error) else unexpected(error)

    for kind in UNAVAILABLE_ERRORS:
        bp.register_error_handler(kind, database_error)


def http_problem(error: HTTPException) -> Response:
    """A problem for an HTTP error raised by Flask, Werkzeug or Flask-Limiter, keeping its headers (Allow)."""
    status = error.code or 500
    detail = {
        403: "Your token is good, but the person it acts for may not do this.",
        404: "There is nothing at this address that your token may see.",
        405: f"{request.method} is not allowed here.",
        429: "Too many requests with this token. Wait for the number of seconds in Retry-After and try again.",
    }.get(status) or (error.description or HTTPStatus(status).description)
    headers = {name: value for name, value in error.get_headers() if name.lower() not in ("content-type",)}
    return problem_response(status, detail, STATUS_TYPES.get(status), headers=headers)


def routing_problem(response: Response) -> Response:
    """An address under /api/v1 that matches no route (404) or not with this method (405) is a problem too.

    Routing fails before any blueprint is chosen, so the app's own HTML error page was rendered; it
    is replaced in place, keeping the headers the app added (request id, security headers).
    """
    error = request.routing_exception
    if not isinstance(error, HTTPException) or (error.code or 0) < 400:
        return response
    replacement = http_problem(error)
    response.set_data(replacement.get_data())
    response.status_code = replacement.status_code
    response.mimetype = MEDIA_TYPE
    for name, value in replacement.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response
