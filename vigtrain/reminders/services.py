"""The reminder and escalation rules: who is told what, once, when something has waited too long.

Each rule runs for a given day (the job's "today"), reads its thresholds from the settings, tells
people through `vigtrain.notifications.inbox` and returns how many notifications it newly made.
Every notification's key (recipient, kind, subject, period) names one occasion: a rule run twice,
or by two schedulers at once, finds the key taken and tells nobody again. The keys:

- supervision lapsed: `enrolment:{id}`, `since:{last confirmed session or start, ISO}`;
- session unconfirmed: `session:{id}`, `7-days`; its escalation `14-days`;
- stage waiting: `stage:{id}`, `{state}:{UK day the state began, ISO}:14-days`; escalation `…:28-days`
  (the subject is the stage alone, so the sign-off chain settles every reminder of it as it moves on);
- post measure due: `case:{id}:{measure code}`, `pre:{pre administration id}`;
- certificate expiring: `certificate:{id}`, `90-days` or `30-days` (the nearest threshold crossed).

Texts name trainees and supervisors, never clients: a case appears only as its code. Services
flush and never commit; the job runner commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import current_app

from vigtrain.accounts.models import Role, User
from vigtrain.accounts.queries import role_holders
from vigtrain.casework.models import Case
from vigtrain.certificates.models import Certificate
from vigtrain.certificates.services import renewal_progress
from vigtrain.dates import UK, format_date
from vigtrain.dcs.models import Administration
from vigtrain.extensions import db
from vigtrain.links import path_for
from vigtrain.notifications import inbox
from vigtrain.notifications.inbox import Tell
from vigtrain.notifications.models import NotificationKind
from vigtrain.pathways.models import Enrolment, StageRecord
from vigtrain.reminders import queries
from vigtrain.supervision.models import SupervisionSession
from vigtrain.training.workflow import WAITS_FOR, waiting_for


def _setting(name: str):
    return current_app.config[name]


def _days(count: int) -> str:
    """A span in words: 1 day, 12 days; whole weeks from two weeks on (6 weeks)."""
    if count >= 14 and count % 7 == 0:
        return f"{count // 7} weeks"
    return f"{count} day{'' if count == 1 else 's'}"


def _active_administrators() -> list[User]:
    return list(db.session.scalars(role_holders(Role.ADMINISTRATOR)))


# --- 1. no confirmed supervision for weeks ---------------------------------------------------------


def remind_supervision_lapsed(day: date) -> int:
    """Tell the trainee and their personal supervisor when an active enrolment has had no confirmed
    supervision session (or, with none yet, no start) for REMIND_SUPERVISION_LAPSE; once per lapse."""
    tells: list[Tell] = []
    for enrolment, last in queries.lapsed_enrolments(day - _setting("REMIND_SUPERVISION_LAPSE")):
        tells += _tell_lapse(enrolment, last, day)
    return len(inbox.tell_all(tells))


def _tell_lapse(enrolment: Enrolment, last: date | None, day: date) -> list[Tell]:
    since = last or enrolment.start_date
    subject, period = f"enrolment:{enrolment.id}", f"since:{since.isoformat()}"
    kind = NotificationKind.SUPERVISION_LAPSED
    trainee, supervisor = enrolment.trainee, enrolment.supervisor
    name, when, ago = trainee.display_name, format_date(since), _days((day - since).days)
    pathway = enrolment.pathway_version.name
    if last is None:
        fact = f"no confirmed supervision on the {pathway} pathway since it started on {when}, {ago} ago"
        yours, theirs = f"You have had {fact}.", f"{name} has had {fact}."
    else:
        fact = f"last confirmed supervision session on the {pathway} pathway was on {when}, {ago} ago"
        yours, theirs = f"Your {fact}.", f"{name}'s {fact}."
    tells = [
        Tell(
            trainee,
            kind,
            subject,
            period,
            f"No confirmed supervision since {when}",
            f"{yours} Book a session with your supervisor, and log any session you have had so that it can be "
            "confirmed.",
            path_for("supervision.list_sessions", enrolment=enrolment.id),
        )
    ]
    if supervisor is not None:
        tells.append(
            Tell(
                supervisor,
                kind,
                subject,
                period,
                f"{name} has had no confirmed supervision since {when}",
                f"{theirs} Arrange a session with them, and confirm any session they have logged with you.",
                path_for("supervision.trainee_log", enrolment_id=enrolment.id),
            )
        )
    return tells


# --- 2. sessions waiting for confirmation ---------------------------------------------------------


def remind_unconfirmed_sessions(day: date) -> int:
    """Remind a session's supervisor when it has waited REMIND_SESSION_UNCONFIRMED for confirmation
    (counted from the UK day it was logged), and tell every active administrator at
    ESCALATE_SESSION_UNCONFIRMED. Only sessions of active training and of accredited practitioners'
    continuing records."""
    remind_after, escalate_after = _setting("REMIND_SESSION_UNCONFIRMED"), _setting("ESCALATE_SESSION_UNCONFIRMED")
    remind_period, escalate_period = f"{remind_after.days}-days", f"{escalate_after.days}-days"
    tells = [
        Tell(
            session.supervisor,
            NotificationKind.SESSION_UNCONFIRMED,
            f"session:{session.id}",
            remind_period,
            f"{_session_name(session)} is waiting for your confirmation",
            f"{_session_facts(session, day)} It counts only once you confirm it. Open it to confirm it, or "
            "query it if something is not right.",
            path_for("supervision.show_session", session_id=session.id),
        )
        for session in queries.sessions_to_remind(queries.on_or_before(day - remind_after), remind_period)
    ]
    escalating = queries.sessions_to_escalate(queries.on_or_before(day - escalate_after), escalate_period)
    administrators = _active_administrators() if escalating else []
    for session in escalating:
        supervisor = session.supervisor.display_name
        tells += [
            Tell(
                administrator,
                NotificationKind.ESCALATION,
                f"session:{session.id}",
                escalate_period,
                f"{_session_name(session)} has waited {_days(_logged_days(session, day))} for {supervisor} to "
                "confirm it",
                f"{_session_facts(session, day)} {supervisor} was due to confirm it. Check with them (they may be "
                "away, or no longer supervising this trainee).",
                path_for("supervision.show_session", session_id=session.id),
            )
            for administrator in administrators
        ]
    return len(inbox.tell_all(tells))


def _session_name(session: SupervisionSession) -> str:
    what = "Correction to the session" if session.amends_id is not None else "Session"
    return f"{what} with {session.enrolment.trainee.display_name} on {format_date(session.session_date)}"


def _logged_days(session: SupervisionSession, day: date) -> int:
    return (day - session.logged_at.astimezone(UK).date()).days


def _session_facts(session: SupervisionSession, day: date) -> str:
    return (
        f"The supervision session of {format_date(session.session_date)} between "
        f"{session.enrolment.trainee.display_name} and {session.supervisor.display_name} was logged on "
        f"{format_date(session.logged_at.astimezone(UK))}, {_days(_logged_days(session, day))} ago, and is "
        "still waiting for confirmation."
    )


# --- 3. stages waiting for someone ----------------------------------------------------------------


def remind_waiting_stages(day: date) -> int:
    """Remind whoever a stage waits for (see `vigtrain.training.workflow.WAITS_FOR`) once it has waited
    REMIND_STAGE_WAITING in its state, and tell every active administrator at ESCALATE_STAGE_WAITING.
    Each time a stage enters a waiting state is a new occasion."""
    remind_after, escalate_after = _setting("REMIND_STAGE_WAITING"), _setting("ESCALATE_STAGE_WAITING")
    remind_period, escalate_period = f"{remind_after.days}-days", f"{escalate_after.days}-days"
    escalate_before = queries.on_or_before(day - escalate_after)
    records = queries.waiting_stages(queries.on_or_before(day - remind_after))
    administrators = _active_administrators() if records else []
    tells: list[Tell] = []
    for record in records:
        wait = WAITS_FOR[record.state]
        began = record.state_since.astimezone(UK).date()
        subject, occasion = f"stage:{record.id}", f"{record.state.value}:{began.isoformat()}"
        people = waiting_for(record, administrators)
        link = path_for("training.show_stage", enrolment_id=record.enrolment_id, stage_code=record.stage_code)
        tells += [
            Tell(
                person,
                NotificationKind.STAGE_WAITING,
                subject,
                f"{occasion}:{remind_period}",
                f"{_stage_name(record)} is waiting for {wait.for_you}",
                f"{_stage_facts(record, began, day)} Open the stage to {wait.to_do}.",
                link,
            )
            for person in people
        ]
        if record.state_since < escalate_before:
            tells += [
                Tell(
                    administrator,
                    NotificationKind.ESCALATION,
                    subject,
                    f"{occasion}:{escalate_period}",
                    f"{_stage_name(record)} has waited {_days(record.days_in_state(day))} for {wait.described(record)}",
                    f"{_stage_facts(record, began, day)} {_whom(people, administrators)}",
                    link,
                )
                for administrator in administrators
            ]
    return len(inbox.tell_all(tells))


def _stage_name(record: StageRecord) -> str:
    return f"{record.enrolment.trainee.display_name}'s {record.definition.name}"


def _stage_facts(record: StageRecord, began: date, day: date) -> str:
    return (
        f"{_stage_name(record)} ({record.enrolment.pathway_version.name}) has been "
        f"{record.state.label.lower()} since {format_date(began)}, {_days(record.days_in_state(day))} ago."
    )


def _whom(people: Sequence[User], administrators: Sequence[User]) -> str:
    """Who may move the stage on, for the administrators told that it has waited too long."""
    admin_ids = {person.id for person in administrators}
    named = [person.display_name for person in people if person.id not in admin_ids]
    if any(person.id in admin_ids for person in people):
        named.append("an administrator")
    if not named:
        return "Nobody can move it on now: check the trainee's personal and accrediting supervisors."
    return f"It waits for {' or '.join(named)}. Check with them, or ask someone else to take it on."


# --- 4. post measures due -------------------------------------------------------------------------


def remind_post_measures(day: date) -> int:
    """Tell a case's practitioner when a measure has a pre and no post, and the pre is
    REMIND_POST_MEASURE_AFTER old or the case is closed. Only cases with DCS consent; once per pre."""
    tells = [
        Tell(
            case.practitioner,
            NotificationKind.POST_MEASURE_DUE,
            f"case:{case.id}:{pre.measure_code}",
            f"pre:{pre.id}",
            f"Post {pre.measure_code} due for case {case.code}",
            _post_text(case, pre, pre.measure_code, day),
            path_for("casework.show_case", code=case.code),
        )
        for pre, case in queries.posts_due(day - _setting("REMIND_POST_MEASURE_AFTER"))
    ]
    return len(inbox.tell_all(tells))


def _post_text(case: Case, pre: Administration, name: str, day: date) -> str:
    pre_on = format_date(pre.administered_on)
    if not case.is_open:
        closed = f" on {format_date(case.ended_on)}" if case.ended_on else ""
        return (
            f"Case {case.code} was closed{closed} with a pre {name} ({pre_on}) and no post {name}. "
            "Without a post score the case cannot show change in the outcome data. If the client completed "
            "one before the case ended, record it from the case page with the day it was completed."
        )
    return (
        f"The pre {name} for case {case.code} was recorded on {pre_on}, "
        f"{_days((day - pre.administered_on).days)} ago, and no post {name} has been recorded. "
        "Record the post measure with the client as the intervention ends, or send them a link from the case page."
    )


# --- 5. accreditation expiring --------------------------------------------------------------------


def remind_expiring_certificates(day: date) -> int:
    """Tell holders as their accreditation nears its last valid day, at each of
    REMIND_CERTIFICATE_EXPIRY_DAYS (only the nearest threshold crossed), with what renewal needs
    and how far they are (`renewal_progress`, as their certificates page shows it)."""
    thresholds = sorted(_setting("REMIND_CERTIFICATE_EXPIRY_DAYS"))
    tells = []
    for certificate in queries.expiring_certificates(day, thresholds):
        left = (certificate.valid_until - day).days
        nearest = next(days for days in thresholds if left <= days)
        tells.append(
            Tell(
                certificate.holder,
                NotificationKind.CERTIFICATE_EXPIRING,
                f"certificate:{certificate.id}",
                f"{nearest}-days",
                f"Your accreditation ({certificate.credential}) expires on {format_date(certificate.valid_until)}",
                _expiry_text(certificate, left, day),
                path_for("certificates.your_certificates"),
            )
        )
    return len(inbox.tell_all(tells))


def _expiry_text(certificate: Certificate, left: int, day: date) -> str:
    progress = renewal_progress(certificate, day)
    ends = "today" if left == 0 else f"in {_days(left)}"
    text = (
        f"Certificate {certificate.number} is valid until {format_date(certificate.valid_until)} (it ends {ends}). "
        f"To renew it, AVIGuk asks for: {progress.asks_for}. Since {format_date(progress.period_start)}: "
        f"{progress.summary}."
    )
    if progress.awaiting_sessions:
        text += f" Waiting for your supervisor to confirm: {progress.waiting_summary}."
    if progress.requested_at is not None:
        return f"{text} You asked AVIGuk to renew it on {format_date(progress.requested_at.astimezone(UK))}."
    if progress.can_request:
        return f"{text} Ask AVIGuk to renew it from your certificates page."
    if progress.problem is not None:
        return f"{text} {progress.problem}."
    return (
        f"{text} Log the supervision you have had so that it can be confirmed, then ask AVIGuk to renew it "
        "from your certificates page."
    )
