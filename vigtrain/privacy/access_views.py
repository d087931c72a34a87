"""Subject access: a person downloads everything held about them; an administrator does so for anyone."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("subject_access", __name__)
