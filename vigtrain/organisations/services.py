"""Services (employing organisations) and regions.

Accounts sit above organisations (a person belongs to a service), so this module never imports
them: where it needs what accounts know, it asks through a signal that accounts answer.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from blinker import Namespace
from sqlalchemy import func, select

from vigtrain import audit
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service, ServiceKind
from vigtrain.organisations.regions import UK_REGIONS

if TYPE_CHECKING:
    from vigtrain.accounts.models import User

SERVICE_AUDIT_FIELDS = ("name", "kind", "region_id", "is_active")

_signals = Namespace()

members_counted = _signals.signal("service-members-counted")
"""Asks how many people belong to each service; each answer is a dict of counts by service id."""


def ensure_regions() -> None:
    """Add any UK region missing from the table (a database built without migrations)."""
    have = set(db.session.scalars(select(Region.code)))
    for code, name, nation in UK_REGIONS:
        if code not in have:
            db.session.add(Region(code=code, name=name, nation=nation))
    db.session.flush()


def regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.id)))


def active_services() -> list[Service]:
    return list(db.session.scalars(select(Service).where(Service.is_active).order_by(Service.name)))


def service_choices() -> list[tuple[str, str]]:
    return [("", "No service")] + [(str(s.id), s.name) for s in active_services()]


def _check_name(name: str, service: Service | None = None) -> None:
    clash = db.session.scalar(select(Service).where(func.lower(Service.name) == name.lower()))
    if clash is not None and clash is not service:
        raise DomainError("A service with this name already exists", field="name")


def create_service(actor: User, name: str, kind: ServiceKind, region: Region) -> Service:
    name = name.strip()
    _check_name(name)
    service = Service(name=name, kind=kind, region=region, is_active=True)
    db.session.add(service)
    db.session.flush()
    audit.record(actor, "service.created", service, after=audit.snapshot(service, *SERVICE_AUDIT_FIELDS))
    return service


def update_service(actor: User, service: Service, name: str, kind: ServiceKind, region: Region, active: bool) -> None:
    name = name.strip()
    _check_name(name, service)
    before = audit.snapshot(service, *SERVICE_AUDIT_FIELDS)
    service.name, service.kind, service.region, service.is_active = name, kind, region, active
    db.session.flush()
    after = audit.snapshot(service, *SERVICE_AUDIT_FIELDS)
    if after != before:
        audit.record(actor, "service.updated", service, before=before, after=after)


def service_member_counts() -> dict[int, int]:
    """How many people belong to each service, by service id (as the accounts domain counts them)."""
    if not members_counted.receivers:
        raise RuntimeError("nothing answers 'service-members-counted': the app factory imports accounts")
    counts: Counter[int] = Counter()
    for _receiver, answer in members_counted.send():
        counts.update(answer)
    return dict(counts)
