"""Erasure: an administrator erases a person, with a recorded reason, keeping what AVIGuk must keep."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("erasure", __name__, url_prefix="/admin/erasure")
