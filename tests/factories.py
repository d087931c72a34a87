"""Small builders for test data; each flushes and leaves committing to the test."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from vigtrain.accounts.models import Role, User
from vigtrain.accounts.passwords import hash_password
from vigtrain.dates import utcnow
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service, ServiceKind

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


def make_service(name: str | None = None, region_code: str = "E12000003", kind=ServiceKind.NHS_TRUST) -> Service:
    region = db.session.scalar(select(Region).where(Region.code == region_code))
    service = Service(name=name or f"Service {next(_sequence)}", kind=kind, region=region)
    db.session.add(service)
    db.session.flush()
    return service


def make_user(
    email: str | None = None,
    roles: tuple[Role, ...] = (Role.TRAINEE,),
    password: str | None = PASSWORD,
    name: str | None = None,
    commit: bool = True,
    **fields,
) -> User:
    number = next(_sequence)
    user = User(
        email=(email or f"person{number}@example.org").lower(),
        display_name=name or f"Person {number}",
        password_hash=hash_password(password) if password else None,
        password_changed_at=utcnow() if password else None,
        **fields,
    )
    user.set_roles(set(roles))
    db.session.add(user)
    db.session.flush()
    if commit:
        db.session.commit()
    return user


def make_admin(email: str = "admin@example.org", **fields) -> User:
    return make_user(email, roles=(Role.ADMINISTRATOR,), name="Ada Admin", **fields)
