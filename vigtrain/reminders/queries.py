"""The candidates for each reminder, chosen in SQL with the threshold in the WHERE clause.

Where a reminder's key can be written in SQL, the query also leaves out whoever already holds that
notification (an anti-join on `notification`'s unique key), so a daily run over the whole country
reads only what is new. That is a saving, not the guarantee: the unique key is what makes sure
nobody is told twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, String, and_, case, cast, exists, func, literal, or_, select, true
from sqlalchemy.orm import aliased, defaultload, joinedload, lazyload

from vigtrain.accounts.models import Role, User, UserRole
from vigtrain.casework.models import Case, CaseStatus
from vigtrain.certificates.models import Certificate, CertificateKind, CertificateStatus
from vigtrain.dates import UK
from vigtrain.dcs.models import Administration, Timepoint
from vigtrain.extensions import db
from vigtrain.notifications.models import Notification, NotificationKind
from vigtrain.pathways.models import Enrolment, EnrolmentStatus, StageRecord
from vigtrain.supervision.models import SessionStatus, SupervisionSession
from vigtrain.training.workflow import WAITS_FOR

# A post answered now would come after these, so once one is recorded the post is no longer due.
AFTER_PRE = (Timepoint.POST, Timepoint.FOLLOW_UP)


def start_of(day: date) -> datetime:
    """Midnight UK time at the start of `day`, in UTC: any moment before it falls on an earlier UK day."""
    return datetime.combine(day, time(0), tzinfo=UK).astimezone(UTC)


def on_or_before(day: date) -> datetime:
    """The first moment after `day` (UK time): a moment before it falls on `day` or earlier."""
    return start_of(day + timedelta(days=1))


# --- keys in SQL ---------------------------------------------------------------------------------


def _text(value) -> ColumnElement[str]:
    return cast(value, String)


def _iso(day_expression) -> ColumnElement[str]:
    """A date column as YYYY-MM-DD, as `date.isoformat` writes it (SQLite stores dates so already)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(day_expression, "YYYY-MM-DD")
    return _text(day_expression)


def key(*parts) -> ColumnElement[str]:
    """A notification subject or period built in SQL from fixed text and columns."""
    pieces = [literal(part, String) if isinstance(part, str) else part for part in parts]
    joined = pieces[0]
    for piece in pieces[1:]:
        joined = joined + piece
    return joined


def untold(recipient_id, kind: NotificationKind, subject, period) -> ColumnElement[bool]:
    """The recipient holds no notification with this key."""
    return ~exists().where(
        Notification.recipient_id == recipient_id,
        Notification.kind == kind,
        Notification.subject == subject,
        Notification.period == period,
    )


def _an_administrator_untold(kind: NotificationKind, subject, period) -> ColumnElement[bool]:
    return exists(
        select(UserRole.user_id)
        .join(User, User.id == UserRole.user_id)
        .where(
            UserRole.role == Role.ADMINISTRATOR,
            User.is_active_flag.is_(True),
            untold(UserRole.user_id, kind, subject, period),
        )
    )


# --- the candidates ------------------------------------------------------------------------------


def lapsed_enrolments(lapsed_on: date) -> Sequence[tuple[Enrolment, date | None]]:
    """Active enrolments whose last confirmed supervision session (or, with none, their start) is on or
    before `lapsed_on`, with that session's date (None: none yet); left out once the trainee and the
    supervisor both hold this lapse's key."""
    last = (
        select(func.max(SupervisionSession.session_date))
        .where(SupervisionSession.enrolment_id == Enrolment.id, SupervisionSession.status == SessionStatus.CONFIRMED)
        .correlate(Enrolment)
        .scalar_subquery()
    )
    since = func.coalesce(last, Enrolment.start_date)
    subject, period = key("enrolment:", _text(Enrolment.id)), key("since:", _iso(since))
    kind = NotificationKind.SUPERVISION_LAPSED
    query = (
        select(Enrolment, last)
        .where(
            Enrolment.status == EnrolmentStatus.ACTIVE,
            since <= lapsed_on,
            or_(
                untold(Enrolment.trainee_id, kind, subject, period),
                and_(Enrolment.supervisor_id.is_not(None), untold(Enrolment.supervisor_id, kind, subject, period)),
            ),
        )
        .options(lazyload(Enrolment.stages))
        .order_by(Enrolment.id)
    )
    return db.session.execute(query).tuples().all()


