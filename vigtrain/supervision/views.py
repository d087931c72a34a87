"""The supervision log: trainees record sessions, supervisors confirm or query them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("supervision", __name__)
