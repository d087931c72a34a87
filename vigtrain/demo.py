"""A deterministic demo: the same people, services and history every time it is loaded.

The history is dated in the story, counted back from today (see `vigtrain.dates.as_of`): the
services and people were set up when AVIGuk started using vigtrain, LIVE_DAYS_AGO days ago, and
every later step is stamped on its own day; only today's reminders and the invitation are new.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, event, insert, select

from vigtrain import audit
from vigtrain.accounts import services as accounts
from vigtrain.accounts.models import Role, User
from vigtrain.accounts.passwords import hash_password
from vigtrain.dates import UK, as_of, today, utcnow
from vigtrain.extensions import db
from vigtrain.links import public_url
from vigtrain.organisations import services as organisations
from vigtrain.organisations.models import Region, ServiceKind

# Published in the README: demo accounts hold invented people only.
DEMO_PASSWORD = "demo-attuned-guidance-2026"  # noqa: S105


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    roles: tuple[Role, ...]
    service: str | None
    note: str


DEMO_SERVICES = [
    ("Northfield Community Health NHS Trust", ServiceKind.NHS_TRUST, "E12000003"),
    ("Riverside Borough Council Early Help", ServiceKind.LOCAL_AUTHORITY, "E12000007"),
    ("Brightstart Family Charity", ServiceKind.CHARITY, "W92000004"),
    ("Glenmore Primary School", ServiceKind.SCHOOL, "S92000003"),
]

DEMO_PEOPLE = [
    DemoPerson("admin@example.org", "Amira Khan", (Role.ADMINISTRATOR,), None, "AVIGuk administrator"),
    DemoPerson(
        "helen.price@example.org",
        "Helen Price",
        (Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR, Role.PRACTITIONER),
        "Northfield Community Health NHS Trust",
        "supervisor and accrediting supervisor",
    ),
    DemoPerson(
        "daniel.okafor@example.org",
        "Daniel Okafor",
        (Role.SUPERVISOR, Role.ACCREDITING_SUPERVISOR, Role.PRACTITIONER),
        "Riverside Borough Council Early Help",
        "supervisor and accrediting supervisor",
    ),
    DemoPerson(
        "ruth.evans@example.org",
        "Ruth Evans",
        (Role.SUPERVISOR, Role.PRACTITIONER),
        "Brightstart Family Charity",
        "supervisor",
    ),
    DemoPerson(
        "sam.patel@example.org",
        "Sam Patel",
        (Role.TRAINEE,),
        "Northfield Community Health NHS Trust",
        "trainee in Stage 1",
    ),
    DemoPerson(
        "jo.williams@example.org",
        "Jo Williams",
        (Role.TRAINEE,),
        "Riverside Borough Council Early Help",
        "trainee who has submitted Stage 2",
    ),
    DemoPerson(
        "priya.shah@example.org",
        "Priya Shah",
        (Role.TRAINEE,),
        "Brightstart Family Charity",
        "trainee in Stage 3, with the accrediting supervisor",
    ),
    DemoPerson(
        "tom.hughes@example.org",
        "Tom Hughes",
        (Role.PRACTITIONER, Role.TRAINEE),
        "Northfield Community Health NHS Trust",
        "accredited practitioner training as a supervisor",
    ),
    DemoPerson(
        "lucy.morgan@example.org",
        "Lucy Morgan",
        (Role.PRACTITIONER,),
        "Glenmore Primary School",
        "accredited practitioner",
    ),
    DemoPerson(
        "aisha.rahman@example.org",
        "Aisha Rahman",
        (Role.TRAINEE,),
        "Northfield Community Health NHS Trust",
        "trainee whose Stage 1 was returned with comments",
    ),
    DemoPerson(
        "ben.carter@example.org",
        "Ben Carter",
        (Role.TRAINEE,),
        "Riverside Borough Council Early Help",
        "trainee with Stage 2 signed off, awaiting an accrediting supervisor",
    ),
    DemoPerson(
        "chloe.evans@example.org",
        "Chloe Evans",
        (Role.TRAINEE,),
        "Brightstart Family Charity",
        "trainee accredited, waiting for AVIGuk ratification",
    ),
    DemoPerson(
        "dev.malhotra@example.org",
        "Dev Malhotra",
        (Role.TRAINEE, Role.PRACTITIONER),
        "Glenmore Primary School",
        "accredited on the older pathway version",
    ),
    DemoPerson(
        "erin.walsh@example.org",
        "Erin Walsh",
        (Role.TRAINEE,),
        "Brightstart Family Charity",
        "VERP trainee, enrolment paused",
    ),
    DemoPerson(
        "nadia.hussain@example.org",
        "Nadia Hussain",
        (Role.PRACTITIONER,),
        "Riverside Borough Council Early Help",
        "accredited practitioner whose renewal is due",
    ),
    DemoPerson(
        "mark.bennett@example.org",
        "Mark Bennett",
        (Role.SERVICE_LEAD,),
        "Northfield Community Health NHS Trust",
        "service lead",
    ),
]

# When AVIGuk started using vigtrain in the story: before every step recorded in it, after the
# accreditations it holds from before (entered then, as the certificates demo does).
LIVE_DAYS_AGO = 1000

DEMO_INVITEE = DemoPerson(
    "chris.doyle@example.org", "Chris Doyle", (Role.TRAINEE,), "Riverside Borough Council Early Help", "invited trainee"
)


def demo_is_loaded() -> bool:
    return db.session.scalar(select(User.id).where(User.email == DEMO_PEOPLE[0].email)) is not None


def database_is_empty() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is None


def load_demo() -> None:
    """Create the demo people, services and their history, then today's reminders. Flushes; the caller commits."""
    with _in_time_order():
        _load_history()
        _read_the_history()
        _remind_as_of_today()
        _date_overdue_post_reminders()
    # The demo runs no scheduler: keep the training-flow figures and the report sums as their hourly
    # jobs would.
    from vigtrain.dcs.services import refresh_report_cells
    from vigtrain.flow import services as flow

    flow.refresh(today())
    refresh_report_cells()


