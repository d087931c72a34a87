"""Consistent online backups of the embedded SQLite database, and restoring one.

SQLite's backup API copies a live database page by page while the app keeps running, so the
copy is consistent without stopping anyone. PostgreSQL deployments use pg_dump instead.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

PG_GUIDANCE = (
    "This deployment uses PostgreSQL: back it up with pg_dump, for example\n"
    '  pg_dump --format=custom --file=vigtrain-$(date +%F).dump "$DATABASE_URL"\n'
    'and restore with pg_restore --clean --if-exists --dbname="$DATABASE_URL" FILE.'
)


class BackupError(RuntimeError):
    pass


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(PG_GUIDANCE)
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory database cannot be backed up")
    return Path(url.database)


def backup_sqlite(database_url: str, destination: Path) -> int:
    """Copy the live database to `destination`; returns its size in bytes."""
    source_path = sqlite_path(database_url)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source_path) as source, sqlite3.connect(destination) as target:
        source.backup(target)
    with sqlite3.connect(destination) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"The backup at {destination} failed its integrity check")
    return destination.stat().st_size


def restore_sqlite(database_url: str, backup: Path) -> None:
    """Replace the live database's contents with `backup` (checked first)."""
    if not backup.is_file():
        raise BackupError(f"No backup file at {backup}")
    with sqlite3.connect(backup) as check:
        try:
            ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            has_schema = check.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{backup} is not a vigtrain SQLite backup: {exc}") from None
    if not ok or not has_schema:
        raise BackupError(f"{backup} is not a complete vigtrain backup")
    with sqlite3.connect(backup) as source, sqlite3.connect(sqlite_path(database_url)) as target:
        source.backup(target)
