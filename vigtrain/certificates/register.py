"""The public register: practitioners who chose to be listed and hold a current accreditation.

Listing is the practitioner's choice (User.register_opt_in, off until they turn it on), and the
register shows only what they agreed to: name, credential, region and status.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import contains_eager

from vigtrain import audit
from vigtrain.accounts.models import User
from vigtrain.certificates.models import Certificate, CertificateKind, CertificateStatus
from vigtrain.extensions import db
from vigtrain.organisations.models import Region, Service

MAX_SEARCH = 100


def _current_accreditations(today: date) -> Select:
    """Accreditation certificates valid today: recorded as valid (or suspended until a day that has
    come, which the daily job has yet to lift) and whose end date has not passed."""
    return select(Certificate).where(
        Certificate.kind == CertificateKind.ACCREDITATION,
        or_(
            Certificate.status == CertificateStatus.VALID,
            and_(Certificate.status == CertificateStatus.SUSPENDED, Certificate.suspended_until <= today),
        ),
        or_(Certificate.valid_until.is_(None), Certificate.valid_until >= today),
    )


def register_entries(today: date, name: str = "", region_id: int | None = None) -> Select:
    """Opted-in holders' current accreditations, by name; `name` matches any part of it."""
    query = (
        _current_accreditations(today)
        .join(Certificate.holder)
        .outerjoin(User.service)
        .outerjoin(Service.region)
        .options(contains_eager(Certificate.holder).contains_eager(User.service).contains_eager(Service.region))
        .where(User.register_opt_in.is_(True), User.is_active_flag.is_(True))
        .order_by(Certificate.holder_name, Certificate.credential, Certificate.id)
    )
    # Control characters (a NUL is refused by PostgreSQL) can never match a name.
    name = " ".join("".join(char for char in name if char.isprintable()).split())[:MAX_SEARCH]
    if name:
        escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Certificate.holder_name.ilike(f"%{escaped}%", escape="\\"))
    if region_id is not None:
        query = query.where(Region.id == region_id)
    return query


def holds_current_accreditation(user: User, today: date) -> bool:
    """Whether `user` would appear in the register if they chose to."""
    query = _current_accreditations(today).where(Certificate.holder_id == user.id).limit(1)
    return db.session.scalar(query) is not None


def set_register_opt_in(actor: User, user: User, listed: bool) -> bool:
    """Record the practitioner's choice; returns whether anything changed (audited if so)."""
    if user.register_opt_in is listed:
        return False
    before = audit.snapshot(user, "register_opt_in")
    user.register_opt_in = listed
    db.session.flush()
    audit.record(actor, "register.opt_in_changed", user, before=before, after=audit.snapshot(user, "register_opt_in"))
    return True