def _load_history() -> None:
    organisations.ensure_regions()
    regions = {region.code: region for region in db.session.scalars(select(Region))}
    live = today() - timedelta(days=LIVE_DAYS_AGO)
    service_by_name = {}
    with as_of(datetime.combine(live, time(9, 0), UK)):
        for name, kind, region_code in DEMO_SERVICES:
            service_by_name[name] = organisations.create_service(None, name, kind, regions[region_code])
    password_hash = hash_password(DEMO_PASSWORD)
    people = {}
    for minutes, person in enumerate(DEMO_PEOPLE):
        with as_of(datetime.combine(live, time(10, 0), UK) + timedelta(minutes=minutes * 3)):
            user = User(
                email=person.email,
                display_name=person.name,
                password_hash=password_hash,
                password_changed_at=utcnow(),
                service=service_by_name.get(person.service),
            )
            user.set_roles(set(person.roles))
            db.session.add(user)
            db.session.flush()
            audit.record(None, "user.created_for_demo", user, after=accounts.user_snapshot(user))
        people[person.email] = user
    admin = people[DEMO_PEOPLE[0].email]
    accounts.invite_user(
        admin,
        DEMO_INVITEE.email,
        DEMO_INVITEE.name,
        set(DEMO_INVITEE.roles),
        service_by_name[DEMO_INVITEE.service],
        lambda token: public_url("accounts.accept_invitation", token=token),
    )
    from vigtrain.certificates.demo import demo_certificates
    from vigtrain.training.demo import load_training_demo

    load_training_demo(people)
    demo_certificates(people, live)

    from vigtrain.dcs.demo import load_outcomes_demo

    load_outcomes_demo()

    from vigtrain.training.demo_flow import load_flow_demo

    load_flow_demo(people)


@contextmanager
def _in_time_order() -> Iterator[None]:
    """The audit trail, inboxes and outbox list newest first by id, but the demo makes one person's
    history after another's: so it holds back the audit events made inside (the trail is append-only)
    and adds them in the order they happened, and renumbers the notifications and emails likewise."""
    from vigtrain.notifications.models import Notification, OutboxMessage

    session = db.session()
    held: list[audit.AuditEvent] = []

    def hold(session, flush_context, instances) -> None:
        for obj in list(session.new):
            if isinstance(obj, audit.AuditEvent):
                session.expunge(obj)
                held.append(obj)

    event.listen(session, "before_flush", hold)
    try:
        yield
    finally:
        event.remove(session, "before_flush", hold)
    session.add_all(sorted(held, key=lambda audit_event: audit_event.occurred_at))  # stable: ties keep their order
    session.flush()
    for model in (Notification, OutboxMessage):
        _renumber_by_time(model)


