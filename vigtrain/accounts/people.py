"""Finding a person without listing everyone: the search behind every "choose a person" field.

A field names a purpose ("enrol_trainee", "accreditor", ...); the purpose says who may search
for it and whom they may find (which role, which service, whom to leave out). The same scope
decides the typed search, the search-then-choose page without JavaScript, and whether a posted
id is acceptable, so a crafted request can pick nobody a search would not have shown.
Email addresses are shown to administrators only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import case, func, or_, select

from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.extensions import db
from vigtrain.forms import PersonField, search_words, whole_number
from vigtrain.security import (
    can_enrol,
    can_log_supervision,
    can_manage_enrolment,
    can_request_accreditor,
    is_administrator,
)

MIN_QUERY = 2
MAX_QUERY = 100
LIMIT = 10


@dataclass(frozen=True)
class Scope:
    """Whom a search may find: holders of `roles`, in `service_id` when `own_service`, less `excluding`."""

    roles: tuple[Role, ...]
    own_service: bool = False
    service_id: int | None = None
    excluding: tuple[int, ...] = ()
    emails: bool = False  # the searcher may see email addresses

    def where(self, query):
        query = query.where(
            User.is_active_flag.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(self.roles))),
        )
        if self.own_service:
            # Someone limited to their own service but without one finds nobody.
            query = query.where(User.service_id == self.service_id if self.service_id is not None else False)
        if self.excluding:
            query = query.where(User.id.not_in(self.excluding))
        return query


def _own_service(actor: User, roles: tuple[Role, ...], excluding: Iterable[int | None] = ()) -> Scope:
    """Administrators find anyone; others only people in their own service."""
    admin = is_administrator(actor)
    return Scope(
        roles,
        own_service=not admin,
        service_id=actor.service_id,
        excluding=tuple(i for i in excluding if i is not None),
        emails=admin,
    )


def _enrol_trainee(actor: User, _context: Any) -> Scope | None:
    return _own_service(actor, (Role.TRAINEE,)) if can_enrol(actor) else None


def _enrol_supervisor(actor: User, _context: Any) -> Scope | None:
    return _own_service(actor, (Role.SUPERVISOR,)) if can_enrol(actor) else None


def _change_supervisor(actor: User, enrolment: Any) -> Scope | None:
    if enrolment is None or not can_manage_enrolment(actor, enrolment):
        return None
    return _own_service(actor, (Role.SUPERVISOR,), [enrolment.trainee_id])


def _accreditor(actor: User, record: Any) -> Scope | None:
    """Accrediting supervisors come from anywhere (they are meant to be outside the trainee's team)."""
    if record is None or not can_request_accreditor(actor, record):
        return None
    enrolment = record.enrolment
    excluding = tuple(i for i in (enrolment.trainee_id, enrolment.supervisor_id) if i is not None)
    return Scope((Role.ACCREDITING_SUPERVISOR,), excluding=excluding, emails=is_administrator(actor))


def _session_supervisor(actor: User, enrolment: Any) -> Scope | None:
    """A trainee names whoever led a session: any supervisor, as the session rules allow."""
    if enrolment is None or actor.id != enrolment.trainee_id or not can_log_supervision(actor, enrolment):
        return None
    return Scope((Role.SUPERVISOR,), excluding=(enrolment.trainee_id,))


def _cohort_lead(actor: User, _context: Any) -> Scope | None:
    return Scope((Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR), emails=True) if is_administrator(actor) else None


def _service_lead(actor: User, service: Any) -> Scope | None:
    """Anyone who works at the service may be made one of its leads."""
    if service is None or not is_administrator(actor):
        return None
    return Scope(tuple(Role), own_service=True, service_id=service.id, excluding=(actor.id,), emails=True)


@dataclass(frozen=True)
class Purpose:
    name: str
    noun: str  # what the field chooses, for messages: "trainee", "supervisor"
    scope: Callable[[User, Any], Scope | None]
    context: str | None = None  # what the context id names: "enrolment", "stage", "service" or nothing
    shows_load: bool = False  # supervisors' load beside their names


PURPOSES = {
    purpose.name: purpose
    for purpose in (
        Purpose("enrol_trainee", "trainee", _enrol_trainee),
        Purpose("enrol_supervisor", "supervisor", _enrol_supervisor, shows_load=True),
        Purpose("change_supervisor", "supervisor", _change_supervisor, "enrolment", shows_load=True),
        Purpose("accreditor", "accrediting supervisor", _accreditor, "stage", shows_load=True),
        Purpose("session_supervisor", "supervisor", _session_supervisor, "enrolment"),
        Purpose("cohort_lead", "course lead", _cohort_lead, shows_load=True),
        Purpose("service_lead", "person", _service_lead, "service"),
    )
}


# --- searching ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    user: User
    hint: str = ""

    def as_json(self) -> dict:
        return {"id": self.user.id, "name": self.user.display_name, "hint": self.hint}


def _term(text: str | None) -> str:
    return search_words(text, MAX_QUERY).lower()


def search(scope: Scope, text: str | None, limit: int = LIMIT) -> tuple[list[User], bool]:
    """Up to `limit` people in scope whose name or (for administrators) email holds the text, names
    starting with it first; and whether more matched. Too short a text finds nobody."""
    term = _term(text)
    if len(term) < MIN_QUERY:
        return [], False
    name = func.lower(User.display_name)
    matches = [name.contains(term, autoescape=True)]
    if scope.emails:
        matches.append(User.email.contains(term, autoescape=True))
    query = scope.where(select(User).where(or_(*matches)))
    starts = case((name.startswith(term, autoescape=True), 0), else_=1)
    people = list(db.session.scalars(query.order_by(starts, User.display_name, User.id).limit(limit + 1)))
    return people[:limit], len(people) > limit


def in_scope(scope: Scope, user_id: str | int | None) -> User | None:
    """The person a form posted, if a search in this scope could have found them; else None."""
    number = whole_number(str(user_id or ""))
    if number is None:
        return None
    return db.session.scalar(scope.where(select(User).where(User.id == number)))


def describe(
    people: list[User], scope: Scope, hints: Callable[[list[User]], dict[int, str]] | None = None
) -> list[Match]:
    """Each person with what tells them apart: email (administrators only), service, and any extra hint."""
    extra = hints(people) if hints and people else {}
    matches = []
    for person in people:
        parts = [person.email] if scope.emails else []
        if person.service is not None:
            parts.append(person.service.name)
        if person.id in extra:
            parts.append(extra[person.id])
        matches.append(Match(person, " · ".join(parts)))
    return matches


# --- binding a form's person fields ---------------------------------------------------------------


@dataclass
class Binding:
    """What `bind` found: whether the request was a search rather than a submission."""

    searching: bool = False
    scopes: dict[str, Scope] = field(default_factory=dict)


def bind(
    form: FlaskForm,
    actor: User,
    context: Any = None,
    hints: Callable[[list[User]], dict[int, str]] | None = None,
) -> Binding:
    """Give each person field its scope, its chosen person and (when asked) its search results.

    Without JavaScript, the field's Search button posts the whole form with `find=<field name>`;
    the view then shows the page again with the results as choices instead of acting.
    """
    binding = Binding()
    finding = request.form.get("find") if request.method == "POST" else None
    for person_field in form:
        if not isinstance(person_field, PersonField):
            continue
        purpose = PURPOSES[person_field.purpose]
        scope = purpose.scope(actor, context)
        if scope is None:
            continue
        binding.scopes[person_field.name] = scope
        person_field.search_url = url_for(
            "training.search_people",
            **{"for": purpose.name},
            **({"context": context.id} if purpose.context and context is not None else {}),
        )
        person_field.shows_email = scope.emails
        person_hints = hints if purpose.shows_load else None
        chosen = in_scope(scope, person_field.data)
        if chosen is not None:
            person_field.chosen = describe([chosen], scope, person_hints)[0]
        if finding == person_field.name:
            binding.searching = True
            person_field.searched = True
            people, person_field.more = search(scope, person_field.query)
            person_field.results = [
                match for match in describe(people, scope, person_hints) if chosen is None or match.user.id != chosen.id
            ]
            if len(_term(person_field.query)) < MIN_QUERY:
                person_field.errors = [f"Enter at least {MIN_QUERY} letters of the {purpose.noun}'s name"]
    return binding


def chosen(form_field: PersonField) -> User | None:
    """The person a bound field holds (None if nobody, or nobody it may hold)."""
    return form_field.chosen.user if form_field.chosen is not None else None
