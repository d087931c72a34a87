"""Secrets the database holds, encrypted with keys it never holds.

A TOTP secret is the same for the server and the person's phone, so it cannot be hashed: anyone
who had it could make codes. Columns of type `EncryptedString` keep such values as Fernet tokens
(AES-128-CBC with an HMAC-SHA256 over them), so a copy of the database or a backup reveals nothing
without the data keys, and a token altered or opened with the wrong key is refused, never
decrypted into garbage.

The data keys come from VIGTRAIN_DATA_KEYS (comma-separated) or, when that is unset, the file
instance/data-keys (one a line), made on first use. The first key encrypts; every key decrypts,
so a new key can be put first, `flask data-keys rotate` run, and the old key then removed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Column, MetaData, String, Table, Text, bindparam, column, select, table, update
from sqlalchemy.types import TypeDecorator

from vigtrain import audit
from vigtrain.extensions import db

KEYS_VARIABLE = "VIGTRAIN_DATA_KEYS"
KEYS_FILENAME = "data-keys"
# Every Fernet token starts with its version byte (0x80) and a 64-bit timestamp whose high bits stay
# zero until the year 4147, so base64 always begins "gAAAAA". No plaintext this app stores does
# (TOTP secrets are upper-case base32; messages start with words), which lets a migration tell them apart.
ENCRYPTED_PREFIX = "gAAAAA"
# How many values `reencrypt_all` holds in memory at once.
ROTATE_BATCH = 500


class DataKeyError(ValueError):
    """The data keys are missing or malformed: the application must not start without them."""


class DecryptionError(RuntimeError):
    """A stored value that none of the configured data keys opens."""


def new_data_key() -> str:
    """A fresh key: 32 random bytes, url-safe base64, as Fernet wants."""
    return Fernet.generate_key().decode()


def _check(keys: list[str], source: str) -> tuple[str, ...]:
    if not keys:
        raise DataKeyError(f"{source} holds no data key")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:  # (binascii.Error, for bad base64, is a ValueError too)
            raise DataKeyError(
                f"{source}: data key {number} is not a Fernet key (32 random bytes in url-safe base64)"
            ) from None
    return tuple(keys)


def _create_key_file(path: Path) -> None:
    """Write a new key file without exposing a half-written one or replacing an existing one.

    Workers starting at once each write a temporary file and hard-link it into place; the link
    fails for all but the first, and they all then read the winner's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(new_data_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load_data_keys(setting: str | None, path: Path) -> tuple[str, ...]:
    """The data keys, newest first: from `setting` (VIGTRAIN_DATA_KEYS) if given, else the key file.

    The file holds one key a line; blank lines and lines starting with # are ignored. It is made
    (mode 0600) with one new key if it does not exist yet, as the secret key and the certificate
    signing key are.
    """
    if setting and setting.strip():
        return _check([key.strip() for key in setting.split(",") if key.strip()], KEYS_VARIABLE)
    path = Path(path)
    if not path.exists():
        _create_key_file(path)
    lines = (line.strip() for line in path.read_text().splitlines())
    return _check([line for line in lines if line and not line.startswith("#")], str(path))


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def data_keys() -> MultiFernet:
    """The configured application's keys: the first encrypts, any of them decrypts."""
    return _fernet(tuple(current_app.config["DATA_KEYS"]))


def is_encrypted(value: str) -> bool:
    """Whether a stored value is a Fernet token rather than plaintext."""
    return value.startswith(ENCRYPTED_PREFIX)


def encrypt(value: str) -> str:
    return data_keys().encrypt(value.encode()).decode()


def _open(operation: Callable[[bytes], bytes], value: str, where: str) -> str:
    """Apply a key operation to a stored token, refusing plaintext and tokens no key opens."""
    if not is_encrypted(value):
        raise DecryptionError(f"{where} is not encrypted: run `flask db upgrade` to encrypt it")
    try:
        return operation(value.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            f"{where} cannot be decrypted with any of the configured data keys ({KEYS_VARIABLE} or "
            f"instance/{KEYS_FILENAME}): the key it was encrypted with is missing, or the value was altered"
        ) from None


def decrypt(value: str, where: str = "A value in an encrypted column") -> str:
    """The plaintext of a token; a token no configured key opens is refused, saying why."""
    return _open(data_keys().decrypt, value, where)


def ciphertext_length(plaintext_bytes: int) -> int:
    """How long the Fernet token of a value of at most `plaintext_bytes` bytes can be."""
    # version 1 + timestamp 8 + IV 16 + AES-CBC blocks (PKCS7 always pads) + HMAC 32, then base64.
    token = 1 + 8 + 16 + (plaintext_bytes // 16 + 1) * 16 + 32
    return -(-token // 3) * 4


class EncryptedString(TypeDecorator):
    """A string kept as a Fernet token: encrypted on the way in, decrypted on the way out.

    `length` is the longest value allowed, in bytes of UTF-8; the column is made long enough for
    its token. Without a length the column is TEXT. Values can only be compared with NULL: the same
    value encrypts differently every time.
    """

    impl = Text
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__()
        self.length = length
        self.impl = Text() if length is None else String(ciphertext_length(length))

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        if self.length is not None and len(value.encode()) > self.length:
            raise ValueError(f"An encrypted value may be at most {self.length} bytes long")
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None:
            return None
        return decrypt(value)


def encrypted_columns(metadata: MetaData) -> Iterator[tuple[Table, Column]]:
    """Every column in the schema that holds encrypted values."""
    for each in metadata.sorted_tables:
        for candidate in each.columns:
            if isinstance(candidate.type, EncryptedString):
                yield each, candidate


def reencrypt_all(batch_size: int = ROTATE_BATCH) -> int:
    """Encrypt every stored secret again with the newest data key; returns how many there were.

    Works on the stored tokens directly (not through the models), in batches by primary key, in the
    caller's transaction: if any value cannot be decrypted, nothing changes.
    """
    keys = data_keys()
    count = 0
    for source, encrypted in encrypted_columns(db.metadata):
        (key_column,) = source.primary_key.columns
        raw = table(source.name, column(key_column.name), column(encrypted.name))
        row_key, stored = raw.c[key_column.name], raw.c[encrypted.name]
        where = f"{source.name}.{encrypted.name}"
        rewrite = update(raw).where(row_key == bindparam("row_key")).values({stored: bindparam("token")})
        after = None
        while True:
            query = select(row_key, stored).where(stored.is_not(None)).order_by(row_key).limit(batch_size)
            if after is not None:
                query = query.where(row_key > after)
            rows = db.session.execute(query).all()
            if not rows:
                break
            tokens = [
                {"row_key": row_id, "token": _open(keys.rotate, token, f"{where} of row {row_id}")}
                for row_id, token in rows
            ]
            db.session.execute(rewrite, tokens)
            count += len(tokens)
            after = rows[-1][0]
    audit.record(None, "data_keys.rotated", ("DataKeys", None), after={"reencrypted": count})
    return count
