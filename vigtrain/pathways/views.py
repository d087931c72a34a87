"""Enrolment and stage pages: progress, the sign-off chain, assessments and statements."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pathways", __name__)
