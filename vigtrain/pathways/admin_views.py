"""Enrolling trainees, the pathway browser, and the accreditation and ratification queues."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("training", __name__)
