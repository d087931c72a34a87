"""The OpenAPI document, and the page developers read it on (an interactive reference viewer)."""

from __future__ import annotations

from flask import jsonify, render_template

from vigtrain.api import bp
from vigtrain.api.openapi import document
from vigtrain.api.problems import PROBLEM_TYPES
from vigtrain.api_tokens.models import SCOPES


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(document())


@bp.get("/docs")
def show_docs():
    """How to call the API, the problem types it answers with, and the reference viewer.

    The viewer (Swagger UI, vendored in static/vendor) runs under the site's strict
    Content-Security-Policy: it is started from an external module and needs no inline script or style.
    """
    return render_template("api/docs.html", scopes=SCOPES, problem_types=PROBLEM_TYPES.values())
