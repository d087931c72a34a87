"""An uploaded import file between its preview and its import, and the import's progress.

The file and a small JSON record of what happened to it live in IMPORT_FOLDER (outside the web root)
under a random key, not in the database: while an import writes, its one transaction holds SQLite's
write lock, so progress kept in the database could not be read until the import ended. Any web
worker on the host can read the record. The retention schedule deletes both after
IMPORT_STAGING_RETENTION (see `forget_before`).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from vigtrain.dates import utcnow
from vigtrain.errors import NotFound
from vigtrain.imports.reading import FileRefused, read_sheet

KEY = re.compile(r"[0-9a-f]{32}")
# A run that has not reported for this long died with its process (its transaction rolled back).
STALE_AFTER = timedelta(minutes=2)
RUNNING = ("waiting", "checking", "writing")


def folder() -> Path:
    path = Path(current_app.config["IMPORT_FOLDER"])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _paths(key: str) -> tuple[Path, Path]:
    if not KEY.fullmatch(key or ""):
        raise NotFound("no such import")
    base = folder() / key
    return base.with_suffix(".upload"), base.with_suffix(".json")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # Written beside and renamed over, so a reader never sees half a record.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.chmod(temporary, 0o600)
    temporary.replace(path)


def stage(data: bytes, record: dict[str, Any]) -> str:
    """Keep an uploaded file and its record; returns its key."""
    key = secrets.token_hex(16)
    upload, meta = _paths(key)
    upload.write_bytes(data)
    os.chmod(upload, 0o600)
    _write_json(meta, {**record, "key": key, "staged_at": utcnow().isoformat()})
    return key


def record(key: str) -> dict[str, Any]:
    _, meta = _paths(key)
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        raise NotFound("no such import") from None


def file_data(key: str) -> bytes:
    upload, _ = _paths(key)
    try:
        return upload.read_bytes()
    except FileNotFoundError:
        raise NotFound("no such import") from None


def update(key: str, **changes: Any) -> dict[str, Any]:
    data = {**record(key), **changes}
    _write_json(_paths(key)[1], data)
    return data


def claim(key: str) -> bool:
    """Mark the import as started, once: False if another request started it first."""
    _, meta = _paths(key)
    try:
        descriptor = os.open(meta.with_suffix(".started"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return False
    os.close(descriptor)
    return True


def release(key: str) -> None:
    """Allow the import to be started again (it stopped without writing anything)."""
    _paths(key)[1].with_suffix(".started").unlink(missing_ok=True)


def report(key: str, state: str, done: int = 0, total: int = 0, **extra: Any) -> None:
    update(key, run={"state": state, "done": done, "total": total, "heartbeat": utcnow().isoformat(), **extra})


def is_stale(run: dict[str, Any], now: datetime | None = None) -> bool:
    if run.get("state") not in RUNNING:
        return False
    heartbeat = datetime.fromisoformat(run["heartbeat"])
    return (now or utcnow()) - heartbeat > STALE_AFTER


def _forget(meta: Path) -> None:
    """Delete a staged import: its file, its claim and (last, so a reader never finds half) its record."""
    for suffix in (".upload", ".started", ".json"):
        meta.with_suffix(suffix).unlink(missing_ok=True)


def forget_before(cutoff: datetime) -> int:
    """Delete staged files and records last touched before `cutoff`; returns how many imports went."""
    forgotten = 0
    stamp = cutoff.timestamp()
    for meta in folder().glob("*.json"):
        if not KEY.fullmatch(meta.stem):
            continue
        try:
            if meta.stat().st_mtime >= stamp:
                continue
        except FileNotFoundError:
            continue
        _forget(meta)
        forgotten += 1
    return forgotten


def forget_mentioning(emails: set[str]) -> int:
    """Delete staged imports whose file or preview names any of `emails` (lower-cased): an erasure
    leaves nothing of the person behind, not even for the day a staged file would otherwise wait."""
    forgotten = 0
    for meta in folder().glob("*.json"):
        if not KEY.fullmatch(meta.stem):
            continue
        try:
            text = meta.read_text(encoding="utf-8").lower()
            cells = {
                cell.strip().lower()
                for _, row in read_sheet(meta.with_suffix(".upload").read_bytes()).rows
                for cell in row
            }
        except FileNotFoundError:
            continue
        except FileRefused:
            cells = set()
        if any(email in text or email in cells for email in emails):
            _forget(meta)
            forgotten += 1
    return forgotten
