"""Pathway versions: loaded from the data files, never changed once loaded."""

from __future__ import annotations

import re

from sqlalchemy import select

from vigtrain import audit
from vigtrain.errors import DomainError
from vigtrain.extensions import db
from vigtrain.pathways.definitions import Pathway, load_pathway_files, principles
from vigtrain.pathways.models import PathwayVersion


def sync_pathways(pathways: list[Pathway] | None = None) -> tuple[list[PathwayVersion], list[PathwayVersion]]:
    """Load new pathway versions; refuse any change to a version already loaded.

    Returns (added, unchanged). Raises DomainError naming the version if a published file was
    edited in place (a version is immutable: copy the file and give it a new version).
    """
    pathways = pathways if pathways is not None else load_pathway_files()
    principles()  # fail early if the principles file is malformed
    existing = {(v.code, v.version): v for v in db.session.scalars(select(PathwayVersion))}
    added, unchanged = [], []
    for pathway in pathways:
        current = existing.get((pathway.code, pathway.version))
        if current is not None:
            if current.checksum != pathway.checksum():
                raise DomainError(
                    f"{pathway.code} version {pathway.version} is already loaded and cannot change. "
                    "Copy the file, give it a new version, and sync again."
                )
            unchanged.append(current)
            continue
        version = PathwayVersion(
            code=pathway.code,
            version=pathway.version,
            name=pathway.name,
            credential=pathway.credential,
            provisional=pathway.is_provisional,
            definition_json=pathway.canonical_json(),
            checksum=pathway.checksum(),
        )
        db.session.add(version)
        db.session.flush()
        audit.record(None, "pathway.version_loaded", version, after={"code": pathway.code, "version": pathway.version})
        added.append(version)
    return added, unchanged


def pathway_versions() -> list[PathwayVersion]:
    return list(db.session.scalars(select(PathwayVersion).order_by(PathwayVersion.code, PathwayVersion.version)))


def version_key(version: str) -> tuple:
    """Sort "2024.10" after "2024.9": numeric parts compare as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[.-]", version))


def latest_versions() -> list[PathwayVersion]:
    """The newest version of each pathway: what new enrolments are offered."""
    newest: dict[str, PathwayVersion] = {}
    for version in pathway_versions():
        if version.code not in newest or version_key(version.version) > version_key(newest[version.code].version):
            newest[version.code] = version
    return sorted(newest.values(), key=lambda v: v.name)
