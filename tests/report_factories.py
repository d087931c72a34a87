"""Builders for DCS report tests: cases with measures through the real services, or outcome rows in bulk.

`record_case` goes through casework and DCS services exactly as a practitioner's entries do. `outcome_rows`
inserts cases and their `case_outcome` rows directly (classified with the real `classify`), for tests
that need dozens of cases with chosen scores in chosen groups.
"""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

from vigtrain import codes
from vigtrain.accounts.models import User
from vigtrain.casework.models import AgeBand, Case, CaseStatus, Population, Relationship
from vigtrain.casework.services import Consents, create_case, update_case
from vigtrain.dcs import services
from vigtrain.dcs.measures import get_measure
from vigtrain.dcs.models import CaseOutcome, Timepoint
from vigtrain.dcs.outcomes import classify
from vigtrain.extensions import db
from vigtrain.organisations.models import Region

START = date(2026, 1, 5)
_days = itertools.count()


def region(code: str = "E12000003") -> Region:
    return db.session.scalar(select(Region).where(Region.code == code))


def answers(total: int, items: int = 9, most: int = 3) -> dict[str, int]:
    """Option positions (0 = first option) giving `total` on a measure scored 0..`most` per item in order."""
    assert 0 <= total <= items * most
    positions = {}
    for number in range(1, items + 1):
        positions[str(number)] = min(most, total)
        total -= positions[str(number)]
    return positions


def record_case(
    practitioner: User,
    pre: int | None,
    post: int | None,
    consent: bool = True,
    population: Population = Population.EARLY_YEARS,
    relationship: Relationship = Relationship.PARENT_CHILD,
    measure: str = "PHQ-9",
    started_on: date = START,
) -> Case:
    """A case with a pre and/or post score recorded through the services, as a practitioner would."""
    consents = Consents(filming=started_on, supervision=started_on, dcs=started_on if consent else None)
    case = create_case(practitioner, relationship, AgeBand.THREE_TO_4, population, region(), started_on, consents)
    items, most = (9, 3) if measure == "PHQ-9" else (7, 3)
    if pre is not None:
        services.record_administration(
            practitioner, case, measure, Timepoint.PRE, started_on, answers(pre, items, most), date(2026, 3, 2)
        )
    if post is not None:
        services.record_administration(
            practitioner, case, measure, Timepoint.POST, date(2026, 2, 20), answers(post, items, most), date(2026, 3, 2)
        )
    db.session.commit()
    return case


def withdraw_dcs_consent(practitioner: User, case: Case, today: date = date(2026, 3, 2)) -> None:
    """The practitioner edits the case to record that its client no longer consents to the DCS."""
    update_case(
        practitioner,
        case,
        case.relationship_type,
        case.child_age_band,
        case.population,
        case.region,
        case.started_on,
        Consents(filming=case.started_on),
        today,
    )
    db.session.commit()


def outcome_rows(
    practitioner: User,
    scores: list[tuple[float | None, float | None]],
    consent: bool = True,
    population: Population = Population.EARLY_YEARS,
    relationship: Relationship = Relationship.PARENT_CHILD,
    region_code: str = "E12000003",
    service_id: int | None = -1,
    stage_number: int | None = None,
    measure: str = "PHQ-9",
    pre_on: date = START,
    status: CaseStatus = CaseStatus.OPEN,
) -> list[Case]:
    """One case per (pre, post) pair, with its case_outcome row as the services would keep it."""
    definition = get_measure(measure)
    place = region(region_code)
    service = practitioner.service_id if service_id == -1 else service_id
    cases = []
    for pre, post in scores:
        case = Case(
            code=codes.generate("VC"),
            practitioner_id=practitioner.id,
            service_id=service,
            region_id=place.id,
            relationship_type=relationship,
            child_age_band=AgeBand.THREE_TO_4,
            population=population,
            stage_number=stage_number,
            consent_dcs=consent,
            consent_dcs_on=pre_on if consent else None,
            started_on=pre_on,
            status=status,
            ended_on=None if status is CaseStatus.OPEN else pre_on,
        )
        db.session.add(case)
        db.session.flush()
        change = classify(definition, pre, post) if pre is not None and post is not None else None
        db.session.add(
            CaseOutcome(
                case_id=case.id,
                measure_code=definition.code,
                practitioner_id=practitioner.id,
                service_id=service,
                region_id=place.id,
                population=population,
                relationship_type=relationship,
                child_age_band=AgeBand.THREE_TO_4,
                stage_number=stage_number,
                consent_dcs=consent,
                status=status,
                pre=pre,
                pre_on=pre_on if pre is not None else None,
                post=post,
                post_on=pre_on if post is not None else None,
                change=change.change if change else None,
                classification=change.classification.value if change else None,
                pre_case=definition.is_case(pre) if pre is not None else None,
                recovery=change.recovery if change else None,
                reliable_recovery=change.reliable_recovery if change else None,
            )
        )
        cases.append(case)
    db.session.commit()
    return cases
