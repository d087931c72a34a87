"""Demo outcome data: realistic measures, with plausible improvement, on every demo case, and one
link waiting for a client to answer on their phone.

Recorded through the same services as live entry, so scores, outcomes and risk alerts are real,
each `as_of` the evening of the day it was taken (see `vigtrain.dates.as_of`), so the audit trail
and any alert are dated then. A seeded random generator keeps the figures the same on every load.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from vigtrain.accounts.models import User
from vigtrain.casework import services as casework
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Cycle, EndReason, Population, Relationship
from vigtrain.dates import UK, as_of, today
from vigtrain.dcs import invitations, services
from vigtrain.dcs.measures import Measure, get_measure
from vigtrain.dcs.models import Timepoint
from vigtrain.dcs.queries import post_measures_to_invite
from vigtrain.extensions import db
from vigtrain.organisations.models import Region
from vigtrain.pathways.models import Enrolment

# Which measures a service would use, by area of work (the published VIG studies' outcomes).
MEASURES_BY_POPULATION = {
    Population.PERINATAL: ["EPDS", "PBQ", "VIG-SCALING"],
    Population.EARLY_YEARS: ["PHQ-9", "GAD-7", "KPCS", "VIG-SCALING"],
    Population.FAMILY_SUPPORT: ["PHQ-9", "GAD-7", "GBO"],
    Population.CHILD_PROTECTION: ["SWEMWBS", "GBO", "VIG-SCALING"],
    Population.LOOKED_AFTER: ["WEMWBS", "GBO"],
    Population.NEURODEVELOPMENTAL: ["GAD-7", "SWEMWBS", "GBO"],
    Population.EDUCATION: ["GBO", "VIG-SCALING"],
    Population.MENTAL_HEALTH: ["PHQ-9", "GAD-7", "GBO"],
}
DEFAULT_MEASURES = ["PHQ-9", "GAD-7", "VIG-SCALING"]
MIN_WEEKS_FOR_POST = 8
# Where on each measure's range families referred for VIG usually start (0 best, 1 worst).
PRE_SEVERITY = {"PBQ": (0.15, 0.35), "KPCS": (0.25, 0.45)}


def _responses(measure: Measure, severity: float, rng: random.Random, calm: set[str]) -> dict[str, int]:
    """Answers whose scores sit near `severity` (0 = best possible, 1 = worst possible) on every item."""
    answers = {}
    for number, scores in measure.score_table.items():
        low, high = min(scores), max(scores)
        level = severity if not measure.higher_is_better else 1 - severity
        wanted = low + (high - low) * min(1.0, max(0.0, level + rng.uniform(-0.2, 0.2)))
        if number in calm:
            wanted = low if not measure.higher_is_better else high
        answers[number] = min(range(len(scores)), key=lambda position: abs(scores[position] - wanted))
    return answers


def _calm_items(measure: Measure) -> set[str]:
    """Risk items are answered at their calmest in the demo, except where a story sets one deliberately."""
    subscales = {subscale.code: subscale.items for subscale in measure.subscales}
    calm = set()
    for rule in measure.risk_rules:
        calm.update([rule.item] if rule.item else subscales[rule.subscale])
    return calm


def _evening(day: date) -> datetime:
    """When the practitioner entered what happened on `day`: that evening, UK time."""
    return datetime.combine(day, time(19, 0), UK)


def _record(case: Case, measure: Measure, timepoint: Timepoint, on: date, severity: float, rng, calm=None) -> None:
    responses = _responses(measure, severity, rng, _calm_items(measure) if calm is None else calm)
    if measure.code == "GBO":
        responses = {key: value for key, value in responses.items() if int(key) <= rng.choice([2, 3])}
    with as_of(_evening(on)):
        services.record_administration(case.practitioner, case, measure.code, timepoint, on, responses, on)


def _close(case: Case, status: CaseStatus, on: date, reason: EndReason | None) -> None:
    with as_of(_evening(on)):
        casework.close_case(case.practitioner, case, status, on, reason, None, on)


def load_outcomes_demo(rng: random.Random | None = None) -> None:
    """Pre measures on every case, post (and some follow-up) on cases whose work has run long enough."""
    rng = rng or random.Random(2026)  # noqa: S311 (demo figures, not security)
    now = today()
    last_review = dict(
        db.session.execute(select(Cycle.case_id, func.max(Cycle.shared_review_on)).group_by(Cycle.case_id)).all()
    )
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    risk_shown = False
    for index, case in enumerate(cases):
        codes = MEASURES_BY_POPULATION.get(case.population, DEFAULT_MEASURES)
        measures = [measure for code in codes if (measure := get_measure(code)) is not None]
        pre_on = case.started_on
        ended = last_review.get(case.id)
        has_post = ended is not None and (now - case.started_on).days >= MIN_WEEKS_FOR_POST * 7 and index % 7 != 3
        # Most families improve; some change little; one in twelve gets worse.
        effect = rng.choice([0.35, 0.3, 0.25, 0.25, 0.2, 0.15, 0.05, 0.0, 0.3, 0.2, 0.25, -0.1])
        closed_on = ended
        for measure in measures:
            pre_severity = rng.uniform(*PRE_SEVERITY.get(measure.code, (0.4, 0.75)))
            calm = _calm_items(measure)
            if not risk_shown and measure.code == "PHQ-9" and has_post:
                calm, risk_shown = set(), True  # one demo case shows the risk alert and the supervisor email
            _record(case, measure, Timepoint.PRE, pre_on, pre_severity, rng, calm)
            if has_post:
                post_on = min(now - timedelta(days=1), max(ended, pre_on) + timedelta(days=rng.randrange(1, 10)))
                _record(case, measure, Timepoint.POST, post_on, max(0.0, pre_severity - effect), rng)
                closed_on = max(closed_on, post_on)
                if index % 4 == 0 and (now - post_on).days > 60:
                    follow_on = post_on + timedelta(days=56)
                    _record(case, measure, Timepoint.FOLLOW_UP, follow_on, max(0.0, pre_severity - effect), rng)
        if has_post:
            _close(case, CaseStatus.COMPLETED, closed_on, None)
    _earlier_caseload(rng)
    _invite_one_client(cases)


EARLIER_CASES = 16  # per practitioner: enough for the reports above a practitioner to show figures
EARLIER_POPULATIONS = (Population.EARLY_YEARS, Population.FAMILY_SUPPORT, Population.MENTAL_HEALTH)


def _earlier_caseload(rng: random.Random) -> None:
    """Closed work from the year or so before, for the practitioners with cases, so that the service,
    regional and national reports have enough cases to show their figures rather than mostly *;
    none began before the practitioner's training did.
    """
    now = today()
    practitioners = db.session.scalars(
        select(User).where(User.id.in_(select(Case.practitioner_id).distinct())).order_by(User.id)
    ).all()
    first = select(Enrolment.trainee_id, func.min(Enrolment.start_date)).group_by(Enrolment.trainee_id)
    trained_from = dict(db.session.execute(first).all())
    regions = {region.code: region for region in db.session.scalars(select(Region))}
    for practitioner in practitioners:
        region = practitioner.service.region if practitioner.service else regions["E12000003"]
        # Begun 330 to 560 days ago or, for a newer trainee, in the first months of their training.
        oldest = min(560, (now - trained_from.get(practitioner.id, now - timedelta(days=560))).days)
        newest = max(150, min(330, oldest - 100))
        if newest >= oldest:
            continue
        for number in range(EARLIER_CASES):
            started = now - timedelta(days=rng.randrange(newest, oldest))
            population = EARLIER_POPULATIONS[number % len(EARLIER_POPULATIONS)]
            with as_of(_evening(started)):
                case = casework.create_case(
                    practitioner,
                    rng.choice([Relationship.PARENT_CHILD, Relationship.PARENT_CHILD, Relationship.PARENT_ADOLESCENT]),
                    rng.choice(list(AgeBand)),
                    population,
                    region,
                    started,
                    casework.Consents(filming=started, supervision=started, dcs=started),
                )
            effect = rng.choice([0.35, 0.3, 0.25, 0.2, 0.15, 0.05, 0.0, -0.1])
            ended = started + timedelta(days=rng.randrange(70, 140))
            completed = number % 6 != 5  # one in six has no post measure
            for code in MEASURES_BY_POPULATION[population]:
                measure = get_measure(code)
                severity = rng.uniform(*PRE_SEVERITY.get(code, (0.4, 0.75)))
                _record(case, measure, Timepoint.PRE, started, severity, rng)
                if completed:
                    _record(case, measure, Timepoint.POST, ended, max(0.0, severity - effect), rng)
            status, reason = (
                (CaseStatus.COMPLETED, None) if completed else (CaseStatus.ENDED_EARLY, rng.choice(list(EndReason)))
            )
            _close(case, status, ended, reason)


def _invite_one_client(cases: list[Case]) -> None:
    """One open case shows a link waiting for its client to answer the post measures on their phone.

    Only the link's digest is stored, so the demo cannot show the link itself: the case page lists it.
    """
    for case in cases:
        if case.is_open and case.consent_dcs and (measures := post_measures_to_invite(case)):
            invitations.create_invitation(
                case.practitioner, case, [measure.code for measure in measures], Timepoint.POST
            )
            return
