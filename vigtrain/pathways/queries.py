"""Read-only queries about enrolments that several domains share (supervision, training, the API)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased, defaultload, lazyload
from sqlalchemy.orm.interfaces import LoaderOption

from vigtrain.accounts.models import User
from vigtrain.pathways.models import Enrolment, EnrolmentStatus

# An enrolment a supervisor still looks after: not completed or withdrawn.
OPEN_ENROLMENT = (EnrolmentStatus.ACTIVE, EnrolmentStatus.PAUSED)


def listed_by_name() -> tuple[LoaderOption, ...]:
    """Loader options for a list of enrolments that shows each trainee's name and pathway only.

    An enrolment loads its stages, service, supervisor and its trainee's roles with it, which a
    heavy supervisor's 70 trainees made most of the time of pages that only name them.
    """
    return (
        lazyload(Enrolment.stages),
        lazyload(Enrolment.service),
        lazyload(Enrolment.supervisor),
        defaultload(Enrolment.trainee).lazyload(User.role_rows),
    )


def supervised_enrolments(supervisor: User) -> Select:
    """Active and paused enrolments this person is the personal supervisor of, by trainee name.

    A query, so a page can paginate it; `db.session.scalars(...)` gives the list.
    """
    trainee = aliased(User)
    return (
        select(Enrolment)
        .join(trainee, trainee.id == Enrolment.trainee_id)
        .where(
            Enrolment.supervisor_id == supervisor.id,
            Enrolment.trainee_id != supervisor.id,
            Enrolment.status.in_(OPEN_ENROLMENT),
        )
        .order_by(trainee.display_name, Enrolment.id)
    )
