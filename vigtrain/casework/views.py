"""A practitioner's cases and the VIG cycles recorded against them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("casework", __name__)
