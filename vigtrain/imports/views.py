"""Bulk import pages for administrators: upload, preview every problem, confirm, watch progress."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/admin/import")
