"""Plausible supervision for a demo trainee, and continuing supervision for an accredited practitioner,
made through the same services the pages use."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from vigtrain.accounts.models import User
from vigtrain.casework.models import Case, Cycle
from vigtrain.dates import UK, as_of, today, utcnow
from vigtrain.extensions import db
from vigtrain.pathways.definitions import principles
from vigtrain.pathways.models import Enrolment
from vigtrain.supervision.models import SessionFormat, SessionMode, SessionStatus, SupervisionSession
from vigtrain.supervision.sessions import SessionFacts, confirm_session, log_session, query_session

REFLECTIONS = [
    "I noticed how often I filled the pauses. When I waited, the parent named what she saw in the clip herself.",
    "We micro-analysed my second shared review. I received the father's initiatives well but moved on too fast.",
    "Looking at my own film I could see my body language was more open than I felt at the time.",
    "I chose clips of the moments just before attunement, which helped the parent see what she was already doing.",
    "My supervisor helped me see that I asked two questions at once; one question at a time gave more space.",
    "The group watched my clip of the teacher and pupil. Others spotted initiatives I had missed.",
    "I felt nervous about showing a clip where the parent looked away, but framing it as a pause worked well.",
    "We talked about how to deepen the discussion without giving advice. I want to try more wondering aloud.",
]
NEXT_STEPS = [
    "Wait longer after showing each clip before speaking.",
    "Choose one clip that shows the child's initiative being received.",
    "Try naming what I see in the clip, then hand back to the parent.",
    "Film the next shared review and bring a moment where I guided the discussion.",
    "Use the helping question at the start and end of the shared review.",
    None,
]
COMMENTS = [
    "A thoughtful session. Your reflection matches what we saw on the film.",
    "Good progress on receiving initiatives.",
    "Well prepared clips; keep bringing your own film.",
    None,
    None,
]
QUERY = (
    "I have this session down as 60 minutes, not 90, and I think we looked at a different case. "
    "Could you check the length and the case codes, then resubmit?"
)
TIMES = [time(9, 30), time(10, 0), time(11, 0), time(13, 30), time(14, 0), time(15, 30)]
CONTINUING_REFLECTIONS = [
    "A shared review with a foster carer where I rushed the second clip: we looked at how I could slow down.",
    "Progress had stalled with one family. Choosing a clip of a small success helped the parent take heart again.",
    "Working with an interpreter in shared reviews: I now brief the interpreter on what I will ask before we start.",
    "We reframed my helping question with a teacher around what she wants to see more of in her class.",
    "Ending an intervention well, and how to talk through the post measures with the parent.",
]


def _recent_film(film: Sequence[tuple[int, date]], day: date, rng: random.Random) -> tuple[int, ...]:
    """One or two of the cycles filmed in the six weeks before `day`: what a trainee brings to supervision."""
    recent = [cycle_id for cycle_id, filmed_on in film if day - timedelta(days=42) <= filmed_on <= day]
    return tuple(rng.sample(recent, min(len(recent), rng.randint(1, 2))))


def demo_supervision(
    enrolment: Enrolment, supervisor: User, start: date, end: date, rng: random.Random
) -> list[SupervisionSession]:
    """Sessions every two to four weeks between `start` and `end` (kept within the enrolment and
    before today), the latest a few days before `end`, logged by the trainee naming `supervisor` on
    the evening of each: the latest awaits confirmation, the third from last was queried, the rest
    were confirmed by `supervisor` within days, so supervision is current (it has not lapsed). The
    enrolment must be active and `supervisor` must hold the supervisor role. Deterministic for a
    given `rng` and today. Flushes.
    """
    trainee = enrolment.trainee
    on = today()
    start, end = max(start, enrolment.start_date), min(end, on - timedelta(days=1))
    codes = principles().codes
    # Film the client consented to show in supervision: (cycle id, filmed on), oldest first.
    film = list(
        db.session.execute(
            select(Cycle.id, Cycle.filmed_on)
            .join(Cycle.case)
            .where(Case.practitioner_id == trainee.id, Case.consent_supervision.is_(True))
            .order_by(Cycle.filmed_on, Cycle.id)
        ).tuples()
    )
    taken = set(
        db.session.execute(
            select(SupervisionSession.session_date, SupervisionSession.start_time).where(
                SupervisionSession.enrolment_id == enrolment.id,
                SupervisionSession.supervisor_id == supervisor.id,
                SupervisionSession.status != SessionStatus.SUPERSEDED,
            )
        ).tuples()
    )
    # Counted back from the latest, so the most recent sessions are recent whatever the span.
    days = []
    day = end - timedelta(days=rng.randint(1, 8))
    while day >= start:
        days.insert(0, day)
        day -= timedelta(days=rng.choice([14, 14, 21, 21, 28]) + rng.randint(-2, 2))

    sessions: list[SupervisionSession] = []
    for day in days:
        start_time = rng.choice(TIMES)
        if (day, start_time) in taken:
            continue
        group = rng.random() < 0.2
        facts = SessionFacts(
            session_date=day,
            start_time=start_time,
            duration_minutes=rng.choice([90, 120, 120]) if group else rng.choice([60, 60, 60, 90, 90, 120]),
            format=SessionFormat.GROUP if group else SessionFormat.INDIVIDUAL,
            group_size=rng.randint(3, 6) if group else None,
            mode=rng.choice([SessionMode.IN_PERSON, SessionMode.IN_PERSON, SessionMode.REMOTE]),
            clips_reviewed=rng.randint(2, 6),
            cycle_ids=() if group else _recent_film(film, day, rng),
            principles=tuple(rng.sample(codes, rng.randint(1, 3))),
            reflection=rng.choice(REFLECTIONS),
            next_steps=rng.choice(NEXT_STEPS),
        )
        with as_of(_evening(day)):
            sessions.append(log_session(trainee, enrolment, facts, day, supervisor=supervisor))

    waiting = 1 if len(sessions) > 4 else 0
    queried = len(sessions) - 3 if len(sessions) > 3 else None
    for index, session in enumerate(sessions[: len(sessions) - waiting]):
        later = _evening(session.session_date) + timedelta(days=rng.randint(1, 6), hours=rng.randint(-4, 1))
        with as_of(min(later, _evening(on - timedelta(days=1)))):
            if index == queried:
                query_session(supervisor, session, QUERY, session.version)
            else:
                confirm_session(supervisor, session, session.version, rng.choice(COMMENTS))
    return sessions


def demo_continuing_supervision(
    enrolment: Enrolment, supervisor: User, held: Sequence[tuple[date, int]], waiting: int = 0
) -> list[SupervisionSession]:
    """Supervision an accredited practitioner logged in their continuing record, naming `supervisor`,
    one session for each (date, minutes) in `held`: `supervisor` confirmed all but the last
    `waiting`. The record must be continuing and the dates on or after the accreditation. Flushes."""
    practitioner = enrolment.trainee
    codes = principles().codes
    sessions = []
    for index, (day, minutes) in enumerate(held):
        facts = SessionFacts(
            session_date=day,
            start_time=TIMES[index % len(TIMES)],
            duration_minutes=minutes,
            mode=SessionMode.REMOTE if index % 2 else SessionMode.IN_PERSON,
            clips_reviewed=2 + index % 3,
            principles=(codes[index % len(codes)], codes[(index + 3) % len(codes)]),
            reflection=CONTINUING_REFLECTIONS[index % len(CONTINUING_REFLECTIONS)],
        )
        with as_of(_evening(day)):
            sessions.append(log_session(practitioner, enrolment, facts, day, supervisor=supervisor))
    for index, session in enumerate(sessions[: len(sessions) - waiting]):
        with as_of(_evening(session.session_date) + timedelta(days=3, hours=-2)):
            confirm_session(supervisor, session, session.version, COMMENTS[index % len(COMMENTS)])
    return sessions


def _evening(day: date) -> datetime:
    """When a session held on `day` is logged: that evening, UK time (the demo dates its history so)."""
    moment = datetime.combine(day, time(18, 30), UK)
    return min(moment, utcnow())
