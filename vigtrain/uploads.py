"""Uploaded files: checked by size and content, stored under random names outside the web root.

A file's type is decided by its first bytes, never by its name or the browser's claim. Files
live in INSTANCE_DIR/uploads (or UPLOAD_FOLDER) under a random 32-hex key, and are only ever
sent back as attachments that the browser must not sniff or render.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import Response, current_app, send_file
from werkzeug.datastructures import FileStorage

from vigtrain.errors import DomainError, NotFound

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", XLSX: ".xlsx"}
# The part that only each kind of Office file has, read from the zip's directory.
OFFICE_PARTS = {"word/document.xml": DOCX, "xl/workbook.xml": XLSX}
KEY = re.compile(r"^[0-9a-f]{32}$")


class UploadError(DomainError):
    """The file was refused; the message says why, in words the person can act on."""


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed the checks, held in memory until `store` writes it."""

    data: bytes
    content_type: str
    filename: str

    @property
    def size(self) -> int:
        return len(self.data)

    def store(self) -> str:
        return store_bytes(self.data)


def max_upload_bytes() -> int:
    return int(current_app.config["UPLOAD_MAX_BYTES"])


def describe_size(size: int) -> str:
    """1.2 MB, 340 KB or 12 bytes."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if size >= 1024:
        return f"{round(size / 1024)} KB"
    return f"{size} bytes"


def detect_type(data: bytes) -> str | None:
    """The content type the bytes really are (of the types vigtrain accepts), else None."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                # Only the directory is read: nothing is extracted, so a zip bomb costs nothing.
                names = set(archive.namelist())
                return next((kind for part, kind in OFFICE_PARTS.items() if part in names), None)
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
    return None


def clean_filename(name: str | None, content_type: str) -> str:
    """The client's file name, for display and download only: no path, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C").strip()
    base = base.lstrip(".") or "file"
    extension = EXTENSIONS.get(content_type)
    if not extension:
        return base[:200]
    # The name ends in the extension of what the file really is, so it opens in the right program.
    if base.lower().endswith(extension):
        stem, suffix = base[: -len(extension)], base[-len(extension) :]
    else:
        stem, suffix = (base.rsplit(".", 1)[0] if "." in base else base), extension
    return (stem[: 200 - len(suffix)] or "file") + suffix


def check_upload(file_storage: FileStorage | None, allowed: dict[str, str]) -> CheckedUpload:
    """Refuse a missing, empty, too large or wrongly typed file; `allowed` maps type to its name."""
    if file_storage is None or not file_storage.filename:
        raise UploadError("Select a file to upload")
    limit = max_upload_bytes()
    data = file_storage.stream.read(limit + 1)
    if not data:
        raise UploadError("The selected file is empty")
    if len(data) > limit:
        raise UploadError(f"The selected file must be smaller than {describe_size(limit)}")
    content_type = detect_type(data)
    if content_type not in allowed:
        names = list(allowed.values())
        choices = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise UploadError(f"The selected file must be a {choices}")
    return CheckedUpload(
        data=data, content_type=content_type, filename=clean_filename(file_storage.filename, content_type)
    )


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def store_bytes(data: bytes) -> str:
    """Write `data` under a new random key (never a name the client chose); returns the key."""
    key = secrets.token_hex(16)
    fd = os.open(upload_folder() / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return key


def save_upload(file_storage: FileStorage | None, allowed: dict[str, str]) -> tuple[str, int, str]:
    """Check and store a file in one step: (key, size, content type)."""
    checked = check_upload(file_storage, allowed)
    return checked.store(), checked.size, checked.content_type


def upload_path(key: str) -> Path:
    if not KEY.match(key or ""):
        raise NotFound("No such file")
    path = upload_folder() / key
    if not path.is_file():
        raise NotFound("No such file")
    return path


def send_upload(key: str, download_name: str, content_type: str) -> Response:
    """Send a stored file as an attachment the browser must neither sniff nor render."""
    response = send_file(
        upload_path(key), mimetype=content_type, as_attachment=True, download_name=download_name, max_age=0
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
