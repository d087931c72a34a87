"""Supervisor capacity for administrators: everyone's load on one page, and each person's limit.

The routes join the training blueprint, so this module is imported before the blueprint is registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from vigtrain import transactions
from vigtrain.accounts.models import ROLE_LABELS, Role, User
from vigtrain.extensions import db
from vigtrain.forms import form_status
from vigtrain.pagination import paginate
from vigtrain.security import administrator_required, require
from vigtrain.training import capacity
from vigtrain.training.forms import CapacityForm
from vigtrain.training.views import bp

MAX_SEARCH = 100
ROLE_FILTERS = {role.value: role for role in capacity.CAPACITY_ROLES}
SORTS = {"name": "Name", "load": "Most in hand first"}


@dataclass(frozen=True)
class Filters:
    """The page's search, read leniently: a value the page never offers counts as not given."""

    q: str = ""
    role: Role | None = None
    over: bool = False
    sort: str = "name"

    @classmethod
    def read(cls, args: MultiDict) -> Filters:
        return cls(
            q=" ".join(args.get("q", "").split())[:MAX_SEARCH],
            role=ROLE_FILTERS.get(args.get("role", "")),
            over=args.get("over") == "1",
            sort=args.get("sort") if args.get("sort") in SORTS else "name",
        )


@bp.route("/admin/capacity")
@administrator_required
def supervisor_capacity():
    filters = Filters.read(request.args)
    query = capacity.supervisors_query(filters.q, filters.role, filters.over, by_load=filters.sort == "load")
    page = paginate(query, request.args.get("page"))
    return render_template(
        "training/capacity.html",
        page=page,
        loads=capacity.loads([user.id for user in page.items]),
        filters=filters,
        roles=[(role.value, ROLE_LABELS[role]) for role in capacity.CAPACITY_ROLES],
        sorts=SORTS,
    )


@bp.route("/admin/capacity/<int:user_id>", methods=["GET", "POST"])
@administrator_required
def edit_capacity(user_id: int):
    user = db.session.get(User, user_id)
    require(user is not None and capacity.holds_capacity(user), "not a supervisor", 404)
    form = CapacityForm(data={"capacity": user.trainee_capacity})
    if form.validate_on_submit() and transactions.submit(
        form, lambda: capacity.set_capacity(current_user._get_current_object(), user, form.capacity.data)
    ):
        limit = "no limit" if user.trainee_capacity is None else f"a capacity of {user.trainee_capacity}"
        flash(f"{user.display_name} now has {limit}.", "success")
        return redirect(url_for(".supervisor_capacity"))
    load = capacity.loads([user.id])[user.id]
    return render_template("training/edit_capacity.html", user=user, load=load, form=form), form_status(form)