def _renumber_by_time(model) -> None:
    """Put every row of `model` back with ids in the order of its created_at (nothing refers to them)."""
    session = db.session()
    session.flush()
    for obj in [obj for obj in session.identity_map.values() if isinstance(obj, model)]:
        session.expunge(obj)
    table = model.__table__
    rows = session.execute(select(table).order_by(table.c.created_at, table.c.id)).mappings().all()
    session.execute(delete(table))
    if rows:
        session.execute(insert(table), [{key: value for key, value in row.items() if key != "id"} for row in rows])


def _read_the_history() -> None:
    """The demo's history was made by the services, which told people as each step happened; those
    steps are days to years old in the story, so their notifications were read within a day or so
    of arriving (never later than now)."""
    from vigtrain.notifications.models import Notification

    now = utcnow()
    for notification in db.session.scalars(select(Notification).where(Notification.read_at.is_(None))):
        later = notification.created_at + timedelta(hours=2 + notification.id * 7 % 29)
        notification.read_at = max(notification.created_at, min(later, now))
    db.session.flush()


def _remind_as_of_today() -> None:
    """What the reminder jobs would say today, on top of a history everyone has already read: they
    run as the scheduler would this morning (keyed, so the scheduler adds nothing twice). Reminders
    count from the dates in the story, so most fall due today or in the last few days."""
    from vigtrain.jobs.registry import JOBS

    for job in JOBS:
        if job.name.startswith("remind-"):
            job.function(today())


# Post-measure reminders that fell due longer ago than this were read soon after they came.
READ_REMINDERS_AFTER = timedelta(days=30)


def _date_overdue_post_reminders() -> None:
    """A post measure that fell due before today (a case closed months ago without one) was mentioned
    by the scheduler's run that morning, not today's: date its reminder and email then, read if
    it is more than a month old. The rule, from `reminders.services`: due REMIND_POST_MEASURE_AFTER
    after the pre measure, or when the case closes; the reminder's period names the pre measure."""
    from vigtrain.casework.models import Case, CaseStatus
    from vigtrain.dcs.models import Administration
    from vigtrain.notifications.models import Notification, NotificationKind, OutboxMessage

    after, on, now = current_app.config["REMIND_POST_MEASURE_AFTER"], today(), utcnow()
    reminders = db.session.scalars(
        select(Notification).where(
            Notification.kind == NotificationKind.POST_MEASURE_DUE,
            Notification.created_at >= datetime.combine(on, time(0), UK),
        )
    ).all()
    pres = {
        pre.id: (pre.administered_on, case)
        for pre, case in db.session.execute(
            select(Administration, Case)
            .join(Case, Case.id == Administration.case_id)
            .where(Administration.id.in_([int(n.period.removeprefix("pre:")) for n in reminders]))
        ).tuples()
    }
    for reminder in reminders:
        pre_on, case = pres[int(reminder.period.removeprefix("pre:"))]
        due = pre_on + after
        if case.status is not CaseStatus.OPEN and case.ended_on is not None:
            due = min(due, case.ended_on + timedelta(days=1))
        if due >= on:
            continue
        email = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.to_address == reminder.recipient.email,
                OutboxMessage.subject == reminder.title,
                OutboxMessage.created_at >= datetime.combine(on, time(0), UK),
            )
        )
        told = _morning(due)
        reminder.created_at = told
        reminder.emailed_at = told if reminder.emailed_at is not None else None
        if email is not None:
            email.created_at = told
        if on - due > READ_REMINDERS_AFTER:
            reminder.read_at = min(told + timedelta(hours=3 + reminder.id * 7 % 29), now)
    db.session.flush()


def _morning(day: date) -> datetime:
    """When the scheduler's daily reminders run: seven in the morning, UK time."""
    return datetime.combine(day, time(7, 0), UK)
