"""Read-only lists of casework for pages: the cases a practitioner is working on now."""

from __future__ import annotations

from sqlalchemy import func, select

from vigtrain.accounts.models import User
from vigtrain.casework.models import Case, CaseStatus, Cycle
from vigtrain.dates import format_date
from vigtrain.extensions import db


def open_cases(practitioner: User) -> list[Case]:
    """The practitioner's open cases, the one worked on most recently first (its last shared review, or
    its start for a case with no cycle yet): what a form that asks "which case?" offers, in one query."""
    # Correlated, so it reads only this practitioner's cycles (by the index on cycle.case_id) rather
    # than grouping every cycle in the country.
    last_review = select(func.max(Cycle.shared_review_on)).where(Cycle.case_id == Case.id).scalar_subquery()
    latest = func.coalesce(last_review, Case.started_on)
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.practitioner_id == practitioner.id, Case.status == CaseStatus.OPEN)
            .order_by(latest.desc(), Case.created_at.desc(), Case.id.desc())
        )
    )


def case_choices(practitioner: User, prompt: str) -> tuple[list[tuple[str, str]], dict[str, Case]]:
    """The open cases as choices for a select (a prompt first), and each by code."""
    cases = open_cases(practitioner)
    by_code = {case.code: case for case in cases}
    labels = [
        (case.code, f"{case.code}: {case.relationship_label}, from {format_date(case.started_on)}") for case in cases
    ]
    return [("", prompt), *labels], by_code
