"""Builders for the cohort tests; each commits, as the pages read what is committed."""

from __future__ import annotations

from datetime import date

from tests.factories import make_enrolment, make_user
from vigtrain.accounts.models import Role
from vigtrain.cohorts.models import Cohort
from vigtrain.extensions import db


def make_cohort(name: str, version, lead=None, starts_on: date = date(2026, 1, 5)) -> Cohort:
    cohort = Cohort(name=name, pathway_version=version, starts_on=starts_on, lead=lead)
    db.session.add(cohort)
    db.session.commit()
    return cohort


def make_enrolments(count: int, admin, version: str = "2024.1", prefix: str = "Trainee"):
    """`count` enrolments, each for a new trainee named "<prefix> NN"."""
    return [
        make_enrolment(make_user(roles=(Role.TRAINEE,), name=f"{prefix} {number:02d}"), version=version, actor=admin)
        for number in range(count)
    ]


def join(cohort: Cohort, enrolments) -> None:
    for enrolment in enrolments:
        enrolment.cohort_id = cohort.id
    db.session.commit()


def signed_in(app, email: str):
    client = app.test_client()
    client.login(email)
    return client