def _unconfirmed(logged_before: datetime):
    return (
        select(SupervisionSession)
        .join(SupervisionSession.enrolment)
        .where(
            SupervisionSession.status == SessionStatus.LOGGED,
            SupervisionSession.logged_at < logged_before,
            # Where sessions are logged: active training, and an accredited practitioner's continuing
            # record (renewal counts them); a paused or withdrawn record has nobody to chase.
            or_(Enrolment.status == EnrolmentStatus.ACTIVE, Enrolment.is_continuing),
        )
        .options(defaultload(SupervisionSession.enrolment).lazyload(Enrolment.stages))
        .order_by(SupervisionSession.id)
    )


def sessions_to_remind(logged_before: datetime, period: str) -> Sequence[SupervisionSession]:
    """Sessions still waiting for confirmation, logged before the moment given, whose supervisor has
    not had this reminder."""
    subject = key("session:", _text(SupervisionSession.id))
    told = untold(SupervisionSession.supervisor_id, NotificationKind.SESSION_UNCONFIRMED, subject, period)
    return db.session.scalars(_unconfirmed(logged_before).where(told)).all()


def sessions_to_escalate(logged_before: datetime, period: str) -> Sequence[SupervisionSession]:
    """Sessions still waiting for confirmation, logged before the moment given, that some active
    administrator has not been told of."""
    subject = key("session:", _text(SupervisionSession.id))
    return db.session.scalars(
        _unconfirmed(logged_before).where(_an_administrator_untold(NotificationKind.ESCALATION, subject, period))
    ).all()


def waiting_stages(since_before: datetime) -> Sequence[StageRecord]:
    """Stages that have waited (in a state of `WAITS_FOR`) since before the moment given.

    A state whose action needs an active enrolment waits only on active ones; ratification waits
    whatever the enrolment's status, as the action allows. Not filtered by key: the key holds the
    UK day the state began, which SQL would have to work out, and few stages wait this long.
    """
    states = [
        and_(
            StageRecord.state == state,
            Enrolment.status == EnrolmentStatus.ACTIVE if wait.action.needs_active else true(),
            StageRecord.is_final.is_(True) if wait.final_only else true(),
        )
        for state, wait in WAITS_FOR.items()
    ]
    return db.session.scalars(
        select(StageRecord)
        .join(StageRecord.enrolment)
        .where(or_(*states), StageRecord.state_since < since_before)
        .options(
            joinedload(StageRecord.enrolment, innerjoin=True).lazyload(Enrolment.stages),
            joinedload(StageRecord.accrediting_supervisor),
        )
        .order_by(StageRecord.id)
    ).all()


def posts_due(pre_on_or_before: date) -> Sequence[tuple[Administration, Case]]:
    """Pre administrations with no post (nor follow-up) on cases with DCS consent whose practitioner can
    sign in, where the pre is on or before the date given or the case is closed; left out once the
    practitioner holds this pre's key."""
    later = aliased(Administration)
    recorded_later = exists().where(
        later.case_id == Administration.case_id,
        later.measure_code == Administration.measure_code,
        later.timepoint.in_(AFTER_PRE),
    )
    subject = key("case:", _text(Case.id), ":", Administration.measure_code)
    period = key("pre:", _text(Administration.id))
    query = (
        select(Administration, Case)
        .join(Case, Case.id == Administration.case_id)
        .where(
            Administration.timepoint == Timepoint.PRE,
            Case.consent_dcs.is_(True),
            Case.practitioner.has(User.is_active_flag.is_(True)),
            or_(Administration.administered_on <= pre_on_or_before, Case.status != CaseStatus.OPEN),
            ~recorded_later,
            untold(Case.practitioner_id, NotificationKind.POST_MEASURE_DUE, subject, period),
        )
        .order_by(Administration.id)
    )
    return db.session.execute(query).tuples().all()


def expiring_certificates(day: date, thresholds: Sequence[int]) -> Sequence[Certificate]:
    """Valid accreditation certificates of holders who can sign in, last valid on `day` or within the
    furthest threshold (in days) of it; left out once the holder holds the nearest threshold's key."""
    nearest = case(
        *[(Certificate.valid_until <= day + timedelta(days=days), f"{days}-days") for days in sorted(thresholds)]
    )
    told = untold(
        Certificate.holder_id,
        NotificationKind.CERTIFICATE_EXPIRING,
        key("certificate:", _text(Certificate.id)),
        nearest,
    )
    return db.session.scalars(
        select(Certificate)
        .where(
            Certificate.kind == CertificateKind.ACCREDITATION,
            Certificate.status == CertificateStatus.VALID,
            Certificate.valid_until >= day,
            Certificate.valid_until <= day + timedelta(days=max(thresholds)),
            Certificate.holder.has(User.is_active_flag.is_(True)),
            told,
        )
        .options(joinedload(Certificate.enrolment).lazyload(Enrolment.stages))
        .order_by(Certificate.id)
    ).all()
