"""Employing organisations (services) and the UK regions and nations they sit in."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigtrain.dates import UTCDateTime, utcnow
from vigtrain.extensions import db, str_enum


class Region(db.Model):
    """A UK region (England) or nation; seeded by migration, keyed by ONS code."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    nation: Mapped[str] = mapped_column(String(20))

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class ServiceKind(enum.StrEnum):
    NHS_TRUST = "nhs_trust"
    LOCAL_AUTHORITY = "local_authority"
    CHARITY = "charity"
    SCHOOL = "school"
    INDEPENDENT = "independent"

    @property
    def label(self) -> str:
        return SERVICE_KIND_LABELS[self]


SERVICE_KIND_LABELS = {
    ServiceKind.NHS_TRUST: "NHS trust or health board",
    ServiceKind.LOCAL_AUTHORITY: "Local authority",
    ServiceKind.CHARITY: "Charity or voluntary organisation",
    ServiceKind.SCHOOL: "School or education setting",
    ServiceKind.INDEPENDENT: "Independent practice",
}


class Service(db.Model):
    """An organisation that employs VIG practitioners and trainees."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[ServiceKind] = mapped_column(str_enum(ServiceKind))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    region: Mapped[Region] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Service {self.id} {self.name}>"
