"""The pathway browser: every loaded version of every pathway, with its stages and requirements."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from vigtrain.extensions import db
from vigtrain.pagination import paginate
from vigtrain.pathways.definitions import UNITS, Requirement, RequirementKind
from vigtrain.pathways.models import Enrolment, PathwayVersion
from vigtrain.security import login_required, require

bp = Blueprint("pathways", __name__)


def requirement_target(requirement: Requirement) -> str:
    """The target in words, e.g. '6 cycles', '7 hours', or 'Required'."""
    if not requirement.counted:
        return "Required"
    target = requirement.target
    figure = f"{target:g}"
    if requirement.kind is RequirementKind.SUPERVISION_HOURS:
        return f"{figure} hour" + ("" if target == 1 else "s")
    singular, plural = UNITS[requirement.kind]
    return f"{figure} {singular if target == 1 else plural}"


def renewal_period(months: int) -> str:
    if months % 12 == 0:
        years = months // 12
        return f"Every {years} year" + ("s" if years != 1 else "")
    return f"Every {months} months"


@bp.route("/pathways")
@login_required
def list_pathways():
    page = paginate(
        select(PathwayVersion).order_by(PathwayVersion.name, PathwayVersion.version), request.args.get("page")
    )
    enrolments = {}
    if page.items:
        enrolments = dict(
            db.session.execute(
                select(Enrolment.pathway_version_id, func.count())
                .where(Enrolment.pathway_version_id.in_([version.id for version in page.items]))
                .group_by(Enrolment.pathway_version_id)
            )
            .tuples()
            .all()
        )
    return render_template("pathways/list_pathways.html", page=page, enrolments=enrolments)


@bp.route("/pathways/<code>/<version>")
@login_required
def show_pathway(code: str, version: str):
    found = db.session.scalar(
        select(PathwayVersion).where(PathwayVersion.code == code, PathwayVersion.version == version)
    )
    require(found is not None, "no such pathway version", 404)
    return render_template(
        "pathways/show_pathway.html",
        version=found,
        pathway=found.definition,
        requirement_target=requirement_target,
        renewal_period=renewal_period,
    )
